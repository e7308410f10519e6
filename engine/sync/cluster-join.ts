// When a multi-active node holds the cluster's sessions, so that it may announce its VIPs:
// after it has heard the peers' hellos (so the data plane knows their local addresses and
// takes their sessions) it asks for a snapshot, and it is ready once every live compatible
// cluster peer said it has sent its whole snapshot, or at once when there is none. A peer
// that never answers does not hold the node back for ever: after `answerWaitMs` it is ready
// anyway, and lastError names who did not answer.

/** Time to hear every peer's hello (one interval, plus the skew of timers) before asking. */
export const helloWaitMs = 1500;
/** The longest wait for snapshot answers. */
export const answerWaitMs = 10_000;

export interface ClusterJoinHooks {
  /** Live compatible multi-active peers now, by node number. */
  livePeers(): number[];
  requestSnapshot(): void;
  nameOf(peer: number): string;
  becameReady(cause: string): void;
}

export class ClusterJoin {
  private awaited = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private asked = false;
  ready = false;

  constructor(private readonly hooks: ClusterJoinHooks) {}

  /** Starts over (joined Redis, or became multi-active). */
  start(): void {
    this.stop();
    this.ready = false;
    this.asked = false;
    this.timer = setTimeout(() => this.ask(), helloWaitMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** `peer` has published every session it held when it answered a snapshot request. */
  answered(peer: number): void {
    if (!this.asked || this.ready || !this.awaited.delete(peer)) return;
    if (this.awaited.size === 0) this.finish('every cluster peer sent its snapshot');
  }

  private ask(): void {
    this.asked = true;
    this.awaited = new Set(this.hooks.livePeers());
    if (this.awaited.size === 0) return this.finish('no cluster peer to take sessions from');
    this.hooks.requestSnapshot();
    this.timer = setTimeout(() => {
      const late = [...this.awaited].map((p) => this.hooks.nameOf(p)).join(', ');
      this.finish(`no snapshot from ${late} within ${answerWaitMs / 1000} s; ready without it`);
    }, answerWaitMs);
  }

  private finish(cause: string): void {
    this.stop();
    this.ready = true;
    this.hooks.becameReady(cause);
  }
}
