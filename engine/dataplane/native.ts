// The addon's surface (native/binding), typed. Addresses of either family cross as text
// ("10.0.0.1", "2001:db8::1"), prefixes as CIDR text; only the DPDK engine (dpdk-engine.ts)
// loads and calls it.

import { createRequire } from 'node:module';
import { projectFile } from '../../lib/project-files.js';
import type { SpecOf } from '../../store/kinds.js';

/** CIDR text: `10.0.0.0/24`, `2001:db8::/64`. */
export type NativePrefix = string;

export interface NativeNic {
  name: string;
  device: string;
  networks: NativePrefix[];
  gateway: string | null;
  probe: NativePrefix | null;
  probe6: NativePrefix | null;
  mtu: number;
}

export interface NativeRealServer {
  name: string;
  address: string;
  port: number;
  weight: number;
  enabled: boolean;
  /** Status, not configuration: false while health checks see it down; it takes no new sessions. */
  healthy: boolean;
  /** maxConnections; 0: unlimited. */
  maxConnections: number;
}

/**
 * A virtual service as the addon reads it (native/binding/convert.cc, service_from_js): the
 * stored spec as it is, fields under their API names, with its name and its real servers. A new spec field crosses without a change here (docs/architecture.md).
 */
export type NativeService = SpecOf<'virtual-services'> & {
  name: string;
  realServers: NativeRealServer[];
};

/** The session-sync part of a configuration (docs/sync.md). */
export interface NativeSyncConfig {
  /** Workers write events for sessions of services with `sync` on (only when not `backup`). */
  enabled: boolean;
  /** Holds peer sessions but neither forwards nor answers ARP for VIPs and local addresses. */
  backup: boolean;
}

export interface NativeConfig {
  generation: number;
  sync: NativeSyncConfig;
  nics: NativeNic[];
  routes: { name: string; prefix: NativePrefix; via: string; nic: string }[];
  pools: {
    name: string;
    nic: string;
    addresses: string[];
    portMin: number;
    portMax: number;
    /** Multi-active: the same pool's addresses on peers (looked up, never handed out). */
    peerAddresses?: string[];
  }[];
  services: NativeService[];
}

export interface NativeError {
  field: string;
  message: string;
}

