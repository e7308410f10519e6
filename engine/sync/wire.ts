// The batch header of docs/sync.md (32 bytes, network byte order) in front of the data
// plane's wire records, and the two FNV-1a hashes peers compare: a node's number and the
// portability fingerprint.
//
// The format version names the layout of the header and the records together. A node reads
// its own version only; another version's batch is never read past the fields every version
// keeps in place (magic, version, flags, record count, origin), which say who sent it and how
// many records were refused.

import { parseAddress } from '../../store/ip.js';

export const batchHeaderSize = 32;
export const batchMagic = 0x4c345359; // 'L4SY'
/** 2: records of 111 bytes carrying IPv4 or IPv6 addresses (1: 64 bytes, IPv4 only). */
export const formatVersion = 2;
/** Bytes per wire record (native/dataplane/sync_record.h, kSyncRecordSize). */
export const syncRecordSize = 111;
/** Header flag bit 0: the batch is part of a snapshot (records carry sequence 0). */
export const snapshotFlag = 0x01;
/** The record count is a 16-bit field. */
export const maxBatchRecords = 0xffff;

export interface BatchHeader {
  snapshot: boolean;
  count: number;
  origin: number;
  workers: number;
  fingerprint: number;
  firstSequence: number;
  /** Unix milliseconds. */
  sentAt: number;
}

/** What a batch of another format version says of itself. */
export interface OtherFormat {
  format: number;
  origin: number;
  count: number;
}

export type DecodedBatch = { ok: true; header: BatchHeader; records: Buffer } | { ok: false; reason: string; otherFormat?: OtherFormat };

/** Why a peer speaking `format` cannot share sessions with this node, or undefined when it can. */
export function formatMismatch(format: number): string | undefined {
  return format === formatVersion ? undefined : `sync format ${format}, this node speaks ${formatVersion}`;
}

/** One batch: the header for `records` (a whole number of wire records) followed by them. */
export function encodeBatch(header: Omit<BatchHeader, 'count'>, records: Buffer): Buffer {
  const count = records.length / syncRecordSize;
  if (!Number.isInteger(count) || count > maxBatchRecords) throw new RangeError(`a batch holds 0..${maxBatchRecords} whole records, not ${records.length} bytes`);
  const batch = Buffer.allocUnsafe(batchHeaderSize + records.length);
  batch.writeUInt32BE(batchMagic, 0);
  batch.writeUInt8(formatVersion, 4);
  batch.writeUInt8(header.snapshot ? snapshotFlag : 0, 5);
  batch.writeUInt16BE(count, 6);
  batch.writeUInt32BE(header.origin >>> 0, 8);
  batch.writeUInt16BE(header.workers, 12);
  batch.writeUInt16BE(syncRecordSize, 14);
  batch.writeUInt32BE(header.fingerprint >>> 0, 16);
  batch.writeUInt32BE(header.firstSequence >>> 0, 20);
  batch.writeBigUInt64BE(BigInt(header.sentAt), 24);
  records.copy(batch, batchHeaderSize);
  return batch;
}

/** Reads a batch; anything not exactly as docs/sync.md describes is refused with the reason. */
export function decodeBatch(batch: Buffer): DecodedBatch {
  if (batch.length < batchHeaderSize) return { ok: false, reason: `${batch.length} bytes is shorter than the ${batchHeaderSize}-byte header` };
  const magic = batch.readUInt32BE(0);
  if (magic !== batchMagic) return { ok: false, reason: `bad magic 0x${magic.toString(16).padStart(8, '0')}` };
  const format = batch.readUInt8(4);
  const mismatch = formatMismatch(format);
  if (mismatch) return { ok: false, reason: mismatch, otherFormat: { format, origin: batch.readUInt32BE(8), count: batch.readUInt16BE(6) } };
  const recordSize = batch.readUInt16BE(14);
  if (recordSize !== syncRecordSize) return { ok: false, reason: `record size ${recordSize}, this node reads ${syncRecordSize}` };
  const count = batch.readUInt16BE(6);
  const expected = batchHeaderSize + count * syncRecordSize;
  if (batch.length !== expected) return { ok: false, reason: `${batch.length} bytes for ${count} records, expected ${expected}` };
  return {
    ok: true,
    header: {
      snapshot: (batch.readUInt8(5) & snapshotFlag) !== 0,
      count,
      origin: batch.readUInt32BE(8),
      workers: batch.readUInt16BE(12),
      fingerprint: batch.readUInt32BE(16),
      firstSequence: batch.readUInt32BE(20),
      sentAt: Number(batch.readBigUInt64BE(24)),
    },
    records: batch.subarray(batchHeaderSize),
  };
}

const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;

/** FNV-1a, 32 bits. */
export function fnv1a32(bytes: Uint8Array): number {
  let hash = fnvOffset;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, fnvPrime);
  return hash >>> 0;
}

/** The node id as records and batch headers carry it: FNV-1a 32 of its UTF-8 bytes. */
export function nodeNumber(nodeId: string): number {
  return fnv1a32(Buffer.from(nodeId, 'utf8'));
}

export interface PortablePool {
  /** Text form, either family. */
  addresses: string[];
  portMin: number;
  portMax: number;
}

/**
 * An address's 16 bytes as wire records carry it: IPv6 as is, IPv4 mapped (::ffff:a.b.c.d).
 * Throws on anything but an IPv4 or IPv6 address (store/ip.ts parses it).
 */
export function addressBytes(text: string): Buffer {
  const { family, value } = parseAddress(text);
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64BE(value >> 64n, 0);
  bytes.writeBigUInt64BE((family === 4 ? value | (0xffffn << 32n) : value) & 0xffffffffffffffffn, 8);
  return bytes;
}

/**
 * What makes a session's local address and port mean the same on two nodes, hashed. The
 * input bytes are: the worker count as a big-endian u16, then one 20-byte entry per local
 * address of every pool — the address's 16 bytes as records carry it (IPv4-mapped for IPv4),
 * first port (u16 BE), last port (u16 BE) — sorted by those bytes. Pool names and the order
 * of pools and of addresses within a pool do not count; which addresses exist with which
 * ports does.
 */
export function portabilityFingerprint(workers: number, pools: PortablePool[]): number {
  const entries = pools.flatMap((p) =>
    p.addresses.map((address) => {
      const entry = Buffer.alloc(20);
      addressBytes(address).copy(entry);
      entry.writeUInt16BE(p.portMin, 16);
      entry.writeUInt16BE(p.portMax, 18);
      return entry;
    }),
  );
  entries.sort(Buffer.compare);
  return fnv1a32(Buffer.concat([Buffer.from([workers >> 8, workers & 0xff]), ...entries]));
}

/**
 * The fingerprint of a multi-active cluster node, where each node owns its own local addresses
 * (told in its hello) and sessions stay portable as long as a local port means the same worker
 * and range everywhere: the worker count as a big-endian u16, then per pool, sorted by name, its
 * name's UTF-8 bytes, a 0 byte, first port and last port (u16 BE each).
 */
export function clusterFingerprint(workers: number, pools: { name: string; portMin: number; portMax: number }[]): number {
  const sorted = [...pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts = [Buffer.from([workers >> 8, workers & 0xff])];
  for (const p of sorted) parts.push(Buffer.from(p.name, 'utf8'), Buffer.from([0, p.portMin >> 8, p.portMin & 0xff, p.portMax >> 8, p.portMax & 0xff]));
  return fnv1a32(Buffer.concat(parts));
}
