// The health checker of the appliance: follows the stored configuration (targets.ts), keeps
// each NIC's probes on its exception path (routing.ts), probes (checker.ts), and turns results
// into the engine's health overlay: a server down through the NIC it is forwarded through
// runs at weight 0 until it is back. Health is status: nothing is written to the store.

import type { Engine, HealthOverlay } from '../engine.js';
import type { Store } from '../../store/store.js';
import { HealthChecker, type CheckerObserver } from './checker.js';
import { createProbe } from './probe.js';
import { UdpProber } from './probes/udp.js';
import { ProbeRouting, type ProbePath, type RunIp } from './routing.js';
import { Scheduler, systemClock } from './scheduler.js';
import type { NativeNicStatus } from '../native.js';
import type { ProbeOutcome, Transition } from './state.js';
import { serverHealth, serviceHealth, effectiveState, type ServiceHealth } from './status.js';
import { healthTargets, type HealthTarget } from './targets.js';

/** What the API may name of a probe target (the health checker's door is this file). */
export type { HealthTarget } from './targets.js';

export interface HealthLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface HealthMonitorOptions {
  /** Runs `ip` for policy routing; tests without privileges pass a no-op. */
  runIp?: RunIp;
}

const silent: HealthLog = { info() {}, warn() {}, error() {} };

/** Links and taps are read from the engine's status, which sums every counter: not per probe. */
const linkCacheMs = 500;

function key(service: string, server: string): string {
  return `${service}\u0000${server}`;
}

export class HealthMonitor {
  private readonly checker: HealthChecker<HealthTarget>;
  private readonly udp = new UdpProber();
  private readonly routing: ProbeRouting;
  private readonly observers: CheckerObserver<HealthTarget>[] = [];
  private log: HealthLog = silent;
  private byServer = new Map<string, HealthTarget[]>();
  private byService = new Map<string, HealthTarget[][]>();
  private failing = new Set<string>();
  private applied = '';
  private syncQueued = false;
  private overlayQueued = false;
  private closed = false;
  private links: { at: number; nics: NativeNicStatus[] } | undefined;

  constructor(
    private readonly store: Store,
    private readonly engine: Engine,
    options: HealthMonitorOptions = {},
  ) {
    const probe = createProbe(this.udp, (nic) => this.nicLink(nic)?.linkUp === false);
    this.checker = new HealthChecker(probe, new Scheduler(systemClock), {
      probed: (target, outcome, ms) => this.probed(target, outcome, ms),
      changed: (target, transition) => this.changed(target, transition),
    });
    this.routing = new ProbeRouting((err) => this.log.error({ err }, 'probe routing failed'), options.runIp);
  }

  /** Starts probing what is stored and follows every later write. */
  start(log: HealthLog): void {
    this.log = log;
    this.store.onWrite({ apply: () => this.queueSync(), restore: () => this.queueSync() });
    this.sync();
  }

  /** Hears every probe and every transition (metrics). */
  observe(observer: CheckerObserver<HealthTarget>): void {
    this.observers.push(observer);
  }

  /** The health part of an object's `status`. */
  status(kind: string, scope: string, name: string): Record<string, unknown> {
    const healthOf = (t: HealthTarget) => this.checker.health(t.id);
    if (kind === 'real-servers') {
      // Checked but reached by no NIC with a probe address: an empty map says so.
      if (!this.byService.has(scope)) return {};
      return { health: serverHealth(this.byServer.get(key(scope, name)) ?? [], healthOf) };
    }
    if (kind === 'virtual-services') {
      const servers = this.byService.get(name);
      return servers ? { health: serviceHealth(servers, healthOf, this.failing) } : {};
    }
    return {};
  }

  /** Every checked service's `status.health` (the service health gauges). */
  *serviceStates(): IterableIterator<{ service: string; health: ServiceHealth }> {
    const healthOf = (t: HealthTarget) => this.checker.health(t.id);
    for (const [service, servers] of this.byService) yield { service, health: serviceHealth(servers, healthOf, this.failing) };
  }

  /** Every target's current state (the state gauge). */
  *states(): IterableIterator<{ target: HealthTarget; state: string }> {
    for (const { target, health } of this.checker.entries()) yield { target, state: health.state };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.checker.close();
    this.udp.close();
    await this.routing.close();
  }

