// The bridge against a real Redis (a redis-server of the test's own on a Unix socket) and a
// fake data plane. Conditions are awaited with generous timeouts, never timed.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { controlChannel, sessionsChannel, streamField, streamKey } from '../../engine/sync/redis.js';
import { formatVersion, nodeNumber } from '../../engine/sync/wire.js';
import { fakeRecord } from './fake-data-plane.js';
import { defaultPortability, peerBatch, peerOf, freshRedisPerTest, version1Batch, type TestNode } from './nodes.js';
import { redisMissing } from '../redis-server.js';
import { waitFor } from './wait.js';

const missing = redisMissing();
const synced = (...nodes: TestNode[]) => nodes.every((n) => n.status().state === 'synced');
const ports = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('sync bridge', { skip: missing }, () => {
  const { redis, nodes, replaceRedis } = freshRedisPerTest();

  test('two nodes exchange records and ignore their own', async () => {
    const a = nodes().start('a', 'active');
    const b = nodes().start('b', 'active');
    assert.equal(a.status().state, 'connecting');
    await waitFor('both synced', () => synced(a, b));
    await waitFor('each sees the other', () => peerOf(a, 'b') !== undefined && peerOf(b, 'a') !== undefined);

    a.plane.emit(1001, 1002, 1003);
    b.plane.emit(2001);
    await waitFor("b has a's records", () => b.plane.portsFrom(a.number).length === 3);
    await waitFor("a has b's record", () => a.plane.portsFrom(b.number).length === 1);
    assert.deepEqual(b.plane.portsFrom(a.number), [1001, 1002, 1003]);
    assert.deepEqual(b.plane.ingested.filter((r) => r.origin === a.number).map((r) => r.sequence), [0, 1, 2]);
    assert.deepEqual(a.plane.portsFrom(a.number), []);
    assert.deepEqual(b.plane.portsFrom(b.number), []);

    const status = b.status();
    assert.equal(status.role, 'active');
    assert.equal(status.nodeId, 'b');
    assert.equal(status.records.received, 3);
    assert.equal(status.records.applied, 3);
    assert.equal(status.batches.received, 1);
    assert.ok(status.lag.lastMs !== null && status.lag.lastMs >= 0);
    assert.ok(status.lag.p50Ms !== null && status.lag.p99Ms !== null);
    const { lastSeenMsAgo, ...peer } = peerOf(b, 'a')!;
    assert.deepEqual(peer, { nodeId: 'a', role: 'active', compatible: true, recordsReceived: 3 });
    assert.ok(lastSeenMsAgo >= 0);
    assert.equal(a.status().records.sent, 3);
    assert.equal(a.status().batches.sent, 1);
  });

  test('a peer with other workers or pools is refused whole, with the reason', async () => {
    const a = nodes().start('a', 'active');
    const c = nodes().start('c', 'backup', { portability: { workers: 2, fingerprint: 7 } });
    await waitFor('both synced', () => synced(a, c));
    await waitFor('c judged a', () => peerOf(c, 'a') !== undefined);
    assert.equal(peerOf(c, 'a')!.compatible, false);
    assert.match(peerOf(c, 'a')!.reason!, /peer runs 1 workers, this node 2/);
    await waitFor('a judged c', () => peerOf(a, 'c') !== undefined);
    assert.equal(peerOf(a, 'c')!.compatible, false);

    a.plane.emit(1, 2, 3);
    await waitFor('the records counted as dropped', () => c.status().records.dropped.incompatible === 3);
    assert.equal(c.plane.ingested.length, 0);

    const d = nodes().start('d', 'backup', { portability: { workers: 1, fingerprint: 7 } });
    await waitFor('d judged a', () => peerOf(d, 'a') !== undefined);
    assert.match(peerOf(d, 'a')!.reason!, /portability fingerprint 0x[0-9a-f]{8} differs .* local address pools/);
  });

  test('a peer of another sync format is shown incompatible, its records refused unread; sync goes on', async () => {
    const listener = redis().client();
    await listener.subscribe(controlChannel);
    const ownHello = new Promise<Record<string, unknown>>((resolve) =>
      listener.on('message', (_channel: string, raw: string) => {
        const m = JSON.parse(raw) as Record<string, unknown>;
        if (m.type === 'hello' && m.node === 'a') resolve(m);
      }),
    );
    const a = nodes().start('a', 'active');
    const b = nodes().start('b', 'backup');
    await waitFor('both synced', () => synced(a, b));
    await waitFor('b heard a', () => peerOf(b, 'a')?.role === 'active');
    assert.equal((await ownHello).format, formatVersion);
    listener.disconnect();
    const requested = b.status().snapshots.requested;

    const peer = redis().client();
    try {
      // A version 1 node's hello has no format field; its pools may well match.
      await peer.publish(controlChannel, JSON.stringify({ type: 'hello', node: 'old', nodeNumber: nodeNumber('old'), role: 'active', ...defaultPortability }));
      await waitFor('b judged old', () => peerOf(b, 'old') !== undefined);
      assert.equal(peerOf(b, 'old')!.compatible, false);
      assert.equal(peerOf(b, 'old')!.reason, 'sync format 1, this node speaks 2');
      await peer.publish(sessionsChannel, version1Batch('old', 0, 4));
      await waitFor('its records refused as version', () => b.status().records.dropped.version === 4);
      // A batch alone names its sender, listed by number until it says hello.
      await peer.publish(sessionsChannel, version1Batch('older', 0, 2));
      const older = `0x${nodeNumber('older').toString(16).padStart(8, '0')}`;
      await waitFor('older listed', () => peerOf(b, older) !== undefined);
      assert.equal(peerOf(b, older)!.reason, 'sync format 1, this node speaks 2');
      await waitFor('its records refused too', () => b.status().records.dropped.version === 6);
    } finally {
      peer.disconnect();
    }
    assert.deepEqual(b.plane.ingested, []);
    assert.equal(b.status().records.dropped.bad_batch, undefined);
    assert.equal(b.status().snapshots.requested, requested, 'an incompatible active peer is not asked for its sessions');

    a.plane.emit(1, 2);
    await waitFor("b has a's records", () => b.plane.portsFrom(a.number).length === 2);
    assert.equal(b.status().state, 'synced');
    assert.equal(peerOf(b, 'a')!.compatible, true);
  });

  test('a gap in a peer\'s sequence asks for a snapshot, which the active answers in chunks', async () => {
    const a = nodes().start('a', 'active');
    a.plane.sessions = ports(1, 5000).map((p) => fakeRecord(p));
    const b = nodes().start('b', 'backup');
    await waitFor('both synced', () => synced(a, b));
    await waitFor('b heard a', () => peerOf(b, 'a')?.role === 'active');
    // Joining, the backup asked for everything: 4096 + 904 records in two snapshot batches.
    await waitFor('the first snapshot', () => new Set(b.plane.portsFrom(a.number)).size === 5000);
    assert.ok(b.status().snapshots.received >= 2);
    assert.ok(b.plane.ingested.every((r) => r.origin !== a.number || r.sequence === 0));
    const requested = b.status().snapshots.requested;
    const received = b.plane.portsFrom(a.number).length;

    const peer = redis().client();
    try {
      await peer.publish(sessionsChannel, peerBatch('x', 0, [9001]));
      await peer.publish(sessionsChannel, peerBatch('x', 1, [9002, 9003]));
      await waitFor("x's records in order", () => b.plane.portsFrom(nodeNumber('x')).length === 3);
      assert.equal(b.status().snapshots.requested, requested);
      await peer.publish(sessionsChannel, peerBatch('x', 7, [9004]));
      await waitFor('a snapshot request', () => b.status().snapshots.requested === requested + 1);
      await waitFor('another snapshot', () => b.plane.portsFrom(a.number).length >= received + 5000);
    } finally {
      peer.disconnect();
    }
  });

  test('only active nodes answer snapshot requests', async () => {
    const a = nodes().start('a', 'active');
    a.plane.sessions = [fakeRecord(5)];
    const b = nodes().start('b', 'backup');
    b.plane.sessions = [fakeRecord(6)];
    await waitFor('both synced', () => synced(a, b));
    const peer = redis().client();
    try {
      await peer.publish(controlChannel, JSON.stringify({ type: 'snapshot-request', node: 'x', nodeNumber: nodeNumber('x') }));
      await waitFor('the active answered', () => a.status().snapshots.sent >= 1);
      assert.equal(b.status().snapshots.sent, 0);
      assert.deepEqual(a.plane.portsFrom(b.number), []);
    } finally {
      peer.disconnect();
    }
  });

  test('starting, a node replays the stream, its own records included and incompatible or older-format batches not', async () => {
    const first = nodes().start('a', 'active');
    await waitFor('synced', () => synced(first));
    first.plane.emit(11, 12, 13);
    await waitFor('the batch published', () => first.status().records.sent === 3);
    first.bridge.close();
    const peer = redis().client();
    try {
      await peer.xadd(streamKey, '*', streamField, peerBatch('y', 0, [21]));
      await peer.xadd(streamKey, '*', streamField, peerBatch('z', 0, [99], { workers: 3, fingerprint: 1 }));
      await peer.xadd(streamKey, '*', streamField, version1Batch('old', 0, 3));
    } finally {
      peer.disconnect();
    }

    const again = nodes().start('a', 'active', { replay: true });
    await waitFor('synced after the replay', () => synced(again));
    assert.deepEqual(again.plane.portsFrom(nodeNumber('a')), [11, 12, 13]);
    assert.deepEqual(again.plane.portsFrom(nodeNumber('y')), [21]);
    assert.deepEqual(again.plane.portsFrom(nodeNumber('z')), []);
    assert.equal(again.status().records.dropped.incompatible, 1);
    assert.equal(again.status().records.dropped.version, 3);
    assert.deepEqual(again.plane.portsFrom(nodeNumber('old')), []);
    assert.ok(again.plane.ingested.every((r) => r.ageMs >= 0));
  });

  test('Redis killed: degraded, drained records dropped and counted; back: synced with a full resync', async () => {
    // This one needs a server that asks for a password.
    const password = 'pw-never-shown';
    await replaceRedis({ password });
    const a = nodes().start('a', 'active', { password });
    a.plane.sessions = [fakeRecord(7001), fakeRecord(7002)];
    const b = nodes().start('b', 'backup', { password });
    await waitFor('both synced', () => synced(a, b));
    await waitFor('the joining snapshot', () => b.plane.portsFrom(a.number).length === 2);
    const snapshotsSent = a.status().snapshots.sent;
    const requested = b.status().snapshots.requested;

    await redis().stop('SIGKILL');
    await waitFor('both degraded', () => a.status().state === 'degraded' && b.status().state === 'degraded');
    a.plane.emit(...ports(1, 100));
    await waitFor('the drained records dropped', () => a.status().records.dropped.redis_unavailable === 100);
    assert.equal(a.plane.pending.length, 0);
    assert.ok(a.status().redisErrors > 0);
    assert.ok(a.status().lastError);
    assert.ok(!JSON.stringify(a.status()).includes(password));

    await redis().start();
    await waitFor('both synced again', () => synced(a, b));
    await waitFor('the active published a snapshot', () => a.status().snapshots.sent > snapshotsSent);
    await waitFor('the backup asked for one', () => b.status().snapshots.requested > requested);
    await waitFor('the resync reached the backup', () => b.plane.portsFrom(a.number).length >= 4);
    a.plane.emit(3001);
    await waitFor('live records flow again', () => b.plane.portsFrom(a.number).includes(3001));
    // Each change reported once, with its cause, and never the password.
    assert.deepEqual(a.stateChanges, [
      'synced: joined Redis',
      'degraded: the connection to Redis was lost; records are dropped until it is back',
      'synced: Redis is back; resyncing',
    ]);
  });
});
