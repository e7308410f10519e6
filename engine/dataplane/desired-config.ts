// The desired configuration as the DPDK engine sees it: an in-memory copy of the stored
// forwarding objects, updated from each commit's changes (a write reads only what it
// changed), each kept already converted to the addon's form. A commit that touched only
// services and real servers says which services, so the engine sends just those (update());
// anything else is a whole configuration, a walk over ready objects. Of the settings it
// follows the `sync` object: the data plane is told whether to sync and whether it is a backup.

import type { Change, ConfigReader } from '../../store/store.js';
import type { KindName, SpecOf } from '../../store/kinds.js';
import type { HealthOverlay } from '../engine.js';
import type { NativeConfig, NativeNic, NativeRealServer, NativeService } from './native.js';
import { nativeSyncConfig, syncSettingsName, toSyncSettings, type SyncSettings } from '../sync/settings.js';

type Converted = {
  nics: NativeNic;
  routes: NativeConfig['routes'][number];
  'local-address-pools': NativeConfig['pools'][number];
  'virtual-services': Omit<NativeService, 'realServers'>;
  'real-servers': NativeRealServer;
  settings: SyncSettings;
};
type EngineKind = keyof Converted;

/** A NIC's probe addresses by family (4, 6), without the length: where its probes and BGP sessions leave from. */
export type ProbeSources = Partial<Record<4 | 6, string>>;
const engineKinds: EngineKind[] = ['nics', 'routes', 'local-address-pools', 'virtual-services', 'real-servers', 'settings'];

/** Whether the engine follows this object: every forwarding object, and the sync settings. */
export function isEngineObject(kind: KindName, name: string): kind is EngineKind {
  return (engineKinds as string[]).includes(kind) && (kind !== 'settings' || name === syncSettingsName);
}

/**
 * One typed conversion per kind: the stored spec (typed from openapi.yaml) to the addon's form.
 * Addresses and prefixes stay the canonical text the store keeps; the addon parses them.
 */
const convert: { [K in EngineKind]: (name: string, spec: SpecOf<K>) => Converted[K] } = {
  nics: (name, spec) => ({
    name,
    device: spec.device,
    networks: spec.networks,
    gateway: spec.gateway ?? null,
    probe: spec.probeAddress ?? null,
    probe6: spec.probeAddress6 ?? null,
    mtu: spec.mtu,
  }),
  routes: (name, spec) => ({ name, prefix: spec.prefix, via: spec.via, nic: spec.nic }),
  'local-address-pools': (name, spec) => ({
    name,
    nic: spec.nic,
    addresses: spec.addresses,
    portMin: spec.portRange.min,
    portMax: spec.portRange.max,
  }),
  // The spec as stored: every field crosses under its API name, so a new one needs no line here.
  'virtual-services': (name, spec) => ({ ...spec, name }),
  'real-servers': (name, spec) => ({
    name,
    address: spec.address,
    port: spec.port,
    weight: spec.weight,
    enabled: spec.enabled,
    healthy: true,
    maxConnections: spec.maxConnections ?? 0,
  }),
  settings: (_name, spec) => toSyncSettings(spec),
};

interface Entry {
  kind: EngineKind;
  scope: string;
  name: string;
  native: Converted[EngineKind];
}

/** What one apply changed (key → previous entry), so a refused apply can be undone. */
export type Undo = Map<string, Entry | undefined>;

/** What a commit touched: the whole configuration, or only these services (real servers included). */
export interface Touched {
  undo: Undo;
  /** NICs, routes, pools or the sync settings changed: only a whole apply will do. */
  structural: boolean;
  services: Set<string>;
}

export class DesiredConfig {
  // By kind, scope and name (a real server's scope is its service).
  private readonly entries = new Map<string, Entry>();
  /** Real servers by service, then name: a service is assembled without a walk over all. */
  private readonly servers = new Map<string, Map<string, NativeRealServer>>();
  /** Status, not configuration: servers health took out take no new sessions until they are back. */
  private healthDown: HealthOverlay = new Map();
  /** maxTimeoutSeconds(), until a service changes. */
  private maxTimeout: number | undefined;
  /**
   * BGP's view (vips()), kept per service: read twice a second and after every write, so a
   * write or a health change recomputes only the services it touched, not all of them.
   */
  private readonly vipState = new Map<string, { address: string; up: boolean }>();
  private readonly staleVips = new Set<string>();
  /** probeAddresses() and localAddresses(), until a NIC or a pool changes. */
  private nodeAddresses: { probes: Map<string, ProbeSources>; local: string[] } | undefined;

  /** Replaces the overlay; returns the services whose servers' health changed. */
  setHealth(down: HealthOverlay): Set<string> {
    const changed = new Set<string>();
    for (const service of new Set([...this.healthDown.keys(), ...down.keys()])) {
      const before = this.healthDown.get(service) ?? new Set<string>();
      const after = down.get(service) ?? new Set<string>();
      if (before.size !== after.size || [...after].some((name) => !before.has(name))) changed.add(service);
    }
    this.healthDown = down;
    for (const service of changed) this.staleVips.add(service);
    return changed;
  }

  private static key(kind: string, scope: string, name: string): string {
    return `${kind}\u0000${scope}\u0000${name}`;
  }

