import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { batchHeaderSize, decodeBatch, encodeBatch, fnv1a32, nodeNumber, portabilityFingerprint, type BatchHeader } from '../../engine/sync/wire.js';
import { fakeRecord } from './fake-data-plane.js';

const header: Omit<BatchHeader, 'count'> = {
  snapshot: false,
  origin: 0xdeadbeef,
  workers: 4,
  fingerprint: 0x01020304,
  firstSequence: 0xfffffffe,
  sentAt: 1_763_900_000_123,
};

function rejected(batch: Buffer): string {
  const decoded = decodeBatch(batch);
  assert.equal(decoded.ok, false);
  return decoded.ok ? '' : decoded.reason;
}

describe('sync wire', () => {
  test('a batch round-trips, header fields at the offsets docs/sync.md gives', () => {
    const records = Buffer.concat([fakeRecord(1000), fakeRecord(1001), fakeRecord(1002)]);
    const batch = encodeBatch({ ...header, snapshot: true }, records);
    assert.equal(batch.length, batchHeaderSize + 3 * 64);
    assert.equal(batch.subarray(0, 4).toString('latin1'), 'L4SY');
    assert.equal(batch[4], 1);
    assert.equal(batch[5], 1);
    assert.equal(batch.readUInt16BE(6), 3);
    assert.equal(batch.readUInt32BE(8), 0xdeadbeef);
    assert.equal(batch.readUInt16BE(12), 4);
    assert.equal(batch.readUInt16BE(14), 64);
    assert.equal(batch.readUInt32BE(16), 0x01020304);
    assert.equal(batch.readUInt32BE(20), 0xfffffffe);
    assert.equal(Number(batch.readBigUInt64BE(24)), header.sentAt);

    const decoded = decodeBatch(batch);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.header, { ...header, snapshot: true, count: 3 });
    assert.deepEqual(decoded.records, records);
  });

  test('an empty batch is valid; a partial record is not encodable', () => {
    const decoded = decodeBatch(encodeBatch(header, Buffer.alloc(0)));
    assert.ok(decoded.ok);
    assert.equal(decoded.header.count, 0);
    assert.throws(() => encodeBatch(header, Buffer.alloc(65)), /whole records/);
  });

  test('wrong magic, version, record size and length are refused with the reason', () => {
    const good = encodeBatch(header, Buffer.concat([fakeRecord(1), fakeRecord(2)]));
    const edit = (offset: number, write: (b: Buffer) => void) => {
      const copy = Buffer.from(good);
      write(copy.subarray(offset));
      return copy;
    };
    assert.match(rejected(edit(0, (b) => b.write('XXXX', 'latin1'))), /magic/);
    assert.match(rejected(edit(4, (b) => b.writeUInt8(2))), /format version 2/);
    assert.match(rejected(edit(14, (b) => b.writeUInt16BE(48))), /record size 48/);
    assert.match(rejected(edit(6, (b) => b.writeUInt16BE(3))), /for 3 records, expected 224/);
    assert.match(rejected(good.subarray(0, good.length - 1)), /expected 160/);
    assert.match(rejected(Buffer.concat([good, Buffer.alloc(64)])), /expected 160/);
    assert.match(rejected(good.subarray(0, 20)), /shorter than the 32-byte header/);
  });

  test('FNV-1a 32 matches its published vectors; node numbers hash the UTF-8 node id', () => {
    assert.equal(fnv1a32(Buffer.alloc(0)), 0x811c9dc5);
    assert.equal(fnv1a32(Buffer.from('a')), 0xe40c292c);
    assert.equal(fnv1a32(Buffer.from('foobar')), 0xbf9cf968);
    assert.equal(nodeNumber('foobar'), 0xbf9cf968);
    assert.notEqual(nodeNumber('lb1'), nodeNumber('lb2'));
  });

  test('the fingerprint ignores pool and address order, and sees workers, addresses and ports', () => {
    const a = { addresses: [0x0a000264, 0x0a000265], portMin: 1024, portMax: 65535 };
    const b = { addresses: [0x0a000366], portMin: 2000, portMax: 3000 };
    const base = portabilityFingerprint(2, [a, b]);
    assert.equal(portabilityFingerprint(2, [b, { ...a, addresses: [...a.addresses].reverse() }]), base);
    // Grouping does not count: the same addresses with the same ports in other pools.
    assert.equal(portabilityFingerprint(2, [{ ...a, addresses: [a.addresses[1]] }, b, { ...a, addresses: [a.addresses[0]] }]), base);
    assert.notEqual(portabilityFingerprint(4, [a, b]), base);
    assert.notEqual(portabilityFingerprint(2, [a, { ...b, portMax: 3001 }]), base);
    assert.notEqual(portabilityFingerprint(2, [a, { ...b, addresses: [0x0a000367] }]), base);
    assert.notEqual(portabilityFingerprint(2, [a]), base);
    // The documented byte input: workers u16, then address u32, first port u16, last port u16.
    const bytes = Buffer.from([0, 2, 10, 0, 3, 0x66, 0x07, 0xd0, 0x0b, 0xb8]);
    assert.equal(portabilityFingerprint(2, [b]), fnv1a32(bytes));
  });
});
