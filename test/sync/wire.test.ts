import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressBytes,
  batchHeaderSize,
  decodeBatch,
  encodeBatch,
  fnv1a32,
  formatVersion,
  nodeNumber,
  portabilityFingerprint,
  syncRecordSize,
  type BatchHeader,
} from '../../engine/sync/wire.js';
import { fakeRecord } from './fake-data-plane.js';
import { version1Batch } from './nodes.js';

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
    assert.equal(syncRecordSize, 111);
    assert.equal(batch.length, batchHeaderSize + 3 * 111);
    assert.equal(batch.subarray(0, 4).toString('latin1'), 'L4SY');
    assert.equal(batch[4], 2);
    assert.equal(batch[5], 1);
    assert.equal(batch.readUInt16BE(6), 3);
    assert.equal(batch.readUInt32BE(8), 0xdeadbeef);
    assert.equal(batch.readUInt16BE(12), 4);
    assert.equal(batch.readUInt16BE(14), 111);
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
    assert.throws(() => encodeBatch(header, Buffer.alloc(112)), /whole records/);
  });

  test('wrong magic, record size and length are refused with the reason', () => {
    const good = encodeBatch(header, Buffer.concat([fakeRecord(1), fakeRecord(2)]));
    const edit = (offset: number, write: (b: Buffer) => void) => {
      const copy = Buffer.from(good);
      write(copy.subarray(offset));
      return copy;
    };
    assert.match(rejected(edit(0, (b) => b.write('XXXX', 'latin1'))), /magic/);
    assert.match(rejected(edit(14, (b) => b.writeUInt16BE(64))), /record size 64/);
    assert.match(rejected(edit(6, (b) => b.writeUInt16BE(3))), /for 3 records, expected 365/);
    assert.match(rejected(good.subarray(0, good.length - 1)), /expected 254/);
    assert.match(rejected(Buffer.concat([good, Buffer.alloc(111)])), /expected 254/);
    assert.match(rejected(good.subarray(0, 20)), /shorter than the 32-byte header/);
    for (const bad of [edit(0, (b) => b.write('XXXX', 'latin1')), edit(14, (b) => b.writeUInt16BE(64))]) {
      const decoded = decodeBatch(bad);
      assert.ok(!decoded.ok && decoded.otherFormat === undefined, 'malformed, not another format');
    }
  });

  test('a batch of another format version is read no further than who sent it and how many records', () => {
    const decoded = decodeBatch(version1Batch('v1', 0, 5));
    assert.ok(!decoded.ok);
    assert.equal(decoded.reason, 'sync format 1, this node speaks 2');
    assert.deepEqual(decoded.otherFormat, { format: 1, origin: nodeNumber('v1'), count: 5 });
    // A later version may change what follows the first 12 bytes: nothing past them is checked.
    const later = encodeBatch(header, fakeRecord(1));
    later.writeUInt8(3, 4);
    later.writeUInt16BE(999, 14);
    const next = decodeBatch(Buffer.concat([later, Buffer.alloc(7)]));
    assert.ok(!next.ok);
    assert.deepEqual(next.otherFormat, { format: 3, origin: header.origin, count: 1 });
    assert.equal(formatVersion, 2);
  });

  test('FNV-1a 32 matches its published vectors; node numbers hash the UTF-8 node id', () => {
    assert.equal(fnv1a32(Buffer.alloc(0)), 0x811c9dc5);
    assert.equal(fnv1a32(Buffer.from('a')), 0xe40c292c);
    assert.equal(fnv1a32(Buffer.from('foobar')), 0xbf9cf968);
    assert.equal(nodeNumber('foobar'), 0xbf9cf968);
    assert.notEqual(nodeNumber('lb1'), nodeNumber('lb2'));
  });

  test('addresses take their 16 wire bytes: IPv6 as is, IPv4 mapped', () => {
    const hex = (text: string) => addressBytes(text).toString('hex');
    assert.equal(hex('10.0.3.102'), '00000000000000000000ffff0a000366');
    assert.equal(hex('2001:db8::1'), '20010db8000000000000000000000001');
    assert.equal(hex('2001:DB8:0:0:1:0:0:1'), '20010db8000000000001000000000001');
    assert.equal(hex('::'), '0'.repeat(32));
    assert.equal(hex('fe80::'), 'fe80' + '0'.repeat(28));
    assert.equal(hex('64:ff9b::192.0.2.33'), '0064ff9b0000000000000000c0000221');
    assert.equal(hex('::ffff:10.0.3.102'), hex('10.0.3.102'));
    for (const bad of ['10.0.3', 'fe80::1%eth0', '2001:db8::1::2', 'lb1', ''])
      assert.throws(() => addressBytes(bad), /not an IPv4 or IPv6 address/, bad);
  });

  test('the fingerprint ignores pool and address order, and sees workers, addresses and ports', () => {
    const a = { addresses: ['10.0.2.100', '2001:db8:2::65'], portMin: 1024, portMax: 65535 };
    const b = { addresses: ['10.0.3.102'], portMin: 2000, portMax: 3000 };
    const base = portabilityFingerprint(2, [a, b]);
    assert.equal(portabilityFingerprint(2, [b, { ...a, addresses: [...a.addresses].reverse() }]), base);
    // Grouping does not count: the same addresses with the same ports in other pools.
    assert.equal(portabilityFingerprint(2, [{ ...a, addresses: [a.addresses[1]] }, b, { ...a, addresses: [a.addresses[0]] }]), base);
    // Nor does how an address is written.
    assert.equal(portabilityFingerprint(2, [{ ...a, addresses: ['10.0.2.100', '2001:DB8:2:0::65'] }, b]), base);
    assert.notEqual(portabilityFingerprint(4, [a, b]), base);
    assert.notEqual(portabilityFingerprint(2, [a, { ...b, portMax: 3001 }]), base);
    assert.notEqual(portabilityFingerprint(2, [a, { ...b, addresses: ['10.0.3.103'] }]), base);
    assert.notEqual(portabilityFingerprint(2, [{ ...a, addresses: ['10.0.2.100', '2001:db8:2::66'] }, b]), base);
    assert.notEqual(portabilityFingerprint(2, [a]), base);
    // The documented byte input: workers u16, then the address's 16 bytes, first port u16, last port u16.
    const bytes = Buffer.concat([Buffer.from([0, 2]), addressBytes('10.0.3.102'), Buffer.from([0x07, 0xd0, 0x0b, 0xb8])]);
    assert.equal(portabilityFingerprint(2, [b]), fnv1a32(bytes));
    assert.equal(bytes.toString('hex'), '0002' + '00000000000000000000ffff0a000366' + '07d00bb8');
  });
});
