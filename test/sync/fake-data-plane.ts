// An in-memory stand-in for the data plane's sync surface: events the test queues come out
// of drainSync stamped as the addon would stamp them, ingestSync keeps what it was given,
// and snapshotSync walks a list of sessions the test sets.

import type { SyncDataPlane } from '../../engine/sync/context.js';

const recordSize = 64;

/** A 64-byte `new` record for a TCP session told apart by its client port. */
export function fakeRecord(clientPort: number, kind = 1): Buffer {
  const r = Buffer.alloc(recordSize);
  r.writeUInt8(1, 0);
  r.writeUInt8(kind, 1);
  r.writeUInt8(6, 2);
  r.writeUInt8(3, 3);
  r.writeUInt32BE(0x0a000105, 16);
  r.writeUInt32BE(0x0a00010a, 20);
  r.writeUInt32BE(0x0a000264, 24);
  r.writeUInt32BE(0x0a00020b, 28);
  r.writeUInt16BE(clientPort, 32);
  r.writeUInt16BE(80, 34);
  r.writeUInt16BE(clientPort, 36);
  r.writeUInt16BE(80, 38);
  r.writeUInt32BE(90, 56);
  r.writeUInt32BE(90_000, 60);
  return r;
}

export interface IngestedRecord {
  origin: number;
  sequence: number;
  clientPort: number;
  kind: number;
  ageMs: number;
}

export class FakeDataPlane implements SyncDataPlane {
  /** Events waiting in the "sync rings". */
  readonly pending: Buffer[] = [];
  /** Every record ingestSync was given, decoded. */
  readonly ingested: IngestedRecord[] = [];
  /** What snapshotSync walks. */
  sessions: Buffer[] = [];
  drained = 0;

  /** Queues `new` events for these client ports. */
  emit(...clientPorts: number[]): void {
    for (const port of clientPorts) this.pending.push(fakeRecord(port));
  }

  drainSync(maxRecords: number, node: number, firstSequence: number): Buffer | null {
    const taken = this.pending.splice(0, maxRecords);
    if (taken.length === 0) return null;
    this.drained += taken.length;
    return Buffer.concat(taken.map((r, i) => stamp(r, node, (firstSequence + i) >>> 0)));
  }

  ingestSync(records: Buffer, ageMs: number): { queued: number; refused: number } {
    for (let at = 0; at < records.length; at += recordSize) {
      const r = records.subarray(at, at + recordSize);
      this.ingested.push({ origin: r.readUInt32BE(8), sequence: r.readUInt32BE(12), clientPort: r.readUInt16BE(32), kind: r.readUInt8(1), ageMs });
    }
    return { queued: records.length / recordSize, refused: 0 };
  }

  async snapshotSync(cursor: number, limit: number, node: number): Promise<{ records: Buffer; next: number | null }> {
    const chunk = this.sessions.slice(cursor, cursor + limit).map((r) => stamp(r, node, 0));
    const next = cursor + limit < this.sessions.length ? cursor + limit : null;
    return { records: Buffer.concat(chunk), next };
  }

  /** Client ports ingested from `origin`. */
  portsFrom(origin: number): number[] {
    return this.ingested.filter((r) => r.origin === origin).map((r) => r.clientPort);
  }
}

function stamp(record: Buffer, node: number, sequence: number): Buffer {
  const r = Buffer.from(record);
  r.writeUInt32BE(node, 8);
  r.writeUInt32BE(sequence, 12);
  return r;
}