export interface Traffic {
  newSessions: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface NativeNicStatus {
  name: string;
  port: number;
  tap: string;
  linkUp: boolean;
  speedMbps: number;
  counters: {
    rxPackets: number;
    rxBytes: number;
    txPackets: number;
    txBytes: number;
    toKernel: number;
    fromKernel: number;
    arpIn: number;
    arpOut: number;
    /** IPv6 neighbour solicitations and advertisements received and sent. */
    ndIn: number;
    ndOut: number;
    icmpEcho: number;
    drops: Record<string, number>;
  };
  device: { rxPackets: number; txPackets: number; rxMissed: number; rxErrors: number; txErrors: number };
}

/** Sync counters, summed over workers and the control thread (docs/sync.md). */
export interface NativeSyncCounters {
  /** Events workers wrote into their sync rings. */
  eventsQueued: number;
  /** Events lost because a worker's sync ring was full. */
  ringOverflows: number;
  /** Peer records that added a session, changed one, ended one. */
  installed: number;
  updated: number;
  closed: number;
  /** Live sessions that came from a peer and have not been touched by a packet here. */
  /** Peer sessions a packet here made this node's own (a failover, an ECMP move). */
  takenOver: number;
  /** Packets forwarded for those sessions. */
  takenOverPackets: number;
  peerSessions: number;
  /**
   * Peer records dropped, by reason: malformed, version, expired, not_owner, ingest_full,
   * unknown_service, service_not_synced, unknown_server, unknown_local_address, conflict,
   * table_full.
   */
  dropped: Record<string, number>;
}

/** A worker's burst-duration histogram (native/dataplane/burst_histogram.h). */
export interface NativeBurstHistogram {
  /** Upper bounds (inclusive) of the finite buckets, in ns: 256 doubling to 1048576. */
  boundsNs: number[];
  /** Per bucket, not cumulative: one more than boundsNs, the last for longer polls (+Inf). */
  counts: number[];
  sumNs: number;
  /** The sum of counts. */
  count: number;
}

export interface NativeStatus {
  sync: NativeSyncCounters;
  generation: number;
  sessionsLive: number;
  sessionsExpired: number;
  sessionsReset: number;
  /** TOA options and PROXY headers added (a header in a segment of its own counted apart), and failures. Always set by the addon. */
  clientAddress?: { toaAdded: number; toaFailed: number; proxyHeaders: number; proxyOwnSegments: number; proxyFailed: number };
  nics: NativeNicStatus[];
  services: (Traffic & {
    name: string;
    /** New flows refused by reason: `denied` (a deny entry of accessControl), `not_allowed` (no allow entry). Always set by the addon. */
    refused?: Record<string, number>;
    /** New flows dropped by clientRateLimit. Always set by the addon. */
    rateLimited?: number;
    realServers: (Traffic & { name: string; activeSessions: number; inactiveSessions: number; limited: number })[];
  })[];
  workers: {
    id: number;
    lcore: number;
    sessions: number;
    redirectedOut: number;
    redirectedIn: number;
    loops: number;
    busyLoops: number;
    /** Durations of the busy loops (one burst each). */
    burst: NativeBurstHistogram;
  }[];
}

export interface NativeSession {
  protocol: number;
  state: string;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  localAddress: string;
  localPort: number;
  serverAddress: string;
  serverPort: number;
  service: string;
  server: string;
  worker: number;
  expiresInMs: number;
  /** Installed from a sync peer and not touched by a packet here yet. */
  fromPeer: boolean;
}

export interface NativeSessionFilter {
  service?: string;
  server?: string;
  clientAddress?: string;
  protocol?: number;
}

export interface NativeEngineOptions {
  workers: number;
  idle: 'adaptive' | 'busy';
  sessionsPerWorker: number;
  instance: string;
}

export interface NativeEngine {
  check(config: NativeConfig): NativeError[];
  apply(config: NativeConfig): NativeError[];
  /**
   * Replaces the running configuration's services named in `services` (adding new ones) and
   * removes those in `removed`; NICs, routes, pools and sync stay. Only those services are
   * converted and compiled.
   */
  updateServices(generation: number, services: NativeService[], removed: string[]): NativeError[];
  /** With `service`, `services` holds that service alone and `nics` is empty: one service's status costs what it has. */
  status(service?: string): NativeStatus;
  /** The NICs' part of status() alone: what links and taps cost, whatever the number of services. */
  nics(): NativeNicStatus[];
  /** Runs off the event loop (the workers walk their tables): a promise. */
  sessions(filter: NativeSessionFilter, skip: number, limit: number): Promise<{ items: NativeSession[]; total: number }>;
  /** Ends sessions, all or one service's; resolves with how many. Off the event loop. */
  flushSessions(service?: string): Promise<number>;
  announce(): void;
  /**
   * Takes up to `maxRecords` events from the workers' sync rings as wire records (64 bytes
   * each, docs/sync.md) stamped with `node` and the sequence numbers `firstSequence`,
   * `firstSequence + 1`, … (mod 2^32). null when there were none.
   */
  drainSync(maxRecords: number, node: number, firstSequence: number): Buffer | null;
  /**
   * Hands peer records (a batch's payload, a whole number of records) to the workers that own
   * them, aged by `ageMs` (how long ago the batch was sent). Returns how many were queued and
   * how many were refused before reaching a worker (malformed, wrong version, expired, not
   * owned, ring full: also counted in status().sync.dropped). Workers install them between
   * bursts, so status() shows the outcome a poll later.
   */
  ingestSync(records: Buffer, ageMs: number): { queued: number; refused: number };
  /**
   * A full snapshot in chunks: `refresh` records (sequence 0) for the synced sessions from
   * `cursor` on, at most `limit` of them; `next` is where to continue, null at the end. Start
   * at cursor 0. Each call pauses a worker for a walk of at most a few thousand slots, off the
   * event loop.
   */
  snapshotSync(cursor: number, limit: number, node: number): Promise<{ records: Buffer; next: number | null }>;
  close(): void;
}

export const addonPath = projectFile('native/binding/build/Release/l4lb_native.node');

/** Loads the addon; throws with the path when it was not built. */
export interface NativeAddon {
  Engine: new (options: NativeEngineOptions) => NativeEngine;
  /** Bytes per sync wire record as the data plane writes them (engine/sync/wire.ts reads them). */
  syncRecordSize: number;
}

export function loadNative(): NativeAddon {
  const require = createRequire(import.meta.url);
  return require(addonPath) as NativeAddon;
}
