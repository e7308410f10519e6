// The contract between the control plane and a data plane. The reconciler is the only
// caller of apply(); routes read sessions and status through it (`app.engine`) and never
// reach the addon or the engine's own modules: every type they need is exported here.

import type { KindName } from '../store/kinds.js';
import type { BgpStatus } from './bgp/announcer.js';
import type { NativeStatus } from './dataplane/native.js';
import type { SyncStateChange, SyncStatus } from './sync/stats.js';
import type { Commit, ConfigReader } from '../store/store.js';

// The sync bridge's status, as the API and metrics read it through this contract.
export type { SyncStateChange, SyncStatus };

export type EngineMode = 'dpdk' | 'off';

/** The data plane's counters, summed over workers (native/dataplane/counters.h). */
export type EngineCounters = NativeStatus;

export interface Endpoint {
  address: string;
  port: number;
}

export interface Session {
  protocol: 'tcp' | 'udp';
  state: string;
  client: Endpoint;
  virtual: Endpoint;
  local: Endpoint;
  realServer: Endpoint;
  virtualService: string;
  realServerName: string;
  worker: number;
  expiresInMs: number;
  /** `peer`: installed from a sync peer and no packet of it seen here yet; `local` otherwise. */
  origin: 'local' | 'peer';
}

export interface SessionQuery {
  virtualService?: string;
  realServer?: string;
  clientAddress?: string;
  protocol?: 'tcp' | 'udp';
  /** Matches to pass over (the API's cursor carries it). */
  skip: number;
  limit: number;
}

export interface SessionPage {
  items: Session[];
  /** Where the next page starts, when there is one. */
  nextSkip?: number;
}

/**
 * Real servers the health checker found down, by virtual service: the engine runs them at
 * weight 0 (open sessions continue) without the stored configuration changing.
 */
export type HealthOverlay = ReadonlyMap<string, ReadonlySet<string>>;

/** Raised by calls that need a running data plane when there is none. */
export class EngineUnavailable extends Error {}

/** The data plane could not do what it was asked for reasons other than the request (503). */
export class EngineFailed extends Error {}

export interface Engine {
  readonly mode: EngineMode;
  /**
   * Applies one change set before it commits; `config` reads the desired state including it.
   * Throws (and keeps running what it ran before) if refused, which rolls the write back.
   */
  apply(commit: Commit, config: ConfigReader): void;
  /** Replaces the health overlay (kept as given: pass a new map each time) and runs what it changed. */
  applyHealth(down: HealthOverlay): void;
  /** Runs `config` again after a write whose apply succeeded failed to commit. */
  restore(config: ConfigReader): void;
  /**
   * The store generation of the configuration it runs: the last commit it took (applied, or
   * had nothing to apply) or restored; 0 before the first. The one record of it: the
   * reconciler, /readyz and the metrics ask here.
   */
  appliedGeneration(): number;
  /** The data plane's counters now, summed over workers; undefined without a data plane. */
  counters(): EngineCounters | undefined;
  /** The NICs' links, taps and counters now, alone (cheap at any number of services); [] without a data plane. */
  nics(): EngineCounters['nics'];
  /** What the data plane reports about one configured object now, for its `status`. */
  liveStatus(kind: KindName, scope: string, name: string): Record<string, unknown>;
  sessions(query: SessionQuery): Promise<SessionPage>;
  /** Ends live sessions, all or those of one virtual service. */
  flushSessions(virtualService?: string): Promise<void>;
  /** The BGP speaker now: neighbours, announced prefixes (not running without a data plane). */
  bgpStatus(): BgpStatus;
  /** The session-sync bridge now: state, peers, counters (state `not-running` without a data plane). */
  syncStatus(): SyncStatus;
  /** Calls `listener` with the lag of every batch received from a peer, in milliseconds. */
  onSyncLag(listener: (ms: number) => void): void;
  /** Calls `listener` after each change of the sync state or role, with its cause. */
  onSyncStateChange(listener: (change: SyncStateChange) => void): void;
  close(): Promise<void>;
}
