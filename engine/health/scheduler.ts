// One timer for every probe: due times wait in a binary min-heap and a single timer is armed
// for the earliest. Thousands of targets cost one pending timer, not thousands of intervals.
// Entries are never removed from the middle: a cancelled one stays until it comes due and is
// then skipped (its owner checks a token), which keeps every operation O(log n).

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimer(run: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (run, delayMs) => setTimeout(run, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Entry {
  due: number;
  /** Ties run in the order they were added. */
  seq: number;
  run: () => void;
}

export class Scheduler {
  private readonly heap: Entry[] = [];
  private seq = 0;
  private timer: unknown;
  private armedFor = Infinity;
  private closed = false;
  /** While due entries run, what they add is armed once afterwards, not one by one. */
  private firing = false;

  constructor(private readonly clock: Clock) {}

  get now(): number {
    return this.clock.now();
  }

  /** Runs `run` at `due` (epoch ms) or as soon after as the event loop allows. */
  at(due: number, run: () => void): void {
    if (this.closed) return;
    this.push({ due, seq: this.seq++, run });
    if (!this.firing && due < this.armedFor) this.arm();
  }

  close(): void {
    this.closed = true;
    this.heap.length = 0;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    const first = this.heap[0];
    if (!first) return;
    this.armedFor = first.due;
    this.timer = this.clock.setTimer(() => this.fire(), Math.max(0, first.due - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    this.firing = true;
    try {
      while (!this.closed && this.heap.length > 0 && this.heap[0].due <= now) this.pop().run();
    } finally {
      this.firing = false;
      if (!this.closed) this.arm();
    }
  }

  private before(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
