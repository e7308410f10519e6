import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TargetHealth, unknownCountsAsUp } from '../../engine/health/state.js';

const ok = (at: number) => ({ ok: true, at });
const fail = (at: number, error = 'refused') => ({ ok: false, error, at });

test('a target starts unknown, usable by default', () => {
  const h = new TargetHealth({ rise: 2, fall: 3 }, 5);
  assert.equal(h.state, 'unknown');
  assert.equal(h.since, 5);
  assert.equal(h.usable, unknownCountsAsUp);
});

test('unknown becomes up after rise successes in a row', () => {
  const h = new TargetHealth({ rise: 2, fall: 3 }, 0);
  assert.equal(h.record(ok(1)), undefined);
  const t = h.record(ok(2));
  assert.deepEqual(t, { from: 'unknown', to: 'up', cause: ok(2) });
  assert.equal(h.since, 2);
  assert.equal(h.transitions, 1);
});

test('unknown becomes down after fall failures in a row, keeping the cause', () => {
  const h = new TargetHealth({ rise: 2, fall: 2 }, 0);
  h.record(fail(1));
  const t = h.record(fail(2, 'status 503'));
  assert.equal(t?.to, 'down');
  assert.equal(t?.cause.error, 'status 503');
  assert.equal(h.lastError, 'status 503');
  assert.equal(h.usable, false);
});

test('up needs fall failures in a row to go down; a success in between starts over', () => {
  const h = new TargetHealth({ rise: 1, fall: 3 }, 0);
  h.record(ok(1));
  h.record(fail(2));
  h.record(fail(3));
  h.record(ok(4));
  h.record(fail(5));
  h.record(fail(6));
  assert.equal(h.state, 'up');
  assert.equal(h.record(fail(7))?.to, 'down');
  assert.equal(h.lastError, 'refused');
  assert.equal(h.last?.ok, false);
});

test('flapping between success and failure never changes a state that needs two in a row', () => {
  const h = new TargetHealth({ rise: 2, fall: 2 }, 0);
  h.record(ok(1));
  h.record(ok(2));
  for (let i = 3; i < 40; i++) assert.equal(h.record(i % 2 ? fail(i) : ok(i)), undefined);
  assert.equal(h.state, 'up');
  assert.equal(h.transitions, 1);
});

test('down comes back up after rise successes; the last error is kept', () => {
  const h = new TargetHealth({ rise: 2, fall: 1 }, 0);
  h.record(fail(1, 'timeout'));
  h.record(ok(2));
  assert.equal(h.state, 'down');
  assert.equal(h.record(ok(3))?.to, 'up');
  assert.equal(h.lastError, 'timeout');
  assert.equal(h.transitions, 2);
});

test('new thresholds apply to the runs that follow', () => {
  const h = new TargetHealth({ rise: 5, fall: 5 }, 0);
  h.record(ok(1));
  h.thresholds = { rise: 2, fall: 5 };
  assert.equal(h.record(ok(2))?.to, 'up');
});
