import { parseDevice } from '../../store/devices.js';
import { ConfigError, invalid } from '../../store/errors.js';
import type { KindName } from '../../store/kinds.js';
import type { Change, Commit, ConfigReader } from '../../store/store.js';
import { DesiredConfig, isEngineObject, type Touched } from './desired-config.js';
import { EngineFailed, type Engine, type HealthOverlay, type Session, type SessionPage, type SessionQuery } from '../engine.js';
import { managementRefusal, type ApiListen } from './management-interfaces.js';
import { loadNative, type NativeConfig, type NativeEngine, type NativeError, type NativeService, type NativeSession, type NativeStatus } from './native.js';
import { StatusCache } from './status-cache.js';
import { BgpAnnouncer, type BgpStatus, type NicPath } from '../bgp/announcer.js';
import { bgpSettingsName, toBgpSettings, type BgpSpec } from '../bgp/settings.js';
import { SyncController } from '../sync/controller.js';
import type { PoolAddresses } from '../sync/controller.js';
import type { SyncStateChange, SyncStatus } from '../sync/stats.js';

export interface DpdkEngineOptions {
  workers: number;
  idle: 'adaptive' | 'busy';
  sessionsPerWorker: number;
  /** Where the API listens, so no NIC takes over its interface; null allows any interface. */
  protectManagement: ApiListen | null;
}

function toSession(s: NativeSession): Session {
  return {
    protocol: s.protocol === 17 ? 'udp' : 'tcp',
    state: s.state,
    client: { address: s.clientAddress, port: s.clientPort },
    virtual: { address: s.virtualAddress, port: s.virtualPort },
    local: { address: s.localAddress, port: s.localPort },
    realServer: { address: s.serverAddress, port: s.serverPort },
    virtualService: s.service,
    realServerName: s.server,
    worker: s.worker,
    expiresInMs: s.expiresInMs,
    origin: s.fromPeer ? 'peer' : 'local',
  };
}

/**
 * The DPDK data plane, in this process. Every commit is applied before the transaction that
 * made it commits (the store calls apply() inside it), so a refusal rolls the write back and
 * the stored configuration never runs ahead of the data plane.
 */
export class DpdkEngine implements Engine {
  readonly mode = 'dpdk' as const;
  private readonly native: NativeEngine;
  private readonly desired = new DesiredConfig();
  private loaded = false;
  private applied = 0;
  private readonly statusCache: StatusCache;
  private readonly sync: SyncController;
  /** Multi-active: the local addresses peers own, by pool, as the sync bridge last said. */
  private peerAddresses: PoolAddresses = {};
  private readonly bgp: BgpAnnouncer;

  constructor(private readonly options: DpdkEngineOptions) {
    const { Engine } = loadNative();
    const { workers, idle, sessionsPerWorker } = options;
    this.native = new Engine({ workers, idle, sessionsPerWorker, instance: String(process.pid) });
    this.statusCache = new StatusCache((service) => this.native.status(service));
    this.sync = new SyncController(this.native, options.workers, (addresses) => this.peersMoved(addresses));
    this.bgp = new BgpAnnouncer({
      ready: () => this.loaded && this.sync.clusterReady(),
      vips: () => this.desired.vips(),
      localAddresses: () => this.desired.localAddresses(),
      paths: () => this.bgpPaths(),
    });
  }

  /** Each NIC with a probe address and an open tap: where its BGP sessions run, from the probe address of their family. */
  private bgpPaths(): Map<string, NicPath> {
    const probes = this.desired.probeAddresses();
    const paths = new Map<string, NicPath>();
    for (const nic of this.native.nics()) {
      const sources = probes.get(nic.name);
      if (nic.tap && sources) paths.set(nic.name, { tap: nic.tap, sources });
    }
    return paths;
  }

  /** The speaker follows the stored `bgp` object (and the NICs it names, as they are now). */
  private followBgp(config: ConfigReader): void {
    const stored = config.get('settings', '', bgpSettingsName);
    this.bgp.follow(stored ? toBgpSettings(stored.spec as BgpSpec) : undefined);
  }