  /** Puts or removes one entry, keeping the servers' index (a replaced server keeps its place: scheduling order). */
  private put(key: string, entry: Entry | undefined): void {
    const old = this.entries.get(key);
    if (old?.kind === 'virtual-services' || entry?.kind === 'virtual-services') this.maxTimeout = undefined;
    for (const e of [old, entry]) {
      if (e?.kind === 'virtual-services') this.staleVips.add(e.name);
      else if (e?.kind === 'real-servers') this.staleVips.add(e.scope);
      else if (e?.kind === 'nics' || e?.kind === 'local-address-pools') this.nodeAddresses = undefined;
    }
    if (old?.kind === 'real-servers' && !entry) this.servers.get(old.scope)?.delete(old.name);
    if (!entry) {
      this.entries.delete(key);
      return;
    }
    this.entries.set(key, entry);
    if (entry.kind !== 'real-servers') return;
    let servers = this.servers.get(entry.scope);
    if (!servers) this.servers.set(entry.scope, (servers = new Map()));
    servers.set(entry.name, entry.native as NativeRealServer);
  }

  private set<K extends EngineKind>(kind: K, scope: string, name: string, spec: SpecOf<K>): void {
    this.put(DesiredConfig.key(kind, scope, name), { kind, scope, name, native: convert[kind](name, spec) });
  }

  /** Loads every object the engine cares about. */
  load(reader: ConfigReader): void {
    this.entries.clear();
    this.servers.clear();
    this.maxTimeout = undefined;
    this.vipState.clear();
    this.nodeAddresses = undefined;
    for (const kind of engineKinds)
      for (const o of reader.all(kind)) if (isEngineObject(kind, o.name)) this.set(kind, o.scope, o.name, o.spec);
  }

  /** Applies `changes` as `reader` sees them; says what they touched and how to undo them. */
  update(changes: Change[], reader: ConfigReader): Touched {
    const touched: Touched = { undo: new Map(), structural: false, services: new Set() };
    for (const change of changes) {
      const kind = change.kind;
      if (!isEngineObject(kind, change.name)) continue;
      if (kind === 'virtual-services') touched.services.add(change.name);
      else if (kind === 'real-servers') touched.services.add(change.scope);
      else touched.structural = true;
      const key = DesiredConfig.key(kind, change.scope, change.name);
      if (!touched.undo.has(key)) touched.undo.set(key, this.entries.get(key));
      const stored = change.op === 'put' ? reader.get(kind, change.scope, change.name) : undefined;
      if (stored) this.set(kind, change.scope, change.name, stored.spec);
      else this.put(key, undefined);
    }
    return touched;
  }

  restore(undo: Undo): void {
    for (const [key, entry] of undo) this.put(key, entry);
  }

  /** The sync settings stored, if any. */
  syncSettings(): SyncSettings | undefined {
    return this.entries.get(DesiredConfig.key('settings', '', syncSettingsName))?.native as SyncSettings | undefined;
  }

  /** A service as the data plane runs it, real servers health took out marked unhealthy; undefined when gone. */
  service(name: string): NativeService | undefined {
    const entry = this.entries.get(DesiredConfig.key('virtual-services', '', name));
    if (!entry) return undefined;
    const down = this.healthDown.get(name);
    const realServers = [...(this.servers.get(name)?.values() ?? [])].map((server) =>
      down?.has(server.name) ? { ...server, healthy: false } : server,
    );
    return { ...(entry.native as Converted['virtual-services']), realServers };
  }

  /** Each service's VIP, up when any of its real servers takes new sessions (what BGP announces). */
  vips(): { address: string; up: boolean }[] {
    for (const name of this.staleVips) {
      const s = this.service(name);
      if (s) this.vipState.set(name, { address: s.address, up: s.enabled && s.realServers.some((r) => r.enabled && r.weight > 0 && r.healthy) });
      else this.vipState.delete(name);
    }
    this.staleVips.clear();
    return [...this.vipState.values()];
  }

  /** Each NIC's probe addresses (its kernel side's) by family, without the length. */
  probeAddresses(): Map<string, ProbeSources> {
    return this.addressesOfNode().probes;
  }

  /** The addresses of this node's own local address pools. */
  localAddresses(): string[] {
    return this.addressesOfNode().local;
  }

  private addressesOfNode(): { probes: Map<string, ProbeSources>; local: string[] } {
    if (this.nodeAddresses) return this.nodeAddresses;
    const probes = new Map<string, ProbeSources>();
    const local: string[] = [];
    for (const entry of this.entries.values()) {
      if (entry.kind === 'nics') {
        const nic = entry.native as NativeNic;
        const sources: ProbeSources = {};
        if (nic.probe) sources[4] = nic.probe.split('/')[0];
        if (nic.probe6) sources[6] = nic.probe6.split('/')[0];
        if (nic.probe || nic.probe6) probes.set(entry.name, sources);
      }
      if (entry.kind === 'local-address-pools') local.push(...(entry.native as Converted['local-address-pools']).addresses);
    }
    this.nodeAddresses = { probes, local };
    return this.nodeAddresses;
  }

  /** The longest state timeout of any service, in seconds: how long a synced session may live. */
  maxTimeoutSeconds(): number {
    if (this.maxTimeout === undefined) {
      this.maxTimeout = 0;
      for (const entry of this.entries.values()) {
        if (entry.kind === 'virtual-services') this.maxTimeout = Math.max(this.maxTimeout, ...Object.values((entry.native as Converted['virtual-services']).timeouts));
      }
    }
    return this.maxTimeout;
  }

  toNative(generation: number): NativeConfig {
    const config: NativeConfig = { generation, sync: nativeSyncConfig(this.syncSettings()), nics: [], routes: [], pools: [], services: [] };
    for (const entry of this.entries.values()) {
      switch (entry.kind) {
        case 'nics':
          config.nics.push(entry.native as NativeNic);
          break;
        case 'routes':
          config.routes.push(entry.native as Converted['routes']);
          break;
        case 'local-address-pools':
          config.pools.push(entry.native as Converted['local-address-pools']);
          break;
        case 'virtual-services':
          config.services.push(this.service(entry.name)!);
          break;
        case 'real-servers':
        case 'settings':
          // Inside their service, and in config.sync.
          break;
      }
    }
    return config;
  }
}
