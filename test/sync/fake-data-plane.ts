// An in-memory stand-in for the data plane's sync surface: events the test queues come out
// of drainSync stamped as the addon would stamp them, ingestSync keeps what it was given,
// and snapshotSync walks a list of sessions the test sets.

import type { SyncDataPlane } from '../../engine/sync/context.js';
import { addressBytes, formatVersion, syncRecordSize } from '../../engine/sync/wire.js';

/** A wire record (docs/sync.md) of a `new` TCP session, told apart by its client port. */
export function fakeRecord(clientPort: number, kind = 1): Buffer {
  const r = Buffer.alloc(syncRecordSize);
  r.writeUInt8(formatVersion, 0);
  r.writeUInt8(kind, 1);
  r.writeUInt8(6, 2);
  r.writeUInt8(3, 3);
  ['10.0.1.5', '10.0.1.10', '10.0.2.100', '10.0.2.11'].forEach((a, i) => addressBytes(a).copy(r, 12 + 16 * i));
  r.writeUInt16BE(clientPort, 76);
  r.writeUInt16BE(80, 78);
  r.writeUInt16BE(clientPort, 80);
  r.writeUInt16BE(80, 82);
  r.writeUInt32BE(90, 100);
  r.writeUInt32BE(90_000, 104);
  return r;
}

/** `record` with its origin node and sequence number set, as the addon stamps them. */
export function stamp(record: Buffer, node: number, sequence: number): Buffer {
  const r = Buffer.from(record);
  r.writeUInt32BE(node, 4);
  r.writeUInt32BE(sequence, 8);
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
    for (let at = 0; at < records.length; at += syncRecordSize) {
      const r = records.subarray(at, at + syncRecordSize);
      this.ingested.push({ origin: r.readUInt32BE(4), sequence: r.readUInt32BE(8), clientPort: r.readUInt16BE(76), kind: r.readUInt8(1), ageMs });
    }
    return { queued: records.length / syncRecordSize, refused: 0 };
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
