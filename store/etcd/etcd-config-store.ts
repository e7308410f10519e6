// The etcd configuration store of one node: its copy of the cluster-wide objects, the follower
// that keeps the copy current, the write path, and what the node reports about all three.
// Node-local kinds (NICs, routes, pools, sync, bgp) still commit to SQLite alone.

import type { components } from '../../lib/openapi-types.js';
import type { ConfigWriter } from '../config-writer.js';
import type { KindName } from '../kinds.js';
import type { Store, WriteTx } from '../store.js';
import { EtcdClient, type EtcdClientOptions } from './client.js';
import { ClusterCopy, type ConfigStoreLog, type SpecCheck } from './cluster-copy.js';
import { ClusterWrites } from './cluster-writes.js';
import { Follower } from './follower.js';
import { isClusterKind } from './keys.js';

export interface EtcdConfigStoreOptions extends EtcdClientOptions {
  prefix: string;
  /** Who writes (the last-write key names it): the node's host name and process id. */
  node: string;
  check: SpecCheck;
}

/** What GET /api/v1/config-store shows (openapi.yaml ConfigStore). */
export type ConfigStoreStatus = components['schemas']['ConfigStore'];

export class EtcdConfigStore implements ConfigWriter {
  readonly copy: ClusterCopy;
  readonly follower: Follower;
  /**
   * Two clients, each with its own current member: the follower's probe must test the member
   * its watch is on, whichever member a write last moved to.
   */
  private readonly followClient: EtcdClient;
  private readonly writeClient: EtcdClient;
  private readonly writes: ClusterWrites;

  constructor(
    private readonly store: Store,
    private readonly options: EtcdConfigStoreOptions,
  ) {
    this.followClient = new EtcdClient(options);
    this.writeClient = new EtcdClient(options);
    this.copy = new ClusterCopy(store, options.prefix, options.check);
    this.follower = new Follower(this.followClient, this.copy);
    this.writes = new ClusterWrites(store, this.writeClient, this.copy, this.follower, options.node);
  }

  /** Takes up the copy kept from the last run (the engine has it already), then follows etcd. */
  start(log: ConfigStoreLog): void {
    this.copy.log = log;
    this.copy.load();
    this.follower.start(log);
  }

  async write<T>(kind: KindName, body: (tx: WriteTx) => T): Promise<T> {
    if (isClusterKind(kind)) return this.writes.write(kind, body);
    const value = this.store.write(body);
    this.copy.retry();
    return value;
  }

  status(): ConfigStoreStatus {
    const state = this.follower.state;
    const copy = this.copy;
    return {
      backend: 'etcd',
      endpoints: this.options.endpoints,
      prefix: this.options.prefix,
      endpoint: state.endpoint,
      connected: state.connected,
      stale: !state.connected || copy.refusal !== undefined,
      appliedRevision: copy.appliedRevision,
      seenRevision: copy.seenRevision,
      etcdRevision: state.etcdRevision,
      ...(state.lastContactAt ? { lastContactAt: state.lastContactAt } : {}),
      ...(state.lastError ? { lastError: state.lastError } : {}),
      ...(copy.refusal ? { refusal: copy.refusal } : {}),
      unreadableKeys: [...copy.unreadable].map(([key, message]) => ({ key, message })),
      counters: {
        applied: copy.appliedTotal,
        refused: copy.refusedTotal,
        fullReloads: copy.fullReloads,
        watchStarts: state.watchRestarts,
        ...prefixed('writes', this.writes.counts),
      },
    };
  }

  async close(): Promise<void> {
    await this.follower.close();
    this.followClient.close();
    this.writeClient.close();
  }
}

function prefixed(prefix: string, counts: object): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [`${prefix}${k[0].toUpperCase()}${k.slice(1)}`, v as number]));
}
