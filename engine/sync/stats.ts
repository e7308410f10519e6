// What the bridge counts and reports. The counters outlive any one bridge (the engine keeps
// them across reconfigurations) so that the metrics built from them only ever grow.

import type { NativeSyncCounters } from '../dataplane/native.js';

export type SyncState = 'disabled' | 'connecting' | 'synced' | 'degraded' | 'not-running';
export type SyncRole = 'active' | 'backup' | 'multi-active';

/** A change of the sync state or role, with what caused it (for the log). */
export interface SyncStateChange {
  state: SyncState;
  role?: SyncRole;
  /** Multi-active only. */
  clusterReady?: boolean;
  cause: string;
}

export interface PeerStatus {
  nodeId: string;
  role: SyncRole | 'unknown';
  lastSeenMsAgo: number;
  compatible: boolean;
  reason?: string;
  /** Multi-active: its own local addresses by pool, from its last hello. */
  addresses?: Record<string, string[]>;
  /** Session records received from it (live and snapshot) that were not refused whole. */
  recordsReceived: number;
}

export interface SyncStatus {
  state: SyncState;
  role?: SyncRole;
  nodeId?: string;
  peers: PeerStatus[];
  /** Multi-active: whether this node holds the cluster's sessions yet (see ClusterJoin). */
  clusterReady?: boolean;
  records: {
    sent: number;
    received: number;
    /** Handed to the data plane's workers (ingestSync's `queued`). */
    applied: number;
    /** The data plane's outcome of applied records. */
    installed: number;
    updated: number;
    closed: number;
    peerSessions: number;
    takenOver: number;
    takenOverPackets: number;
    ringOverflows: number;
    /** By reason: the bridge's own (redis_unavailable, redis_failed, backpressure, incompatible, version, bad_batch) and the data plane's. */
    dropped: Record<string, number>;
  };
  batches: { sent: number; received: number };
  snapshots: { sent: number; requested: number; received: number };
  lag: { p50Ms: number | null; p99Ms: number | null; lastMs: number | null };
  redisErrors: number;
  lastError?: { message: string; at: string };
}

/** The last few hundred lags, for percentiles that follow what happens now. */
export class LagReservoir {
  private readonly samples: number[] = [];
  private next = 0;
  private last: number | null = null;

  constructor(private readonly size = 1024) {}

  add(ms: number): void {
    this.last = ms;
    if (this.samples.length < this.size) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  summary(): SyncStatus['lag'] {
    if (this.samples.length === 0) return { p50Ms: null, p99Ms: null, lastMs: null };
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return { p50Ms: at(0.5), p99Ms: at(0.99), lastMs: this.last };
  }
}

export class SyncCounters {
  recordsSent = 0;
  recordsReceived = 0;
  recordsApplied = 0;
  batchesSent = 0;
  batchesReceived = 0;
  snapshotsSent = 0;
  snapshotsRequested = 0;
  snapshotsReceived = 0;
  redisErrors = 0;
  lastError: { message: string; at: string } | undefined;
  readonly dropped = new Map<string, number>();
  readonly lag = new LagReservoir();
  private readonly lagListeners = new Set<(ms: number) => void>();

  drop(reason: string, records: number): void {
    if (records > 0) this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + records);
  }

  observeLag(ms: number): void {
    this.lag.add(ms);
    for (const listener of this.lagListeners) listener(ms);
  }

  onLag(listener: (ms: number) => void): void {
    this.lagListeners.add(listener);
  }

  /** A Redis failure. */
  error(message: string): void {
    this.redisErrors++;
    this.noteError(message);
  }

  /** Anything else worth showing as the last error. */
  noteError(message: string): void {
    this.lastError = { message, at: new Date().toISOString() };
  }

  /** The status with these counters, the data plane's (when there is one) and what the bridge says now. */
  status(now: { state: SyncState; role?: SyncRole; nodeId?: string; peers: PeerStatus[]; clusterReady?: boolean }, native?: NativeSyncCounters): SyncStatus {
    const dropped: Record<string, number> = Object.fromEntries(this.dropped);
    for (const [reason, n] of Object.entries(native?.dropped ?? {})) dropped[reason] = (dropped[reason] ?? 0) + n;
    return {
      ...now,
      records: {
        sent: this.recordsSent,
        received: this.recordsReceived,
        applied: this.recordsApplied,
        installed: native?.installed ?? 0,
        updated: native?.updated ?? 0,
        closed: native?.closed ?? 0,
        peerSessions: native?.peerSessions ?? 0,
        takenOver: native?.takenOver ?? 0,
        takenOverPackets: native?.takenOverPackets ?? 0,
        ringOverflows: native?.ringOverflows ?? 0,
        dropped,
      },
      batches: { sent: this.batchesSent, received: this.batchesReceived },
      snapshots: { sent: this.snapshotsSent, requested: this.snapshotsRequested, received: this.snapshotsReceived },
      lag: this.lag.summary(),
      redisErrors: this.redisErrors,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}
