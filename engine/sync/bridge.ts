// The session-sync bridge between the data plane's sync rings and Redis (docs/sync.md): it
// owns the Redis connections and runs the drain loop, the receiver, the control channel and
// the snapshot server. Redis trouble never reaches the data plane: records drained while it
// is away are counted as dropped, and when it is back the node resyncs in full (an active
// publishes a snapshot, a backup asks for one, a multi-active node does both). A multi-active
// node that joins for the first time becomes cluster-ready once it holds its peers' sessions
// (cluster-join.ts).

import type { NativeSyncCounters } from '../dataplane/native.js';
import { ClusterJoin } from './cluster-join.js';
import type { BridgeContext, SyncDataPlane } from './context.js';
import { ControlChannel } from './control.js';
import { DrainLoop } from './drain-loop.js';
import { PeerTable, type PoolAddresses, type Portability } from './peers.js';
import { Receiver } from './receiver.js';
import { connectRedis, controlChannel, disconnectRedis, sessionsChannel, type RedisLinks } from './redis.js';
import { replayMarginMs, replayStream } from './replay.js';
import { SnapshotServer } from './snapshots.js';
import type { SyncCounters, SyncRole, SyncState, SyncStatus } from './stats.js';
import { nodeNumber } from './wire.js';

/** What the bridge needs of the `sync` settings. */
export interface BridgeSettings {
  redisUrl: string;
  redisPassword?: string;
  nodeId: string;
  role: SyncRole;
  replay: { enabled: boolean; streamMaxLength: number };
}

export interface BridgeOptions {
  settings: BridgeSettings;
  dataPlane: SyncDataPlane;
  counters: SyncCounters;
  portability(): Portability;
  /** The longest session timeout configured, in seconds: how far back a replay reads. */
  maxTimeoutSeconds(): number;
  /** Replay the stream on the first connection (the data plane has just started, empty). */
  replayOnStart: boolean;
  /** Called after `state` (or cluster readiness) changed, with why. */
  stateChanged(cause: string): void;
  /** The local addresses multi-active peers own changed (all of them, by pool). */
  peerAddressesChanged(addresses: PoolAddresses): void;
}

/** After a join failed with the links still up (a timeout), try again this much later. */
const rejoinDelayMs = 1000;

