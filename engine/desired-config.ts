// The desired configuration as the DPDK engine sees it: an in-memory copy of the stored
// forwarding objects, updated from each commit's changes (a write reads only what it
// changed), each kept already converted to the addon's form so that assembling the whole
// configuration for an apply is a walk over ready objects. Of the settings it follows the
// `sync` object: the data plane is told whether to sync and whether it is a backup.

import type { Change, ConfigReader } from '../store/store.js';
import type { KindName, Spec } from '../store/kinds.js';
import { parseCidr, parseIPv4 } from '../store/ip.js';
import type { HealthOverlay } from './engine.js';
import type { NativeConfig, NativeNic, NativePrefix, NativeRealServer, NativeService } from './native.js';
import { nativeSyncConfig, syncSettingsName, toSyncSettings, type SyncSettings } from './sync/settings.js';

type Converted = {
  nics: NativeNic;
  routes: NativeConfig['routes'][number];
  'local-address-pools': NativeConfig['pools'][number];
  'virtual-services': Omit<NativeService, 'realServers'>;
  'real-servers': NativeRealServer;
  settings: SyncSettings;
};
type EngineKind = keyof Converted;
const engineKinds: EngineKind[] = ['nics', 'routes', 'local-address-pools', 'virtual-services', 'real-servers', 'settings'];

/** Whether the engine follows this object: every forwarding object, and the sync settings. */
export function isEngineObject(kind: KindName, name: string): kind is EngineKind {
  return (engineKinds as string[]).includes(kind) && (kind !== 'settings' || name === syncSettingsName);
}

function prefix(text: string): NativePrefix {
  const p = parseCidr(text);
  return [p.base, p.length];
}

const convert: { [K in EngineKind]: (name: string, spec: Spec) => Converted[K] } = {
  nics: (name, spec) => ({
    name,
    device: spec.device as string,
    networks: (spec.networks as string[]).map(prefix),
    gateway: spec.gateway ? parseIPv4(spec.gateway as string) : null,
    probe: spec.probeAddress ? prefix(spec.probeAddress as string) : null,
    mtu: spec.mtu as number,
  }),
  routes: (name, spec) => ({ name, prefix: prefix(spec.prefix as string), via: parseIPv4(spec.via as string), nic: spec.nic as string }),
  'local-address-pools': (name, spec) => {
    const range = spec.portRange as { min: number; max: number };
    return { name, nic: spec.nic as string, addresses: (spec.addresses as string[]).map(parseIPv4), portMin: range.min, portMax: range.max };
  },
  'virtual-services': (name, spec) => ({
    name,
    address: parseIPv4(spec.address as string),
    port: spec.port as number,
    protocol: spec.protocol as 'tcp' | 'udp',
    nic: spec.nic as string,
    pool: spec.localAddressPool as string,
    scheduler: spec.scheduler as string,
    clientAddress: spec.clientAddress as string,
    timeouts: spec.timeouts as Record<string, number>,
    sync: spec.sync as boolean,
    enabled: spec.enabled as boolean,
  }),
  'real-servers': (name, spec) => ({
    name,
    address: parseIPv4(spec.address as string),
    port: spec.port as number,
    weight: spec.weight as number,
    enabled: spec.enabled as boolean,
  }),
  settings: (_name, spec) => toSyncSettings(spec),
};

interface Entry {
  kind: EngineKind;
  scope: string;
  native: Converted[EngineKind];
}

/** What one apply changed (key → previous entry), so a refused apply can be undone. */
export type Undo = Map<string, Entry | undefined>;

export class DesiredConfig {
  // By kind, scope and name (a real server's scope is its service).
  private readonly entries = new Map<string, Entry>();
  /** Status, not configuration: servers health took out run at weight 0 until they are back. */
  private healthDown: HealthOverlay = new Map();

  setHealth(down: HealthOverlay): void {
    this.healthDown = down;
  }

  private static key(kind: string, scope: string, name: string): string {
    return `${kind}\u0000${scope}\u0000${name}`;
  }

  private set(kind: EngineKind, scope: string, name: string, spec: Spec): void {
    this.entries.set(DesiredConfig.key(kind, scope, name), { kind, scope, native: convert[kind](name, spec) });
  }

  /** Loads every object the engine cares about. */
  load(reader: ConfigReader): void {
    this.entries.clear();
    for (const kind of engineKinds)
      for (const o of reader.all(kind)) if (isEngineObject(kind, o.name)) this.set(kind, o.scope, o.name, o.spec);
  }

  /** Applies `changes` as `reader` sees them; returns what to restore if the engine refuses. */
  update(changes: Change[], reader: ConfigReader): Undo {
    const undo: Undo = new Map();
    for (const change of changes) {
      const kind = change.kind;
      if (!isEngineObject(kind, change.name)) continue;
      const key = DesiredConfig.key(kind, change.scope, change.name);
      if (!undo.has(key)) undo.set(key, this.entries.get(key));
      const stored = change.op === 'put' ? reader.get(kind, change.scope, change.name) : undefined;
      if (stored) this.set(kind, change.scope, change.name, stored.spec);
      else this.entries.delete(key);
    }
    return undo;
  }

  restore(undo: Undo): void {
    for (const [key, entry] of undo) {
      if (entry) this.entries.set(key, entry);
      else this.entries.delete(key);
    }
  }

  /** The sync settings stored, if any. */
  syncSettings(): SyncSettings | undefined {
    return this.entries.get(DesiredConfig.key('settings', '', syncSettingsName))?.native as SyncSettings | undefined;
  }

  toNative(generation: number): NativeConfig {
    const config: NativeConfig = { generation, sync: nativeSyncConfig(this.syncSettings()), nics: [], routes: [], pools: [], services: [] };
    const services = new Map<string, NativeService>();
    const servers: Entry[] = [];
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
        case 'virtual-services': {
          const service = { ...(entry.native as Converted['virtual-services']), realServers: [] };
          services.set(service.name, service);
          config.services.push(service);
          break;
        }
        case 'real-servers':
          servers.push(entry);
          break;
        case 'settings':
          // Already in config.sync.
          break;
      }
    }
    for (const entry of servers) {
      const server = entry.native as NativeRealServer;
      const down = this.healthDown.get(entry.scope)?.has(server.name);
      services.get(entry.scope)?.realServers.push(down ? { ...server, weight: 0 } : server);
    }
    return config;
  }
}