  /** Writes run inside a transaction: the new targets are read once it has committed. */
  private queueSync(): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    setImmediate(() => {
      this.syncQueued = false;
      if (!this.closed) this.sync();
    });
  }

  private sync(): void {
    const targets = healthTargets(this.store);
    this.checker.set(targets);
    this.byServer = new Map();
    for (const t of targets) {
      const k = key(t.service, t.server);
      this.byServer.set(k, [...(this.byServer.get(k) ?? []), t]);
    }
    this.byService = new Map();
    for (const rs of this.store.all('real-servers')) {
      const service = this.store.get('virtual-services', '', rs.scope)?.spec;
      if (service?.healthCheck === undefined) continue;
      const servers = this.byService.get(rs.scope) ?? [];
      servers.push(this.byServer.get(key(rs.scope, rs.name)) ?? []);
      this.byService.set(rs.scope, servers);
    }
    void this.routing.sync(this.probePaths());
    this.queueOverlay();
  }

  private nicStatus(fresh = false): NativeNicStatus[] {
    const now = performance.now();
    if (fresh || !this.links || now - this.links.at > linkCacheMs) this.links = { at: now, nics: this.engine.counters()?.nics ?? [] };
    return this.links.nics;
  }

  private nicLink(nic: string): NativeNicStatus | undefined {
    return this.nicStatus().find((n) => n.name === nic);
  }

  /** Right after a write: a NIC just added has its tap now. */
  private probePaths(): ProbePath[] {
    const routes = this.store.all('routes').map((o) => o.spec);
    const taps = new Map(this.nicStatus(true).map((n) => [n.name, n.tap]));
    const paths: ProbePath[] = [];
    for (const nic of this.store.all('nics')) {
      const spec = nic.spec;
      const tap = taps.get(nic.name);
      if (!spec.probeAddress || !tap) continue;
      paths.push({
        nic: nic.name,
        tap,
        source: spec.probeAddress.split('/')[0],
        networks: spec.networks,
        routes: routes.filter((r) => r.nic === nic.name).map(({ prefix, via }) => ({ prefix, via })),
        gateway: spec.gateway,
      });
    }
    return paths;
  }

  private probed(target: HealthTarget, outcome: ProbeOutcome, ms: number): void {
    for (const o of this.observers) o.probed?.(target, outcome, ms);
  }

  private changed(target: HealthTarget, transition: Transition): void {
    const details = { service: target.service, realServer: target.server, nic: target.nic, from: transition.from, to: transition.to };
    const where = `real server ${target.server} of ${target.service} through NIC ${target.nic}`;
    if (transition.to === 'down') this.log.warn({ ...details, cause: transition.cause.error }, `${where} is down: ${transition.cause.error}`);
    else this.log.info({ ...details, cause: 'its probes succeed' }, `${where} is ${transition.to}: its probes succeed`);
    for (const o of this.observers) o.changed?.(target, transition);
    this.queueOverlay();
  }

  /** Results arrive in bursts: the engine gets their sum once. */
  private queueOverlay(): void {
    if (this.overlayQueued) return;
    this.overlayQueued = true;
    setImmediate(() => {
      this.overlayQueued = false;
      if (!this.closed) this.applyOverlay();
    });
  }

  private applyOverlay(): void {
    const healthOf = (t: HealthTarget) => this.checker.health(t.id);
    const down = new Map<string, Set<string>>();
    for (const targets of this.byServer.values()) {
      if (effectiveState(targets, healthOf) !== 'down') continue;
      const { service, server } = targets[0];
      down.set(service, (down.get(service) ?? new Set()).add(server));
    }
    this.failing = this.failingNics();
    const fingerprint = JSON.stringify([...down].map(([s, names]) => [s, [...names].sort()]).sort());
    if (fingerprint === this.applied) return;
    try {
      this.engine.applyHealth(down as HealthOverlay);
      this.applied = fingerprint;
    } catch (err) {
      this.log.error({ err }, 'the engine did not take the health weights');
    }
  }

  /** NICs whose link is down, or through which every target is down. */
  private failingNics(): Set<string> {
    const probed = new Map<string, boolean>();
    for (const { target, health } of this.checker.entries()) {
      probed.set(target.nic, (probed.get(target.nic) ?? true) && health.state === 'down');
    }
    const failing = new Set([...probed].filter(([, allDown]) => allDown).map(([nic]) => nic));
    for (const nic of this.nicStatus()) if (!nic.linkUp) failing.add(nic.name);
    return failing;
  }
}
