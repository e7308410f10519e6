// Rebuilding live sessions from the stream when sync starts (the data plane starts empty):
// every batch recent enough to hold a session still alive, this node's own included — after
// every node crashed, its own records are what it needs.

import { yieldToEventLoop, type BridgeContext } from './context.js';
import { incompatibility } from './peers.js';
import { streamField, streamKey } from './redis.js';
import { decodeBatch, syncRecordSize } from './wire.js';

const chunkEntries = 1000;
/** Beyond the longest timeout: a record's remaining time can reach its timeout plus a refresh margin. */
export const replayMarginMs = 60_000;

/** Ingests the stream's entries of the last `windowMs`; returns how many batches it read. */
export async function replayStream(ctx: BridgeContext, windowMs: number): Promise<number> {
  let start = String(Math.max(0, Date.now() - windowMs));
  let batches = 0;
  for (;;) {
    const entries = await ctx.links.commands.xrangeBuffer(streamKey, start, '+', 'COUNT', chunkEntries);
    const now = Date.now();
    for (const [, fields] of entries) {
      batches++;
      ingestEntry(ctx, fields, now);
    }
    if (entries.length < chunkEntries || ctx.closed()) return batches;
    start = `(${entries[entries.length - 1][0].toString()}`;
    await yieldToEventLoop();
  }
}

function ingestEntry(ctx: BridgeContext, fields: Buffer[], now: number): void {
  let message: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i].toString() === streamField) message = fields[i + 1];
  if (!message) return;
  const decoded = decodeBatch(message);
  // Another format's batches (written before an upgrade) are refused whole, like live ones.
  if (!decoded.ok && decoded.otherFormat) return ctx.counters.drop('version', decoded.otherFormat.count);
  if (!decoded.ok) return ctx.counters.drop('bad_batch', Math.floor(message.length / syncRecordSize));
  const { header, records } = decoded;
  ctx.counters.recordsReceived += header.count;
  if (incompatibility(header, ctx.portability())) return ctx.counters.drop('incompatible', header.count);
  const { queued } = ctx.dataPlane.ingestSync(records, Math.max(0, now - header.sentAt));
  ctx.counters.recordsApplied += queued;
}
