// The snapshot server alone, publishing into a recording stand-in for Redis: chunking,
// rate limiting, and requests arriving together answered by one more snapshot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BridgeContext } from '../../engine/sync/context.js';
import type { RedisLinks } from '../../engine/sync/redis.js';
import { SnapshotServer } from '../../engine/sync/snapshots.js';
import { SyncCounters, type SyncRole } from '../../engine/sync/stats.js';
import { decodeBatch } from '../../engine/sync/wire.js';
import { FakeDataPlane, fakeRecord } from './fake-data-plane.js';
import { waitFor } from './wait.js';

function harness(sessions: number) {
  const plane = new FakeDataPlane();
  plane.sessions = Array.from({ length: sessions }, (_, i) => fakeRecord(i + 1));
  const published: Buffer[] = [];
  const counters = new SyncCounters();
  let role: SyncRole = 'active';
  const links = { commands: { publish: async (_channel: string, message: Buffer) => published.push(message) } } as unknown as RedisLinks;
  const ctx: BridgeContext = {
    nodeId: 'a',
    node: 42,
    dataPlane: plane,
    counters,
    links,
    streamMaxLength: 1000,
    replayWindowMs: () => 60_000,
    portability: () => ({ workers: 2, fingerprint: 9 }),
    role: () => role,
    writable: () => true,
    closed: () => false,
    fail: (err) => counters.error(String(err)),
  };
  return { published, counters, ctx, demote: () => (role = 'backup') };
}

test('a snapshot goes out in chunks of 4096 records as snapshot batches with sequence 0', async () => {
  const h = harness(9000);
  let done = 0;
  new SnapshotServer(h.ctx, () => done++).request();
  await waitFor('the snapshot', () => h.counters.snapshotsSent === 1);
  assert.equal(done, 1, 'snapshot-done is told once, after the last batch');
  const batches = h.published.map((b) => decodeBatch(b));
  assert.deepEqual(batches.map((b) => (b.ok ? b.header.count : -1)), [4096, 4096, 808]);
  for (const b of batches) {
    assert.ok(b.ok);
    assert.equal(b.header.snapshot, true);
    assert.equal(b.header.firstSequence, 0);
    assert.equal(b.header.origin, 42);
    assert.equal(b.header.workers, 2);
  }
  assert.equal(h.counters.recordsSent, 9000);
  assert.equal(h.counters.batchesSent, 3);
});

test('requests arriving during a snapshot or its interval are answered together by one more', async () => {
  const h = harness(10);
  const server = new SnapshotServer(h.ctx, () => undefined, 50);
  for (let i = 0; i < 5; i++) server.request();
  await waitFor('two snapshots', () => h.counters.snapshotsSent === 2);
  // Five requests, two snapshots: the first at once, the other four coalesced. A new request gets another.
  server.request();
  await waitFor('a third after a new request', () => h.counters.snapshotsSent === 3);
  assert.equal(h.published.length, 3);
  server.stop();
});

test('a node demoted mid-way stops serving', async () => {
  const h = harness(10_000);
  let done = 0;
  const server = new SnapshotServer(h.ctx, () => done++);
  server.request();
  h.demote();
  // The first chunk left before the demotion; the walk stops at the next.
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(h.published.length, 1);
  assert.equal(h.counters.snapshotsSent, 0);
  assert.equal(done, 0, 'an unfinished snapshot is not told done');
});
