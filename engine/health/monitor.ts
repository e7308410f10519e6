// The health checker of the appliance: follows the stored configuration (targets.ts), keeps
// each NIC's probes on its exception path (routing.ts), probes (checker.ts), and turns results
// into the engine's health overlay: a server down through the NIC it is forwarded through
// runs at weight 0 until it is back. Health is status: nothing is written to the store.
//
// Cost: a write of services or real servers re-reads the targets of those services alone, and
// a transition updates the down set of its one server; only a write of NICs, routes or health
// checks (what every target depends on) reads all targets again.

import type { Engine } from '../engine.js';
import type { Commit, Store } from '../../store/store.js';
import { familyOf } from '../../store/ip.js';
import { HealthChecker, type CheckerObserver } from './checker.js';
import { createProbe } from './probe.js';
import { UdpProber } from './probes/udp.js';
import { ProbeRouting, type ProbePath, type RunIp } from './routing.js';
import { Scheduler, systemClock } from './scheduler.js';
import type { NativeNicStatus } from '../dataplane/native.js';
import type { ProbeOutcome, Transition } from './state.js';
import { serverHealth, serviceHealth, effectiveState, type ServiceHealth } from './status.js';
import { healthTargets, serviceTargets, TargetContext, type HealthTarget, type ServiceTargets } from './targets.js';

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
  /** Checked services' targets, by service; and each server's targets, by key(service, server). */
  private targets = new Map<string, ServiceTargets>();
  private byServer = new Map<string, HealthTarget[]>();
  /** Servers down through their egress NIC, by service: the overlay the engine runs. */
  private down = new Map<string, Set<string>>();
  private overlayDirty = true;
  private failing: { at: number; nics: Set<string> } | undefined;
  /** Services whose targets a write changed since the last sync; 'all' after NICs, routes or checks. */
  private pending: Set<string> | 'all' | undefined;
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
    this.store.onWrite({ apply: (commit) => this.queueSync(commit), restore: () => this.queueSync() });
    this.syncAll();
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
      if (!this.targets.has(scope)) return {};
      return { health: serverHealth(this.byServer.get(key(scope, name)) ?? [], healthOf) };
    }
    if (kind === 'virtual-services') {
      const checked = this.targets.get(name);
      return checked ? { health: serviceHealth([...checked.servers.values()], healthOf, this.failingNics()) } : {};
    }
    return {};
  }

  /** Every checked service's `status.health` (the service health gauges). */
  *serviceStates(): IterableIterator<{ service: string; health: ServiceHealth }> {
    const healthOf = (t: HealthTarget) => this.checker.health(t.id);
    const failing = this.failingNics();
    for (const [service, checked] of this.targets) {
      yield { service, health: serviceHealth([...checked.servers.values()], healthOf, failing) };
    }
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
  private queueSync(commit?: Commit): void {
    const touched = commit ? servicesTouched(commit) : 'all';
    if (touched === 'all' || this.pending === 'all') this.pending = 'all';
    else this.pending = new Set([...(this.pending ?? []), ...touched]);
    if (this.syncQueued) return;
    this.syncQueued = true;
    setImmediate(() => {
      this.syncQueued = false;
      const pending = this.pending;
      this.pending = undefined;
      if (this.closed || !pending) return;
      if (pending === 'all') this.syncAll();
      else this.syncServices(pending);
    });
  }

  /** Reads every target: at start, and after a write of what every target depends on. */
  private syncAll(): void {
    const targets = healthTargets(this.store);
    this.checker.set([...targets.values()].flatMap((t) => t.targets));
    for (const service of [...this.targets.keys()]) this.forget(service);
    for (const [service, checked] of targets) this.index(service, checked);
    this.overlayDirty = true;
    void this.routing.sync(this.probePaths());
    this.queueOverlay();
  }

  /** Reads the targets of `services` alone (a write of services or real servers). */
  private syncServices(services: Set<string>): void {
    const context = new TargetContext(this.store);
    for (const service of services) {
      const before = this.targets.get(service);
      const after = serviceTargets(this.store, context, service);
      this.checker.replace(before?.targets ?? [], after?.targets ?? []);
      this.forget(service);
      if (after) this.index(service, after);
    }
    this.queueOverlay();
  }

  private index(service: string, checked: ServiceTargets): void {
    this.targets.set(service, checked);
    for (const [server, targets] of checked.servers) {
      this.byServer.set(key(service, server), targets);
      this.updateDown(service, server);
    }
  }

  private forget(service: string): void {
    const checked = this.targets.get(service);
    if (!checked) return;
    for (const server of checked.servers.keys()) this.byServer.delete(key(service, server));
    this.targets.delete(service);
    if (this.down.delete(service)) this.overlayDirty = true;
  }

  /** Brings one server's entry in the down set in line with its egress target's state. */
  private updateDown(service: string, server: string): void {
    const targets = this.byServer.get(key(service, server)) ?? [];
    const isDown = effectiveState(targets, (t) => this.checker.health(t.id)) === 'down';
    const servers = this.down.get(service);
    if (isDown === (servers?.has(server) ?? false)) return;
    this.overlayDirty = true;
    if (isDown) this.down.set(service, (servers ?? new Set()).add(server));
    else if (servers!.size === 1) this.down.delete(service);
    else servers!.delete(server);
  }

  private nicStatus(fresh = false): NativeNicStatus[] {
    const now = performance.now();
    if (fresh || !this.links || now - this.links.at > linkCacheMs) this.links = { at: now, nics: this.engine.nics() };
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
      if (!tap) continue;
      for (const [family, probe] of [[4, spec.probeAddress], [6, spec.probeAddress6]] as const) {
        if (!probe) continue;
        // Probes of a family leave from its address, so only what that family reaches goes in its table.
        const ofFamily = (text: string) => familyOf(text) === family;
        paths.push({
          nic: nic.name,
          family,
          tap,
          source: probe.split('/')[0],
          networks: spec.networks.filter(ofFamily),
          routes: routes.filter((r) => r.nic === nic.name && ofFamily(r.prefix)).map(({ prefix, via }) => ({ prefix, via })),
          gateway: spec.gateway && ofFamily(spec.gateway) ? spec.gateway : undefined,
        });
      }
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
    this.failing = undefined;
    this.updateDown(target.service, target.server);
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

  /** The engine keeps the overlay it is given: it gets a copy, which it compares with the last. */
  private applyOverlay(): void {
    if (!this.overlayDirty) return;
    try {
      this.engine.applyHealth(new Map([...this.down].map(([service, servers]) => [service, new Set(servers)])));
      this.overlayDirty = false;
    } catch (err) {
      this.log.error({ err }, 'the engine did not take the health weights');
    }
  }

  /** NICs whose link is down, or through which every target is down; read when shown, kept briefly. */
  private failingNics(): Set<string> {
    const now = performance.now();
    if (this.failing && now - this.failing.at <= linkCacheMs) return this.failing.nics;
    const probed = new Map<string, boolean>();
    for (const { target, health } of this.checker.entries()) {
      probed.set(target.nic, (probed.get(target.nic) ?? true) && health.state === 'down');
    }
    const nics = new Set([...probed].filter(([, allDown]) => allDown).map(([nic]) => nic));
    for (const nic of this.nicStatus()) if (!nic.linkUp) nics.add(nic.name);
    this.failing = { at: now, nics };
    return nics;
  }
}

/** The services whose targets a commit may change; 'all' when it wrote what every target depends on. */
function servicesTouched(commit: Commit): Set<string> | 'all' {
  const services = new Set<string>();
  for (const change of commit.changes) {
    if (change.kind === 'nics' || change.kind === 'routes' || change.kind === 'health-checks') return 'all';
    if (change.kind === 'virtual-services') services.add(change.name);
    if (change.kind === 'real-servers') services.add(change.scope);
  }
  return services;
}
