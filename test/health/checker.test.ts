import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthChecker, type CheckTarget } from '../../engine/health/checker.js';
import { Scheduler } from '../../engine/health/scheduler.js';
import type { Transition } from '../../engine/health/state.js';
import { FakeClock } from './fake-clock.js';

interface Target extends CheckTarget {
  name: string;
}

function target(name: string, settings: Partial<Target> = {}): Target {
  return { id: name, name, intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2, ...settings };
}

/** A checker whose probes the test answers: each probe waits in `pending` until told. */
function harness(random = () => 0) {
  const clock = new FakeClock();
  const pending = new Map<string, (error?: string) => void>();
  const started: { name: string; at: number }[] = [];
  const aborted: string[] = [];
  const transitions: { name: string; t: Transition }[] = [];
  let answer: ((t: Target) => string | undefined | 'hang') | undefined;
  const checker = new HealthChecker<Target>(
    (t, finish) => {
      started.push({ name: t.name, at: clock.now() });
      const reply = answer?.(t);
      if (reply === 'hang' || answer === undefined) pending.set(t.name, finish);
      else finish(reply);
      return () => aborted.push(t.name);
    },
    new Scheduler(clock),
    { changed: (t, tr) => transitions.push({ name: t.name, t: tr }) },
    random,
  );
  return {
    clock,
    checker,
    pending,
    started,
    aborted,
    transitions,
    answerWith(f: (t: Target) => string | undefined | 'hang') {
      answer = f;
    },
  };
}

test('targets start at a random offset within their interval', () => {
  const h = harness(() => 0.25);
  h.answerWith(() => undefined);
  h.checker.set([target('a')]);
  h.clock.advance(249);
  assert.equal(h.started.length, 0);
  h.clock.advance(1);
  assert.equal(h.started.length, 1);
  h.clock.advance(1000);
  assert.deepEqual(h.started.map((s) => s.at - h.started[0].at), [0, 1000]);
});

test('unknown → up after rise successes, then down after fall failures, each transition once', () => {
  const h = harness();
  let failing = false;
  h.answerWith(() => (failing ? 'ECONNREFUSED' : undefined));
  h.checker.set([target('a', { rise: 2, fall: 3 })]);
  h.clock.advance(1000);
  assert.equal(h.checker.health('a')?.state, 'up');
  failing = true;
  h.clock.advance(2000);
  assert.equal(h.checker.health('a')?.state, 'up');
  h.clock.advance(1000);
  assert.equal(h.checker.health('a')?.state, 'down');
  assert.deepEqual(h.transitions.map((t) => `${t.t.from}→${t.t.to}`), ['unknown→up', 'up→down']);
  assert.equal(h.transitions[1].t.cause.error, 'ECONNREFUSED');
});

test('a probe without an answer fails at its timeout and is aborted', () => {
  const h = harness();
  h.answerWith(() => 'hang');
  h.checker.set([target('a', { timeoutMs: 300, fall: 1 })]);
  h.clock.advance(299);
  assert.equal(h.checker.health('a')?.state, 'unknown');
  h.clock.advance(1);
  assert.equal(h.checker.health('a')?.state, 'down');
  assert.equal(h.checker.health('a')?.lastError, 'no answer within 300 ms');
  assert.deepEqual(h.aborted, ['a']);
  // The late answer of an aborted probe counts for nothing.
  h.pending.get('a')!();
  assert.equal(h.checker.health('a')?.last?.ok, false);
});

test('at most one probe is in flight per target, even with timeoutMs equal to intervalMs', () => {
  const h = harness();
  h.answerWith(() => 'hang');
  h.checker.set([target('a', { intervalMs: 1000, timeoutMs: 1000 })]);
  for (let i = 0; i < 5; i++) {
    h.clock.advance(1000);
    assert.ok(h.checker.inFlight <= 1);
  }
  // Each round found the previous probe timed out, so every round probed.
  assert.equal(h.started.length, 6);
  assert.equal(h.checker.health('a')?.state, 'down');
});

test('a probe that answers late in its round keeps the next round from starting a second one', () => {
  const h = harness();
  const finishes: ((e?: string) => void)[] = [];
  const checker = new HealthChecker<Target>((_t, finish) => {
    finishes.push(finish);
    return () => {};
  }, new Scheduler(h.clock), {}, () => 0);
  checker.set([target('a', { timeoutMs: 1000 })]);
  h.clock.advance(0);
  assert.equal(finishes.length, 1);
  assert.equal(checker.inFlight, 1);
  finishes[0]();
  h.clock.advance(1000);
  assert.equal(finishes.length, 2);
  assert.equal(checker.inFlight, 1);
});

test('set() keeps the state of known targets, takes new settings and stops removed ones', () => {
  const h = harness();
  h.answerWith((t) => (t.name === 'b' ? 'hang' : undefined));
  h.checker.set([target('a'), target('b')]);
  h.clock.advance(1000);
  assert.equal(h.checker.health('a')?.state, 'up');
  assert.equal(h.checker.inFlight, 1);
  const abortedBefore = h.aborted.length;
  h.checker.set([target('a', { intervalMs: 5000, timeoutMs: 100 })]);
  assert.equal(h.checker.health('a')?.state, 'up');
  assert.equal(h.checker.health('b'), undefined);
  assert.deepEqual(h.aborted.slice(abortedBefore), ['b']);
  assert.equal(h.checker.inFlight, 0);
  const before = h.started.length;
  h.clock.advance(1000); // the round already scheduled, then every 5 s
  h.clock.advance(5000);
  assert.equal(h.started.length, before + 2);
});

test('thousands of targets wait on one timer', () => {
  const h = harness(Math.random);
  h.answerWith(() => undefined);
  h.checker.set(Array.from({ length: 5000 }, (_, i) => target(`t${i}`)));
  assert.equal(h.clock.timers.size, 1);
  h.clock.advance(3000);
  assert.equal(h.clock.timers.size, 1);
  assert.ok(h.started.length >= 5000 * 3 - 5000 && h.started.length <= 5000 * 3 + 5000);
  assert.ok([...h.checker.entries()].every((e) => e.health.state === 'up'));
});

test('close() stops every probe and the timer', () => {
  const h = harness();
  h.answerWith(() => 'hang');
  h.checker.set([target('a'), target('b')]);
  h.clock.advance(0);
  h.checker.close();
  assert.deepEqual(h.aborted.sort(), ['a', 'b']);
  assert.equal(h.clock.timers.size, 0);
  assert.equal(h.checker.size, 0);
});
