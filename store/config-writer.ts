// Where a configuration write goes. With the SQLite store alone every write commits there;
// with an etcd configuration store (store/etcd/) cluster-wide kinds commit in etcd and reach
// this node's SQLite through its watch like any other node's.

import type { KindName } from './kinds.js';
import type { Store, WriteTx } from './store.js';

export interface ConfigWriter {
  /**
   * Runs `body` as one write of objects of `kind` (and what it cascades to); resolves with
   * its value once this node has applied it.
   */
  write<T>(kind: KindName, body: (tx: WriteTx) => T): Promise<T>;
}

export class LocalWriter implements ConfigWriter {
  constructor(private readonly store: Store) {}

  async write<T>(_kind: KindName, body: (tx: WriteTx) => T): Promise<T> {
    return this.store.write(body);
  }
}
