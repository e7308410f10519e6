// store/ip.ts: addresses and prefixes of both families, parsed to numbers and written back in
// canonical form (RFC 5952 for IPv6), and prefix arithmetic that never mixes the families.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalAddress,
  contains,
  familyOf,
  formatAddress,
  formatCidr,
  hasHostBits,
  networkOf,
  parseAddress,
  parseCidr,
} from '../store/ip.js';

test('IPv6 text is written back as RFC 5952 says', () => {
  const cases: [string, string][] = [
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal zero runs
    ['2001:0db8::0001', '2001:db8::1'], // no leading zeros
    ['2001:DB8:0::1', '2001:db8::1'], // lower case
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['0:0:0:0:0:0:0:0', '::'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80::', 'fe80::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'], // a dotted tail is two groups
    ['::1.2.3.4', '::102:304'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'], // IPv4-mapped: mixed notation (RFC 5952 section 5)
    ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  for (const [text, canonical] of cases) {
    assert.equal(canonicalAddress(text), canonical, text);
    assert.equal(canonicalAddress(canonical), canonical, `${canonical} is a fixed point`);
  }
});

test('IPv4 and IPv6 parse to their numbers and format back', () => {
  assert.deepEqual(parseAddress('10.0.2.11'), { family: 4, value: 0x0a00020bn });
  assert.deepEqual(parseAddress('0.0.0.0'), { family: 4, value: 0n });
  assert.deepEqual(parseAddress('255.255.255.255'), { family: 4, value: 0xffffffffn });
  assert.deepEqual(parseAddress('2001:db8::1'), { family: 6, value: 0x20010db8000000000000000000000001n });
  assert.deepEqual(parseAddress('::'), { family: 6, value: 0n });
  assert.equal(formatAddress({ family: 4, value: 0x0a00020bn }), '10.0.2.11');
  assert.equal(formatAddress({ family: 6, value: 1n }), '::1');
  assert.equal(familyOf('10.0.0.0/8'), 4);
  assert.equal(familyOf('2001:db8::/32'), 6);
  assert.equal(familyOf('::ffff:1.2.3.4'), 6);
});

test('garbage never parses', () => {
  const bad = [
    '', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', ' 1.2.3.4', '1.2.3.4 ',
    ':', ':::', '::g', '1::2::3', '1:::2', ':1::', '1::2:', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7::8', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::', '::1.2.3', 'fe80::1%eth0', ' ::1', '::1 ',
  ];
  for (const text of bad) assert.throws(() => parseAddress(text), /not an IPv4 or IPv6 address/, JSON.stringify(text));
  for (const text of ['10.0.0.0', '10.0.0.0/33', '::/129', '::/', '::/01', '10.0.0.0/-1', '2001:db8::/3 ']) {
    assert.throws(() => parseCidr(text), /not an IPv4 or IPv6 address or prefix/, text);
  }
});

test('prefixes of both families: host bits, network, canonical text', () => {
  assert.deepEqual(parseCidr('10.0.2.2/24'), { family: 4, base: 0x0a000202n, length: 24 });
  assert.equal(hasHostBits(parseCidr('10.0.2.2/24')), true);
  assert.equal(hasHostBits(parseCidr('10.0.2.0/24')), false);
  assert.equal(formatCidr(networkOf(parseCidr('10.0.2.2/24'))), '10.0.2.0/24');
  assert.equal(formatCidr(parseCidr('2001:DB8:0:0::/32')), '2001:db8::/32');
  assert.equal(hasHostBits(parseCidr('2001:db8::1/64')), true);
  assert.equal(formatCidr(networkOf(parseCidr('2001:db8:1:2:3::1/48'))), '2001:db8:1::/48');
  assert.equal(hasHostBits(parseCidr('::/0')), false);
  assert.equal(hasHostBits(parseCidr('::1/128')), false);
  assert.equal(formatCidr(networkOf(parseCidr('10.1.2.3/0'))), '0.0.0.0/0');
});

test('contains() holds only within one family', () => {
  const v4 = parseCidr('10.0.2.0/24');
  const v6 = parseCidr('2001:db8:2::/64');
  assert.equal(contains(v4, parseAddress('10.0.2.11')), true);
  assert.equal(contains(v4, parseAddress('10.0.3.11')), false);
  assert.equal(contains(v6, parseAddress('2001:db8:2::11')), true);
  assert.equal(contains(v6, parseAddress('2001:db8:3::11')), false);
  // 10.0.2.11 and ::a00:20b are the same number in different families.
  assert.equal(contains(parseCidr('::/96'), parseAddress('10.0.2.11')), false);
  assert.equal(contains(v4, parseAddress('::a00:20b')), false);
  assert.equal(contains(parseCidr('0.0.0.0/0'), parseAddress('::1')), false);
  assert.equal(contains(parseCidr('::/0'), parseAddress('10.0.0.1')), false);
  assert.equal(contains(parseCidr('::/0'), parseAddress('::ffff:10.0.0.1')), true);
  assert.equal(contains(parseCidr('2001:db8::1/128'), parseAddress('2001:db8::1')), true);
});
