// Multi-active nodes on a real Redis with fake data planes: each tells the others its own local
// addresses and learns theirs (kept after a peer falls silent), an address claimed by two nodes
// is refused on both, and a joining node is cluster-ready only once every live peer has sent
// its snapshot.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Portability } from '../../engine/sync/peers.js';
import { controlChannel, sessionsChannel } from '../../engine/sync/redis.js';
import { clusterFingerprint, formatVersion } from '../../engine/sync/wire.js';
import { fakeRecord } from './fake-data-plane.js';
import { peerBatch, peerOf, freshRedisPerTest } from './nodes.js';
import { redisMissing } from '../redis-server.js';
import { waitFor } from './wait.js';

const missing = redisMissing();
const pools = [{ name: 'lips', portMin: 1024, portMax: 65535 }];
const owning = (...addresses: string[]): Portability => ({ workers: 1, fingerprint: clusterFingerprint(1, pools), addresses: { lips: addresses } });

describe('multi-active sync', { skip: missing }, () => {
  const { redis, nodes } = freshRedisPerTest();

  test('nodes learn the addresses their peers own and keep them after a peer falls silent', async () => {
    const a = nodes().start('a', 'multi-active', { portability: owning('10.9.1.1') });
    const b = nodes().start('b', 'multi-active', { portability: owning('10.9.1.2', '10.9.1.3') });
    const c = nodes().start('c', 'multi-active', { portability: owning('10.9.1.4') });
    await waitFor('every node knows the others', () => Object.values(a.peerAddresses).flat().length === 3 && c.peerAddresses.lips?.length === 3);
    assert.deepEqual(a.peerAddresses, { lips: ['10.9.1.2', '10.9.1.3', '10.9.1.4'] });
    assert.deepEqual(b.peerAddresses, { lips: ['10.9.1.1', '10.9.1.4'] });
    const seen = peerOf(a, 'b')!;
    assert.equal(seen.role, 'multi-active');
    assert.equal(seen.compatible, true);
    assert.deepEqual(seen.addresses, { lips: ['10.9.1.2', '10.9.1.3'] });

    b.bridge.close();   // as if killed: no more hellos
    await waitFor('b gone from the status', () => peerOf(a, 'b') === undefined, 10_000);
    assert.deepEqual(a.peerAddresses, { lips: ['10.9.1.2', '10.9.1.3', '10.9.1.4'] }, "b's replies still come here");
  });

  test('a node that starts while an owner is dead learns its addresses from the others', async () => {
    const a = nodes().start('a', 'multi-active', { portability: owning('10.9.1.1') });
    const b = nodes().start('b', 'multi-active', { portability: owning('10.9.1.2') });
    await waitFor('a knows b', () => a.peerAddresses.lips?.includes('10.9.1.2') === true);
    b.bridge.close();   // b dies
    const c = nodes().start('c', 'multi-active', { portability: owning('10.9.1.3') });
    await waitFor("c knows b's addresses from a", () => c.peerAddresses.lips?.length === 2, 10_000);
    assert.deepEqual(c.peerAddresses, { lips: ['10.9.1.1', '10.9.1.2'] });
    assert.equal(peerOf(c, 'b'), undefined, 'c never heard b');
  });

  test('an address owned by two nodes is refused on both, with the reason', async () => {
    const a = nodes().start('a', 'multi-active', { portability: owning('10.9.1.1') });
    const d = nodes().start('d', 'multi-active', { portability: owning('10.9.1.9', '10.9.1.1') });
    await waitFor('each sees the other', () => peerOf(a, 'd') !== undefined && peerOf(d, 'a') !== undefined && peerOf(a, 'd')!.role === 'multi-active' && peerOf(d, 'a')!.role === 'multi-active');
    for (const [node, peer] of [[a, 'd'], [d, 'a']] as const) {
      const status = peerOf(node, peer)!;
      assert.equal(status.compatible, false);
      assert.match(status.reason ?? '', /10\.9\.1\.1 is owned by both nodes/);
    }
    assert.deepEqual(a.peerAddresses, {});
    const publisher = redis().client();
    try {
      await publisher.publish(sessionsChannel, peerBatch('d', 0, [5001], owning('10.9.1.9', '10.9.1.1')));
      await waitFor('the batch refused', () => a.status().records.dropped.incompatible === 1);
    } finally {
      publisher.disconnect();
    }
  });

  test('a node that joins is cluster-ready once every live peer sent its snapshot', async () => {
    const a = nodes().start('a', 'multi-active', { portability: owning('10.9.1.1') });
    const b = nodes().start('b', 'multi-active', { portability: owning('10.9.1.2') });
    await waitFor('a and b ready', () => a.status().clusterReady === true && b.status().clusterReady === true, 20_000);
    a.plane.sessions = [1, 2, 3].map((p) => fakeRecord(3000 + p));
    b.plane.sessions = [4, 5].map((p) => fakeRecord(3000 + p));

    const c = nodes().start('c', 'multi-active', { portability: owning('10.9.1.3') });
    assert.equal(c.status().clusterReady, false);
    await waitFor('c ready', () => c.status().clusterReady === true, 20_000);
    // Ready means both snapshots are in (another node's request may bring one twice: installing
    // is idempotent), and the peers' addresses were learnt before asking.
    const held = (peer: number) => [...new Set(c.plane.portsFrom(peer))].sort();
    assert.deepEqual(held(a.number), [3001, 3002, 3003]);
    assert.deepEqual(held(b.number), [3004, 3005]);
    assert.deepEqual(c.peerAddresses, { lips: ['10.9.1.1', '10.9.1.2'] });
    assert.ok(c.stateChanges.some((s) => /cluster-ready: every cluster peer sent its snapshot/.test(s)), c.stateChanges.join('\n'));
  });

  test('hellos with addresses that are not IP addresses, bad pool names or too many are ignored', async () => {
    const a = nodes().start('a', 'multi-active', { portability: owning('10.9.1.1') });
    await waitFor('a synced', () => a.status().state === 'synced');
    const hello = (node: string, addresses: unknown, remembered?: unknown) =>
      JSON.stringify({ type: 'hello', node, nodeNumber: 1000 + node.length, role: 'multi-active', format: formatVersion, ...owning(), addresses, ...(remembered ? { remembered } : {}) });
    const tooMany = { lips: Array.from({ length: 4097 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`) };
    const publisher = redis().client();
    try {
      for (const message of [
        hello('x', { lips: ['10.9.1.2; reboot'] }),
        hello('xx', { '../etc': ['10.9.1.2'] }),
        hello('xxx', tooMany),
        hello('xxxx', { lips: ['10.9.1.2'] }, { 'not-a-number': { lips: ['10.9.1.3'] } }),
        hello('xxxxx', { lips: '10.9.1.2' }),
        hello('xxxxxx', { lips: ['2001:db8::1/64'] }),
        JSON.stringify({ ...JSON.parse(hello('y', { lips: ['10.9.1.8'] })), format: 'two' }),
      ])
        await publisher.publish(controlChannel, message);
      await publisher.publish(controlChannel, hello('ok', { lips: ['10.9.1.7', '2001:db8:9::7'] }));
      await waitFor('the well-formed hello', () => peerOf(a, 'ok') !== undefined);
    } finally {
      publisher.disconnect();
    }
    assert.deepEqual(a.peerAddresses, { lips: ['10.9.1.7', '2001:db8:9::7'] });
    assert.deepEqual(a.status().peers.map((p) => p.nodeId), ['ok']);
  });

  test('an active node and a multi-active one do not share sessions', async () => {
    const a = nodes().start('a', 'multi-active', { portability: owning('10.9.1.1') });
    nodes().start('x', 'active');
    await waitFor('a sees x', () => peerOf(a, 'x')?.role === 'active');
    assert.equal(peerOf(a, 'x')!.compatible, false);
    assert.match(peerOf(a, 'x')!.reason ?? '', /not multi-active/);
  });
});
