// Runs probes on a set of targets, each every `intervalMs` from a random start offset (so a
// thousand targets added at once do not probe in the same millisecond), at most one probe in
// flight per target, a probe that outlives `timeoutMs` counted as failed and aborted. It knows
// nothing of sockets or configuration: the probe and the targets are given to it.

import { type Scheduler } from './scheduler.js';
import { TargetHealth, type ProbeOutcome, type Transition } from './state.js';

export interface CheckTarget {
  /** Stable identity: a target with the same id keeps its state across set() calls. */
  readonly id: string;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

/**
 * Starts one probe of `target` and calls `finish` once: without an argument on success, with
 * the reason on failure. Returns what aborts it (called on timeout or removal).
 */
export type Probe<T> = (target: T, finish: (error?: string) => void) => () => void;

export interface CheckerObserver<T> {
  probed?(target: T, outcome: ProbeOutcome, durationMs: number): void;
  changed?(target: T, transition: Transition): void;
}

interface InFlight {
  startedAt: number;
  abort: () => void;
}

interface Running<T> {
  target: T;
  health: TargetHealth;
  inFlight: InFlight | undefined;
  removed: boolean;
}

const noAbort = () => {};

export class HealthChecker<T extends CheckTarget> {
  private readonly running = new Map<string, Running<T>>();

  constructor(
    private readonly probe: Probe<T>,
    private readonly scheduler: Scheduler,
    private readonly observer: CheckerObserver<T> = {},
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Makes `targets` the checked set: new ones start after a random part of their interval,
   * known ones keep their state and take the new settings, missing ones stop.
   */
  set(targets: Iterable<T>): void {
    const seen = this.put(targets);
    for (const [id, running] of this.running) if (!seen.has(id)) this.stop(id, running);
  }

  /** Replaces `before` (targets set earlier) with `after`, as set() would, touching no other target. */
  replace(before: Iterable<T>, after: Iterable<T>): void {
    const seen = this.put(after);
    for (const { id } of before) {
      const running = this.running.get(id);
      if (running && !seen.has(id)) this.stop(id, running);
    }
  }

  /** Adds or updates `targets`; returns their ids. */
  private put(targets: Iterable<T>): Set<string> {
    const seen = new Set<string>();
    for (const target of targets) {
      seen.add(target.id);
      const known = this.running.get(target.id);
      if (known) {
        known.target = target;
        known.health.thresholds = { rise: target.rise, fall: target.fall };
        continue;
      }
      const running: Running<T> = {
        target,
        health: new TargetHealth({ rise: target.rise, fall: target.fall }, this.scheduler.now),
        inFlight: undefined,
        removed: false,
      };
      this.running.set(target.id, running);
      this.next(running, this.scheduler.now + Math.floor(this.random() * target.intervalMs));
    }
    return seen;
  }

  health(id: string): TargetHealth | undefined {
    return this.running.get(id)?.health;
  }

  *entries(): IterableIterator<{ target: T; health: TargetHealth }> {
    for (const { target, health } of this.running.values()) yield { target, health };
  }

  get size(): number {
    return this.running.size;
  }

  /** Probes currently waiting for an answer. */
  get inFlight(): number {
    let n = 0;
    for (const r of this.running.values()) if (r.inFlight) n++;
    return n;
  }

  close(): void {
    for (const [id, running] of this.running) this.stop(id, running);
    this.scheduler.close();
  }

  private stop(id: string, running: Running<T>): void {
    running.removed = true;
    running.inFlight?.abort();
    running.inFlight = undefined;
    this.running.delete(id);
  }

  private next(running: Running<T>, due: number): void {
    this.scheduler.at(due, () => {
      if (!running.removed) this.round(running);
    });
  }

  private round(running: Running<T>): void {
    const { target } = running;
    const now = this.scheduler.now;
    // The deadline goes in before the next round so that, with timeoutMs equal to
    // intervalMs, the timeout is counted before the next round looks at the slot.
    if (!running.inFlight) this.start(running, now);
    this.next(running, now + target.intervalMs);
  }

  private start(running: Running<T>, now: number): void {
    const timeoutMs = running.target.timeoutMs;
    const flight: InFlight = { startedAt: performance.now(), abort: noAbort };
    running.inFlight = flight;
    const finish = (error?: string) => {
      if (running.inFlight !== flight) return;
      running.inFlight = undefined;
      this.complete(running, flight, error);
    };
    const abort = this.probe(running.target, finish);
    if (running.inFlight === flight) flight.abort = abort;
    this.scheduler.at(now + timeoutMs, () => {
      if (running.inFlight !== flight) return;
      running.inFlight = undefined;
      flight.abort();
      this.complete(running, flight, `no answer within ${timeoutMs} ms`);
    });
  }

  private complete(running: Running<T>, flight: InFlight, error: string | undefined): void {
    if (running.removed) return;
    const outcome: ProbeOutcome = error === undefined ? { ok: true, at: this.scheduler.now } : { ok: false, error, at: this.scheduler.now };
    const transition = running.health.record(outcome);
    this.observer.probed?.(running.target, outcome, performance.now() - flight.startedAt);
    if (transition) this.observer.changed?.(running.target, transition);
  }
}