  /** Runs `config` on the data plane; when it was accepted, the sync bridge follows the settings. */
  private run(config: NativeConfig): NativeError[] {
    const pools = config.pools.map((p) => ({ ...p, peerAddresses: this.peerAddresses[p.name] ?? [] }));
    const errors = this.native.apply({ ...config, pools });
    if (errors.length === 0) this.sync.follow(this.desired.syncSettings(), config.pools, this.desired.maxTimeoutSeconds());
    return errors;
  }

  /** Sends only `services` (as desired now; those gone are removed): NICs, routes, pools and sync are as they were. */
  private runServices(generation: number, services: Set<string>): NativeError[] {
    const present: NativeService[] = [];
    const removed: string[] = [];
    for (const name of services) {
      const service = this.desired.service(name);
      if (service) present.push(service);
      else removed.push(name);
    }
    const errors = this.native.updateServices(generation, present, removed);
    if (errors.length === 0) this.sync.setMaxTimeout(this.desired.maxTimeoutSeconds());
    return errors;
  }

  /**
   * Peers' local addresses changed (a cluster peer joined, changed its pools, or claimed an
   * address): the running configuration is applied again with them. Rare, so a whole apply.
   */
  private peersMoved(addresses: PoolAddresses): void {
    this.peerAddresses = addresses;
    if (!this.loaded) return;
    const errors = this.run(this.desired.toNative(this.applied));
    if (errors.length) this.sync.counters.noteError(`peers' local addresses were refused: ${errors.map((e) => e.message).join('; ')}`);
  }

  /** Refuses a NIC written onto a management interface of the host. */
  private checkManagement(commit: Commit, config: ConfigReader): void {
    const listen = this.options.protectManagement;
    if (!listen) return;
    for (const change of commit.changes) {
      if (change.kind !== 'nics' || change.op !== 'put') continue;
      const device = parseDevice(config.get('nics', '', change.name)!.spec.device as string);
      const refusal = typeof device === 'string' ? device : managementRefusal(device, listen);
      if (refusal) throw invalid('/device', refusal);
    }
  }

  /**
   * A commit of services and real servers only is sent as those services (the data plane
   * rebuilds them alone); any other forwarding change, and the first apply, as the whole
   * configuration. Other changes (health checks) reach the data plane through other parts.
   */
  apply(commit: Commit, config: ConfigReader): void {
    this.checkManagement(commit, config);
    const first = !this.loaded;
    let touched: Touched = { undo: new Map(), structural: true, services: new Set() };
    if (first) {
      this.desired.load(config);
      this.loaded = true;
    } else if (commit.changes.some((c) => isEngineObject(c.kind, c.name))) {
      touched = this.desired.update(commit.changes, config);
    } else {
      this.applied = commit.generation;
      if (commit.changes.some((c) => c.kind === 'settings' && c.name === bgpSettingsName)) this.followBgp(config);
      return;
    }
    this.statusCache.forget(touched.structural ? undefined : touched.services);
    const errors = touched.structural ? this.run(this.desired.toNative(commit.generation)) : this.runServices(commit.generation, touched.services);
    if (errors.length === 0) {
      this.applied = commit.generation;
      if (touched.structural) this.followBgp(config);
      else this.bgp.refresh();
      return;
    }
    // A refusal found by the data plane's checks changed nothing; a later failure may have
    // changed part of it, so the last accepted configuration is applied again.
    if (first) this.loaded = false;
    else {
      this.desired.restore(touched.undo);
      this.run(this.desired.toNative(this.applied));
    }
    throw refusal(errors, commit.changes);
  }

  /**
   * Runs the services whose servers' health changed again, with the new weights. Between
   * writes the desired copy is what was applied (writes are synchronous), so nothing else
   * differs. Before the first apply there is nothing to run yet.
   */
  applyHealth(down: HealthOverlay): void {
    const changed = this.desired.setHealth(down);
    if (!this.loaded || changed.size === 0) return;
    const errors = this.runServices(this.applied, changed);
    if (errors.length > 0) throw new EngineFailed(`the data plane refused health weights: ${errors.map((e) => e.message).join('; ')}`);
    this.bgp.refresh();
  }