export class SyncBridge {
  readonly nodeId: string;
  readonly node: number;
  private role: SyncRole;
  private readonly links: RedisLinks;
  private readonly ctx: BridgeContext;
  private readonly peers: PeerTable;
  private readonly drainLoop: DrainLoop;
  private readonly receiver: Receiver;
  private readonly control: ControlChannel;
  private readonly snapshots: SnapshotServer;
  private readonly cluster: ClusterJoin;
  private synced = false;
  private joining = false;
  private joinedOnce = false;
  /** A Redis error before the first join: the state is degraded rather than connecting. */
  private troubled = false;
  private isClosed = false;
  /** Counts the subscriber's connections: a join whose subscriptions were on an older one is void. */
  private subscriberConnections = 0;
  private rejoinTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BridgeOptions) {
    const { settings, counters } = options;
    this.nodeId = settings.nodeId;
    this.node = nodeNumber(settings.nodeId);
    this.peers = new PeerTable(this.node);
    this.role = settings.role;
    this.links = connectRedis(settings.redisUrl, settings.redisPassword);
    const password = settings.redisPassword;
    const redact = (message: string) => (password ? message.split(password).join('***') : message);
    this.ctx = {
      nodeId: this.nodeId,
      node: this.node,
      dataPlane: options.dataPlane,
      counters,
      links: this.links,
      streamMaxLength: settings.replay.streamMaxLength,
      replayWindowMs: () => options.maxTimeoutSeconds() * 1000 + replayMarginMs,
      portability: options.portability,
      role: () => this.role,
      writable: () => this.links.commands.status === 'ready',
      closed: () => this.isClosed,
      fail: (err) => {
        counters.error(redact(err instanceof Error ? err.message : String(err)));
      },
    };
    this.drainLoop = new DrainLoop(this.ctx);
    this.snapshots = new SnapshotServer(this.ctx, () => this.control.snapshotDone());
    this.receiver = new Receiver(this.ctx, this.peers, () => this.control.requestSnapshot());
    this.control = new ControlChannel(this.ctx, this.peers, {
      snapshotRequested: () => this.snapshots.request(),
      snapshotAnswered: (peer) => this.cluster.answered(peer),
      peerAddressesChanged: () => options.peerAddressesChanged(this.peers.peerAddresses()),
    });
    this.cluster = new ClusterJoin({
      livePeers: () => this.peers.liveClusterPeers(Date.now()),
      requestSnapshot: () => this.control.requestSnapshot(),
      nameOf: (peer) => this.peers.name(peer),
      becameReady: (cause) => options.stateChanged(`cluster-ready: ${cause}`),
    });
    this.links.subscriber.on('ready', () => this.subscriberConnections++);
    for (const link of [this.links.commands, this.links.subscriber]) {
      link.on('ready', () => this.linksChanged());
      link.on('close', () => this.linksChanged());
      link.on('error', (err: Error) => {
        this.ctx.fail(err);
        if (this.joinedOnce || this.troubled) return;
        this.troubled = true;
        options.stateChanged(`Redis: ${redact(err.message)}`);
      });
    }
    this.links.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const name = channel.toString();
      try {
        if (name === sessionsChannel) this.receiver.batch(message);
        else if (name === controlChannel) this.control.message(message);
      } catch (err) {
        // A data-plane call that threw must not take ioredis's reader (or the process) with it.
        this.options.counters.noteError(`a ${name} message failed: ${(err as Error).message}`);
      }
    });
    this.drainLoop.start();
    this.control.start();
  }

  get state(): SyncState {
    if (this.synced) return 'synced';
    return this.joinedOnce || this.troubled ? 'degraded' : 'connecting';
  }

  /** Takes effect at once: the next hello says it, and snapshot requests are answered (or not) from now on. */
  setRole(role: SyncRole): void {
    if (role === this.role) return;
    this.role = role;
    if (role === 'backup') this.snapshots.stop();
    if (role === 'multi-active' && this.synced) this.cluster.start();
    else if (role !== 'multi-active') this.cluster.stop();
    if (this.synced) this.control.hello();
  }

  /** This node's pools changed (portability() says how): peers are judged again. */
  portabilityChanged(): void {
    if (this.peers.localChanged(this.ctx.portability())) this.options.peerAddressesChanged(this.peers.peerAddresses());
  }

  /** Multi-active: holds the cluster's sessions (false until the first join has collected them). */
  get clusterReady(): boolean {
    return this.cluster.ready;
  }

  status(native?: NativeSyncCounters): SyncStatus {
    const peers = this.peers.list(Date.now());
    const cluster = this.role === 'multi-active' ? { clusterReady: this.cluster.ready } : {};
    return this.options.counters.status({ state: this.state, role: this.role, nodeId: this.nodeId, peers, ...cluster }, native);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.synced = false;
    clearTimeout(this.rejoinTimer);
    this.drainLoop.stop();
    this.control.stop();
    this.snapshots.stop();
    this.cluster.stop();
    disconnectRedis(this.links);
  }

  private bothReady(): boolean {
    return this.links.commands.status === 'ready' && this.links.subscriber.status === 'ready';
  }

  private linksChanged(): void {
    if (this.isClosed) return;
    if (!this.bothReady()) {
      if (this.synced) {
        this.synced = false;
        const lost = 'the connection to Redis was lost; records are dropped until it is back';
        this.ctx.fail(new Error(lost));
        // The resync after the outage replaces whatever was lost; sequences start over.
        this.peers.forgetSequences();
        this.options.stateChanged(lost);
      }
      return;
    }
    if (!this.synced && !this.joining) void this.join();
  }

  /** Subscribes, replays the stream the first time, and resyncs. */
  private async join(): Promise<void> {
    this.joining = true;
    try {
      const connection = this.subscriberConnections;
      await this.links.subscriber.subscribe(sessionsChannel, controlChannel);
      const first = !this.joinedOnce;
      if (first && this.options.replayOnStart && this.options.settings.replay.enabled) await this.replay();
      if (this.isClosed || !this.bothReady() || connection !== this.subscriberConnections) return;
      this.synced = true;
      this.joinedOnce = true;
      this.options.stateChanged(first ? 'joined Redis' : 'Redis is back; resyncing');
      this.control.hello();
      // Back after an outage, an active's peers need what it holds; anyone else needs the
      // active's; a cluster node both. Joining a cluster waits to hear its peers first.
      if (first && this.role === 'multi-active') this.cluster.start();
      else {
        if (!first && this.role !== 'backup') this.snapshots.request();
        if (first || this.role !== 'active') this.control.requestSnapshot();
      }
    } catch (err) {
      this.ctx.fail(err);
    } finally {
      this.joining = false;
    }
    if (!this.synced && !this.isClosed) this.rejoinTimer = setTimeout(() => this.linksChanged(), rejoinDelayMs);
  }

  /**
   * A replay that fails with Redis still there (a stream too big to read within the command
   * timeout) is given up: the snapshot asked for next brings what the peers hold. With Redis
   * gone it is tried again on the next join.
   */
  private async replay(): Promise<void> {
    try {
      await replayStream(this.ctx, this.ctx.replayWindowMs());
    } catch (err) {
      if (!this.bothReady()) throw err;
      this.ctx.fail(new Error(`the replay of the stream was given up: ${(err as Error).message}`));
    }
  }
}
