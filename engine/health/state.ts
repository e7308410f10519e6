// The up/down state of one probe target (a real server seen through one NIC): `rise`
// successes in a row bring it up, `fall` failures in a row take it down. A target never
// probed is `unknown`, which the engine treats as up (unknownCountsAsUp).

export type HealthState = 'unknown' | 'up' | 'down';

/**
 * A server not yet probed keeps its configured weight: a new server, or every server after a
 * restart, takes traffic at once instead of waiting `rise` intervals. Health takes it out as
 * soon as `fall` probes failed.
 */
export const unknownCountsAsUp = true;

export interface Thresholds {
  rise: number;
  fall: number;
}

export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed (connection refused, timeout, status 503, ...). */
  error?: string;
  at: number;
}

export interface Transition {
  from: HealthState;
  to: HealthState;
  /** The outcome that completed the run: the cause of the change. */
  cause: ProbeOutcome;
}

export class TargetHealth {
  state: HealthState = 'unknown';
  /** When the state last changed (epoch ms); creation for `unknown`. */
  since: number;
  last: ProbeOutcome | undefined;
  /** The last failure's reason, kept after later successes. */
  lastError: string | undefined;
  transitions = 0;
  private successes = 0;
  private failures = 0;

  constructor(
    public thresholds: Thresholds,
    now: number,
  ) {
    this.since = now;
  }

  /** Records one probe outcome; returns the transition it caused, if any. */
  record(outcome: ProbeOutcome): Transition | undefined {
    this.last = outcome;
    if (outcome.ok) {
      this.successes++;
      this.failures = 0;
    } else {
      this.failures++;
      this.successes = 0;
      this.lastError = outcome.error;
    }
    const next = this.next();
    if (next === undefined || next === this.state) return undefined;
    const transition = { from: this.state, to: next, cause: outcome };
    this.state = next;
    this.since = outcome.at;
    this.transitions++;
    return transition;
  }

  private next(): HealthState | undefined {
    if (this.successes >= this.thresholds.rise) return 'up';
    if (this.failures >= this.thresholds.fall) return 'down';
    return undefined;
  }

  /** Whether the engine should send new sessions to the target. */
  get usable(): boolean {
    return this.state === 'up' || (this.state === 'unknown' && unknownCountsAsUp);
  }
}
