// What a node announces: nothing before it is ready; then each VIP with a healthy service, its
// own local addresses as /32s and /128s and the covering prefixes, canonical, IPv4 first,
// sorted and unique.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announcedPrefixes, type AnnouncementInput } from '../../engine/bgp/announcements.js';

const input = (over: Partial<AnnouncementInput> = {}): AnnouncementInput => ({
  ready: true,
  vips: [
    { address: '10.0.1.11', up: true },
    { address: '10.0.1.10', up: false },
    { address: '10.0.1.10', up: true },
    { address: '10.0.1.12', up: false },
  ],
  localAddresses: ['10.0.2.101', '10.0.2.100'],
  coveringPrefixes: ['10.0.2.96/28', '10.0.0.0/8'],
  ...over,
});

test('a ready node announces its up VIPs, its local addresses and the covering prefixes, sorted', () => {
  assert.deepEqual(announcedPrefixes(input()), ['10.0.0.0/8', '10.0.1.10/32', '10.0.1.11/32', '10.0.2.96/28', '10.0.2.100/32', '10.0.2.101/32']);
});

test('a VIP is announced while any of its services is up, and only once', () => {
  const vips = [
    { address: '10.0.1.10', up: true },
    { address: '10.0.1.10', up: true },
    { address: '10.0.1.10', up: false },
  ];
  assert.deepEqual(announcedPrefixes(input({ vips, localAddresses: [], coveringPrefixes: [] })), ['10.0.1.10/32']);
  assert.deepEqual(announcedPrefixes(input({ vips: vips.map((v) => ({ ...v, up: false })), localAddresses: [], coveringPrefixes: [] })), []);
});

test('a node that is not ready announces nothing at all', () => {
  assert.deepEqual(announcedPrefixes(input({ ready: false })), []);
});

test('a local address that is also a VIP, or a prefix given twice, appears once', () => {
  const prefixes = announcedPrefixes(input({ vips: [{ address: '10.0.2.100', up: true }], coveringPrefixes: ['10.0.2.96/28', '10.0.2.96/28'] }));
  assert.deepEqual(prefixes, ['10.0.2.96/28', '10.0.2.100/32', '10.0.2.101/32']);
});

test('values that are not canonical addresses or prefixes are never announced', () => {
  const prefixes = announcedPrefixes({
    ready: true,
    vips: [{ address: '10.0.1.10; route 0.0.0.0/0', up: true }, { address: '010.0.1.10', up: true }, { address: '2001:DB8:1::10', up: true }],
    localAddresses: ['fd00:0:0:0:0:0:0:1', '::ffff:10.0.2.100', 'fe80::1%eth0'],
    coveringPrefixes: ['10.0.2.97/28', '10.0.2.96/28 blackhole', '2001:db8:2::1/64', '2001:db8:2:0::/64'],
  });
  assert.deepEqual(prefixes, []);
});

test('IPv6 VIPs and local addresses go as /128s, IPv6 covering prefixes as given; IPv4 first', () => {
  const prefixes = announcedPrefixes(input({
    vips: [{ address: '2001:db8:1::10', up: true }, { address: '2001:db8:1::11', up: false }, { address: '10.0.1.10', up: true }],
    localAddresses: ['2001:db8:2::101', '2001:db8:2::100', '10.0.2.100'],
    coveringPrefixes: ['2001:db8:2::/64', '10.0.2.96/28', '::/0'],
  }));
  assert.deepEqual(prefixes, [
    '10.0.1.10/32', '10.0.2.96/28', '10.0.2.100/32',
    '::/0', '2001:db8:1::10/128', '2001:db8:2::/64', '2001:db8:2::100/128', '2001:db8:2::101/128',
  ]);
});
