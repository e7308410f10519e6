// The data plane's calls that wait for the workers to walk their session tables (listing,
// flushing, sync snapshots) run off Node's event loop and resolve promises, while every other
// call goes on from the JavaScript thread: they are serialized by the addon's control lock,
// never lost or crossed. An in-process DPDK engine without NICs. Needs root; fails under CI=true.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpdkEngine } from '../../engine/dataplane/dpdk-engine.js';
import { loadNative, type NativeEngine } from '../../engine/dataplane/native.js';
import { requireRoot } from './netns.js';

const skip = requireRoot();
let engine: DpdkEngine;

before(() => {
  if (skip) return;
  engine = new DpdkEngine({ workers: 2, idle: 'adaptive', sessionsPerWorker: 4096, protectManagement: null });
});

after(async () => {
  await engine?.close();
});

test('listing and flushing sessions return promises that settle with their answers', { skip }, async () => {
  const listing = engine.sessions({ limit: 10, skip: 0 });
  const flushing = engine.flushSessions();
  assert.ok(listing instanceof Promise && flushing instanceof Promise);
  assert.deepEqual(await listing, { items: [] });
  assert.equal(await flushing, undefined);
});

test('many calls in flight with calls from the JavaScript thread between them: all answer', { skip }, async () => {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    pending.push(engine.sessions({ limit: 5, skip: 0 }), engine.flushSessions(i % 2 ? 'web' : undefined));
    assert.equal(engine.counters().workers.length, 2);   // takes the lock between the workers' walks
  }
  const answers = await Promise.all(pending);
  assert.equal(answers.length, 100);
  for (let i = 0; i < answers.length; i += 2) assert.deepEqual(answers[i], { items: [] });
});

test('a sync snapshot chunk resolves off the event loop', { skip }, async () => {
  const native = (engine as unknown as { native: NativeEngine }).native;
  const chunk = native.snapshotSync(0, 100, 1);
  assert.ok(chunk instanceof Promise);
  const { records, next } = await chunk;
  assert.equal(records.length, 0);
  assert.ok(next === null || typeof next === 'number');
});

test('a second data plane in the process is refused', { skip }, () => {
  const { Engine } = loadNative();
  assert.throws(() => new Engine({ workers: 1, idle: 'adaptive', sessionsPerWorker: 1024, instance: 'x' }), /already running/);
});

test('a call queued when the data plane closes is refused, not lost', { skip }, async () => {
  const listing = engine.sessions({ limit: 1, skip: 0 });
  await engine.close();
  await assert.rejects(listing.then(() => engine.sessions({ limit: 1, skip: 0 })), /closed/);
});
