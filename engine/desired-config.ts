// The desired configuration as the DPDK engine sees it: an in-memory copy of the stored
// objects, updated from each commit's changes (so a write reads only what it changed), and
// turned into the addon's whole-configuration form on every apply.

import type { Change, ConfigReader } from '../store/store.js';
import type { KindName, Spec } from '../store/kinds.js';
import { parseCidr, parseIPv4 } from '../store/ip.js';
import type { NativeConfig, NativePrefix, NativeService } from './native.js';
import type { HealthOverlay } from './engine.js';

const engineKinds: KindName[] = ['nics', 'routes', 'local-address-pools', 'virtual-services', 'real-servers'];

function key(change: { kind: KindName; scope: string; name: string }): string {
  return `${change.kind}\u0000${change.scope}\u0000${change.name}`;
}

function prefix(text: string): NativePrefix {
  const p = parseCidr(text);
  return [p.base, p.length];
}

/** What one apply changed, so a refused apply can be undone. */
export type Undo = Map<string, Spec | undefined>;

export class DesiredConfig {
  private readonly objects = new Map<string, { kind: KindName; scope: string; name: string; spec: Spec }>();
  /** Status, not configuration: servers health took out run at weight 0 until they are back. */
  private healthDown: HealthOverlay = new Map();

  setHealth(down: HealthOverlay): void {
    this.healthDown = down;
  }

  /** Loads every object the engine cares about. */
  load(reader: ConfigReader): void {
    this.objects.clear();
    for (const kind of engineKinds)
      for (const o of reader.all(kind)) this.objects.set(key({ kind, ...o }), { kind, scope: o.scope, name: o.name, spec: o.spec });
  }

  /** Applies `changes` as `reader` sees them; returns what to restore if the engine refuses. */
  update(changes: Change[], reader: ConfigReader): Undo {
    const undo: Undo = new Map();
    for (const change of changes) {
      if (!engineKinds.includes(change.kind)) continue;
      const k = key(change);
      if (!undo.has(k)) undo.set(k, this.objects.get(k)?.spec);
      const stored = change.op === 'put' ? reader.get(change.kind, change.scope, change.name) : undefined;
      if (stored) this.objects.set(k, { kind: change.kind, scope: change.scope, name: change.name, spec: stored.spec });
      else this.objects.delete(k);
    }
    return undo;
  }

  restore(undo: Undo): void {
    for (const [k, spec] of undo) {
      const [kind, scope, name] = k.split('\u0000') as [KindName, string, string];
      if (spec) this.objects.set(k, { kind, scope, name, spec });
      else this.objects.delete(k);
    }
  }

  private of(kind: KindName) {
    return [...this.objects.values()].filter((o) => o.kind === kind);
  }

  toNative(generation: number): NativeConfig {
    const servers = new Map<string, NativeService['realServers']>();
    const services = this.of('virtual-services');
    for (const rs of this.of('real-servers')) {
      const list = servers.get(rs.scope) ?? [];
      list.push({
        name: rs.name,
        address: parseIPv4(rs.spec.address as string),
        port: rs.spec.port as number,
        weight: this.healthDown.get(rs.scope)?.has(rs.name) ? 0 : (rs.spec.weight as number),
        enabled: rs.spec.enabled as boolean,
      });
      servers.set(rs.scope, list);
    }
    return {
      generation,
      nics: this.of('nics').map(({ name, spec }) => ({
        name,
        device: spec.device as string,
        networks: (spec.networks as string[]).map(prefix),
        gateway: spec.gateway ? parseIPv4(spec.gateway as string) : null,
        probe: spec.probeAddress ? prefix(spec.probeAddress as string) : null,
        mtu: spec.mtu as number,
      })),
      routes: this.of('routes').map(({ name, spec }) => ({
        name,
        prefix: prefix(spec.prefix as string),
        via: parseIPv4(spec.via as string),
        nic: spec.nic as string,
      })),
      pools: this.of('local-address-pools').map(({ name, spec }) => {
        const range = spec.portRange as { min: number; max: number };
        return {
          name,
          nic: spec.nic as string,
          addresses: (spec.addresses as string[]).map(parseIPv4),
          portMin: range.min,
          portMax: range.max,
        };
      }),
      services: services.map(({ name, spec }) => ({
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
        realServers: servers.get(name) ?? [],
      })),
    };
  }
}
