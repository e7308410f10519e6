// What the bridge's parts (drain loop, receiver, control channel, snapshots, replay) share.

import type { NativeEngine } from '../dataplane/native.js';
import type { Portability } from './peers.js';
import type { RedisLinks } from './redis.js';
import type { SyncCounters, SyncRole } from './stats.js';

/** The part of the data plane the bridge drives (a fake in tests). */
export type SyncDataPlane = Pick<NativeEngine, 'drainSync' | 'ingestSync' | 'snapshotSync'>;

export interface BridgeContext {
  readonly nodeId: string;
  /** FNV-1a 32 of `nodeId`, as batches and records carry it. */
  readonly node: number;
  readonly dataPlane: SyncDataPlane;
  readonly counters: SyncCounters;
  readonly links: RedisLinks;
  readonly streamMaxLength: number;
  /** How far back replay reads: the longest timeout configured, plus a margin. */
  replayWindowMs(): number;
  /** Read at every use: workers and pools are what the data plane runs now. */
  portability(): Portability;
  role(): SyncRole;
  /** The command connection can take commands now. */
  writable(): boolean;
  closed(): boolean;
  /** Counts a Redis failure and keeps it as the last error (without the password). */
  fail(err: unknown): void;
}

/** Lets the event loop run between chunks of long work. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