  /** Brings the data plane back to `config` after a write failed to commit. */
  restore(config: ConfigReader): void {
    this.statusCache.forget();
    this.desired.load(config);
    if (this.run(this.desired.toNative(config.generation())).length === 0) this.applied = config.generation();
    this.followBgp(config);
  }

  appliedGeneration(): number {
    return this.applied;
  }

  /** The data plane's counters, read at most every 100 ms (a list renders many objects). */
  status(): NativeStatus {
    return this.statusCache.all();
  }

  counters(): NativeStatus {
    return this.status();
  }

  nics(): NativeStatus['nics'] {
    return this.native.nics();
  }

  liveStatus(kind: KindName, scope: string, name: string): Record<string, unknown> {
    if (kind === 'nics') {
      const nic = this.statusCache.nic(name);
      if (!nic) return { link: 'absent' };
      return {
        link: nic.linkUp ? 'up' : 'down',
        speedMbps: nic.speedMbps,
        dpdkPort: nic.port,
        ...(nic.tap ? { exceptionInterface: nic.tap } : {}),
        counters: nic.counters,
        deviceCounters: nic.device,
      };
    }
    if (kind === 'virtual-services') {
      const { realServers, name: _, ...traffic } = this.statusCache.service(name) ?? { realServers: [] };
      return { traffic, realServers: realServers.length };
    }
    if (kind === 'real-servers') {
      const server = this.statusCache.server(scope, name);
      if (!server) return {};
      const { name: _, activeSessions, inactiveSessions, limited, ...traffic } = server;
      return { activeSessions, inactiveSessions, limited, traffic };
    }
    return {};
  }

  async sessions(query: SessionQuery): Promise<SessionPage> {
    const { skip } = query;
    const page = await this.native.sessions(
      {
        ...(query.virtualService ? { service: query.virtualService } : {}),
        ...(query.realServer ? { server: query.realServer } : {}),
        ...(query.clientAddress ? { clientAddress: query.clientAddress } : {}),
        ...(query.protocol ? { protocol: query.protocol === 'udp' ? 17 : 6 } : {}),
      },
      skip,
      query.limit,
    );
    const next = skip + page.items.length;
    return { items: page.items.map(toSession), ...(next < page.total ? { nextSkip: next } : {}) };
  }

  async flushSessions(virtualService?: string): Promise<void> {
    await this.native.flushSessions(virtualService);
  }

  announce(): void {
    this.native.announce();
  }

  /** Multi-active: whether this node holds the cluster's sessions yet; true in any other role. */
  clusterReady(): boolean {
    return this.sync.clusterReady();
  }

  bgpStatus(): BgpStatus {
    return this.bgp.status();
  }

  syncStatus(): SyncStatus {
    return this.sync.status(this.status().sync);
  }

  onSyncLag(listener: (ms: number) => void): void {
    this.sync.counters.onLag(listener);
  }

  onSyncStateChange(listener: (change: SyncStateChange) => void): void {
    this.sync.onStateChange(listener);
  }

  async close(): Promise<void> {
    // Routes first: a router must stop sending here before the data plane stops forwarding.
    await this.bgp.close();
    this.sync.close();
    this.native.close();
  }
}

/**
 * The engine's errors as the API reports them: a field of the object being written becomes a
 * body pointer; anything without a field is a data-plane failure rather than bad input.
 */
function refusal(errors: NativeError[], changes: Change[]): Error {
  const detail = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
  if (errors.every((e) => e.field === '')) return new EngineFailed(`the data plane failed to apply: ${detail}`);
  const fields = errors.map((e) => {
    const [, kind, name, ...rest] = e.field.split('/');
    const written = changes.some((c) => c.kind === kind && c.name === name && c.op === 'put');
    return { field: written && rest.length ? `/${rest.join('/')}` : '', message: e.message };
  });
  return new ConfigError('invalid', `the data plane refused the configuration: ${detail}`, fields);
}
