// Takes the workers' sync events off the data plane about every millisecond and publishes
// them as one batch: PUBLISH for the peers listening now and XADD to the stream for a node
// that starts later, in one pipeline. Nothing waits on Redis: when it is down or behind, the
// drained records are counted as dropped (peers see the sequence gap and resync).
//
// The stream holds what a replay can use and no more: each XADD trims entries older than the
// replay window (MINID; a live session's records are refreshed within its timeout, so older
// ones are never needed), and once a second an XTRIM applies the operator's cap in batches,
// a bound on Redis memory whatever the rate (at most cap × 57 kB with full batches).

import type { BridgeContext } from './context.js';
import { sessionsChannel, streamField, streamKey } from './redis.js';
import { encodeBatch, syncRecordSize } from './wire.js';

export const drainIntervalMs = 1;
export const maxDrainRecords = 512;
/** Pipelines awaiting Redis beyond this many mean Redis is behind: drop rather than queue. */
const maxInFlight = 64;
const trimEveryMs = 1000;

export class DrainLoop {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private nextSequence = 0;
  private inFlight = 0;
  private running = false;
  private trimmedAt = 0;

  constructor(private readonly ctx: BridgeContext) {}

  start(): void {
    this.running = true;
    this.timer = setTimeout(this.drain, drainIntervalMs);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }

  private readonly drain = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.running) return;
    const { ctx } = this;
    let records: Buffer | null = null;
    try {
      records = ctx.dataPlane.drainSync(maxDrainRecords, ctx.node, this.nextSequence);
    } catch (err) {
      ctx.counters.noteError(`draining the sync rings failed: ${(err as Error).message}`);
    }
    const count = records ? records.length / syncRecordSize : 0;
    if (records && count > 0) {
      const first = this.nextSequence;
      this.nextSequence = (first + count) >>> 0;
      this.publish(records, count, first);
    }
    // A full drain means more are waiting: go again as soon as the event loop allows.
    if (count >= maxDrainRecords) this.immediate = setImmediate(this.drain);
    else this.timer = setTimeout(this.drain, drainIntervalMs);
  };

  private publish(records: Buffer, count: number, firstSequence: number): void {
    const { ctx } = this;
    if (!ctx.writable()) return ctx.counters.drop('redis_unavailable', count);
    if (this.inFlight >= maxInFlight) return ctx.counters.drop('backpressure', count);
    const { workers, fingerprint } = ctx.portability();
    const batch = encodeBatch({ snapshot: false, origin: ctx.node, workers, fingerprint, firstSequence, sentAt: Date.now() }, records);
    this.inFlight++;
    const now = Date.now();
    const pipeline = ctx.links.commands
      .pipeline()
      .publish(sessionsChannel, batch)
      .xadd(streamKey, 'MINID', '~', Math.max(0, now - ctx.replayWindowMs()), '*', streamField, batch);
    if (now - this.trimmedAt >= trimEveryMs) {
      this.trimmedAt = now;
      pipeline.xtrim(streamKey, 'MAXLEN', '~', ctx.streamMaxLength);
    }
    pipeline
      .exec()
      .then((results) => {
        const failed = results?.find(([err]) => err)?.[0];
        if (failed) throw failed;
        ctx.counters.recordsSent += count;
        ctx.counters.batchesSent++;
      })
      .catch((err: unknown) => {
        ctx.counters.drop('redis_failed', count);
        ctx.fail(err);
      })
      .finally(() => this.inFlight--);
  }
}
