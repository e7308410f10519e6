// Keeps a ClusterCopy following etcd: a full read when there is nothing to resume from (or
// etcd compacted what there was), then a watch from the next revision. A probe each second
// reads through the quorum: a member that cannot (cut off, stopped, no leader) makes the node
// stale and the watch move to the next endpoint, resuming where it stopped. Nothing here
// touches forwarding: while etcd is away the data plane runs the last applied copy.

import { EtcdClient, EtcdCompacted, EtcdUnavailable } from './client.js';
import type { ClusterCopy, ConfigStoreLog } from './cluster-copy.js';
import { lastWriteKey } from './keys.js';

export interface FollowerState {
  /** The watch runs and the last probe read through the quorum. */
  connected: boolean;
  endpoint: string;
  /** etcd's revision as the last successful probe saw it. */
  etcdRevision: number;
  lastError: string | undefined;
  lastContactAt: string | undefined;
  watchRestarts: number;
}

const probeIntervalMs = 1000;
const retryMs = { first: 100, max: 2000 };

export class Follower {
  readonly state: FollowerState;
  private closed = false;
  private stopWatch = () => {};
  private probeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private watching = false;
  private probeOk = false;
  private probing = false;
  private behindProbes = 0;
  /** Why the probe stopped the watch: the loop then moves to the next endpoint. */
  private stoppedFor: string | undefined;

  constructor(
    private readonly client: EtcdClient,
    private readonly copy: ClusterCopy,
  ) {
    this.state = { connected: false, endpoint: client.endpoint, etcdRevision: 0, lastError: undefined, lastContactAt: undefined, watchRestarts: 0 };
  }

  private log: ConfigStoreLog = { info: () => {}, warn: () => {} };

  start(log: ConfigStoreLog): void {
    this.log = log;
    this.running = this.run();
    this.probeTimer = setInterval(() => void this.probe(), probeIntervalMs);
    this.probeTimer.unref();
    void this.probe();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.probeTimer);
    this.stopWatch();
    await this.running;
  }

  /** Resolves once the copy has seen at least `revision` (false after `timeoutMs`). */
  async waitSeen(revision: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.copy.seenRevision < revision) {
      if (Date.now() >= deadline || this.closed) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  private async run(): Promise<void> {
    let delay = retryMs.first;
    let compacted = false;
    while (!this.closed) {
      try {
        if (this.copy.seenRevision === 0 || compacted) await this.fullRead(compacted);
        compacted = false;
        await this.watch();
      } catch (err) {
        if (this.closed) break;
        if (err instanceof EtcdCompacted) {
          compacted = true;
          this.log.warn({ compactRevision: err.compactRevision, seenRevision: this.copy.seenRevision }, 'etcd compacted past this node\'s copy: reading the whole prefix again');
          continue;
        }
        this.lost((err as Error).message);
        this.client.rotate();
        this.state.endpoint = this.client.endpoint;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, retryMs.max);
        continue;
      }
      delay = retryMs.first;
    }
  }

  private async fullRead(compacted: boolean): Promise<void> {
    const { revision, kvs } = await this.client.range(this.copy.prefix);
    this.copy.replace(revision, kvs);
    this.log.info(
      { revision, keys: kvs.length, cause: compacted ? 'compaction' : 'start', refusal: this.copy.refusal?.message },
      `cluster configuration read from etcd at revision ${revision}`,
    );
  }

  /** Runs until the watch ends; resolves only when close() stopped it. */
  private async watch(): Promise<void> {
    const watch = this.client.watch(this.copy.prefix, this.copy.seenRevision + 1, (revision, events) => {
      this.copy.update(revision, events);
      this.contact();
    });
    this.stopWatch = () => watch.close();
    this.watching = true;
    this.stoppedFor = undefined;
    this.state.watchRestarts++;
    try {
      await watch.done;
    } finally {
      this.watching = false;
      this.stopWatch = () => {};
    }
    if (this.stoppedFor !== undefined) throw new EtcdUnavailable(this.stoppedFor);
  }

  /**
   * A linearizable read of the last-write key: only a member with a working quorum answers it.
   * Every write through l4lb rewrites that key, so a copy that stays behind it for two probes
   * has a watch that stopped delivering (a stream gone quiet): the watch starts again.
   */
  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      const { revision, kvs } = await this.client.range(lastWriteKey(this.copy.prefix), { exact: true });
      this.state.etcdRevision = revision;
      this.probeOk = true;
      this.contact();
      const behind = (kvs[0]?.modRevision ?? 0) > this.copy.lastWriteRevision;
      this.behindProbes = behind ? this.behindProbes + 1 : 0;
      if (this.behindProbes >= 2) this.restartWatch('the watch fell behind the last write');
    } catch (err) {
      this.probeOk = false;
      // The watch may sit on a member that cannot serve: move it.
      this.lost((err as Error).message);
      this.restartWatch((err as Error).message);
    } finally {
      this.probing = false;
    }
  }

  private restartWatch(reason: string): void {
    if (!this.watching) return;
    this.behindProbes = 0;
    this.stoppedFor = reason;
    this.stopWatch();
  }

  private contact(): void {
    this.state.lastContactAt = new Date().toISOString();
    if (!this.watching || !this.probeOk || this.state.connected) return;
    this.state.connected = true;
    this.state.lastError = undefined;
    this.log.info({ endpoint: this.client.endpoint, revision: this.copy.seenRevision }, 'following the cluster configuration in etcd');
  }

  private lost(reason: string): void {
    if (this.state.connected) this.log.warn({ endpoint: this.client.endpoint, reason }, 'lost etcd: serving the last applied cluster configuration');
    this.state.connected = false;
    this.state.lastError = reason;
  }
}
