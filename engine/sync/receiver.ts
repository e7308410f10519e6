// Batches from the sessions channel: this node's own are ignored, an incompatible peer's are
// refused whole (another sync format's without reading its records), a jump in a peer's live
// sequence asks for a snapshot, and the rest go to the data plane aged by how long ago they
// were sent.

import type { BridgeContext } from './context.js';
import type { PeerTable } from './peers.js';
import { batchHeaderSize, decodeBatch, syncRecordSize, type OtherFormat } from './wire.js';

export class Receiver {
  constructor(
    private readonly ctx: BridgeContext,
    private readonly peers: PeerTable,
    /** Called when records were lost on the way. */
    private readonly gap: () => void,
  ) {}

  batch(message: Buffer): void {
    const { ctx } = this;
    const decoded = decodeBatch(message);
    if (!decoded.ok && decoded.otherFormat) return this.otherFormat(decoded.otherFormat);
    if (!decoded.ok) {
      ctx.counters.drop('bad_batch', Math.max(0, Math.floor((message.length - batchHeaderSize) / syncRecordSize)));
      ctx.counters.noteError(`a batch was refused: ${decoded.reason}`);
      return;
    }
    const { header, records } = decoded;
    if (header.origin === ctx.node) return;
    const now = Date.now();
    ctx.counters.batchesReceived++;
    ctx.counters.recordsReceived += header.count;
    if (header.snapshot) ctx.counters.snapshotsReceived++;
    if (this.peers.batch(header.origin, header, ctx.portability(), now, header.count)) return ctx.counters.drop('incompatible', header.count);
    if (!header.snapshot && this.peers.sequenceGap(header.origin, header.firstSequence, header.count, now)) this.gap();
    // A peer's clock a little ahead must not make records younger than sent.
    const age = Math.max(0, now - header.sentAt);
    const { queued } = ctx.dataPlane.ingestSync(records, age);
    ctx.counters.recordsApplied += queued;
    ctx.counters.observeLag(age);
  }

  /** A peer speaking another sync format: shown incompatible, its records refused as `version`. */
  private otherFormat({ format, origin, count }: OtherFormat): void {
    const { ctx } = this;
    if (origin === ctx.node) return;
    ctx.counters.batchesReceived++;
    ctx.counters.recordsReceived += count;
    this.peers.otherFormat(origin, format, Date.now());
    ctx.counters.drop('version', count);
  }
}
