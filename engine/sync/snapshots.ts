// A forwarding node's answer to snapshot requests: every synced session, in chunks taken from
// the data plane and published as snapshot batches on the sessions channel (not the stream:
// a snapshot is for the peers that asked now), then `done` (snapshot-done on the control
// channel, after the last batch: Redis keeps one connection's publishes in order). At most
// one snapshot per `minIntervalMs`; requests arriving meanwhile are answered together by the
// next one.

import { yieldToEventLoop, type BridgeContext } from './context.js';
import { forwards } from './peers.js';
import { sessionsChannel } from './redis.js';
import { encodeBatch, syncRecordSize } from './wire.js';

export const snapshotChunkRecords = 4096;
export const snapshotMinIntervalMs = 2000;

export class SnapshotServer {
  private serving = false;
  private pending = false;
  private lastStart = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly done: () => void,
    private readonly minIntervalMs = snapshotMinIntervalMs,
  ) {}

  /** Asks for a snapshot as soon as the rate limit allows. */
  request(): void {
    if (this.serving || this.timer) {
      this.pending = true;
      return;
    }
    const wait = this.lastStart + this.minIntervalMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.run();
      }, wait);
      return;
    }
    void this.run();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = false;
  }

  private async run(): Promise<void> {
    this.pending = false;
    this.serving = true;
    this.lastStart = performance.now();
    try {
      await this.serve();
    } catch (err) {
      this.ctx.fail(err);
    } finally {
      this.serving = false;
    }
    if (this.pending && !this.ctx.closed()) this.request();
  }

  private async serve(): Promise<void> {
    const { ctx } = this;
    let cursor: number | null = 0;
    while (cursor !== null) {
      // Demoted, closed or cut off part way: the requester asks again when it matters.
      if (ctx.closed() || !forwards(ctx.role()) || !ctx.writable()) return;
      const chunk: { records: Buffer; next: number | null } = await ctx.dataPlane.snapshotSync(cursor, snapshotChunkRecords, ctx.node);
      const count = chunk.records.length / syncRecordSize;
      if (count > 0) {
        const { workers, fingerprint } = ctx.portability();
        const batch = encodeBatch({ snapshot: true, origin: ctx.node, workers, fingerprint, firstSequence: 0, sentAt: Date.now() }, chunk.records);
        // Awaited: one chunk in flight at a time keeps a large snapshot from piling up in memory.
        await ctx.links.commands.publish(sessionsChannel, batch);
        ctx.counters.batchesSent++;
        ctx.counters.recordsSent += count;
      }
      cursor = chunk.next;
      await yieldToEventLoop();
    }
    ctx.counters.snapshotsSent++;
    this.done();
  }
}
