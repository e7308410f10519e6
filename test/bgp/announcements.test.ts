// What a node announces: nothing before it is ready; then each VIP with a healthy service, its
// own local addresses as /32s and the covering prefixes, canonical, sorted and unique.

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

test('values that are not canonical IPv4 are never announced', () => {
  const prefixes = announcedPrefixes({
    ready: true,
    vips: [{ address: '10.0.1.10; route 0.0.0.0/0', up: true }, { address: '010.0.1.10', up: true }],
    localAddresses: ['fd00::1'],
    coveringPrefixes: ['10.0.2.97/28', '10.0.2.96/28 blackhole'],
  });
  assert.deepEqual(prefixes, []);
});

test('IPv6 VIPs and local addresses are left out (no IPv6 announcement yet); the IPv4 ones still go', () => {
  const prefixes = announcedPrefixes(input({
    vips: [{ address: '2001:db8:1::10', up: true }, { address: '10.0.1.10', up: true }],
    localAddresses: ['2001:db8:2::100', '10.0.2.100'],
    coveringPrefixes: [],
  }));
  assert.deepEqual(prefixes, ['10.0.1.10/32', '10.0.2.100/32']);
});
