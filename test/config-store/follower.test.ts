// The follower against a stand-in for etcd whose watch stream goes quiet while the member still
// answers reads: the probe sees the last-write key move past the copy and starts the watch
// again, on the next member, from the revision the copy had.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterSpec } from '../../api/config-store.js';
import { openDb } from '../../store/db.js';
import type { EtcdClient, KeyValue, Watch } from '../../store/etcd/client.js';
import { ClusterCopy } from '../../store/etcd/cluster-copy.js';
import { Follower } from '../../store/etcd/follower.js';
import { lastWriteKey } from '../../store/etcd/keys.js';
import { Store } from '../../store/store.js';
import { waitFor } from '../e2e/netns.js';

const prefix = '/l4lb/';

class QuietEtcd {
  lastWrite = 0;
  current = 0;
  readonly watches: { member: number; start: number }[] = [];
  readonly endpoints = ['a:2379', 'b:2379'];

  get endpoint(): string {
    return this.endpoints[this.current];
  }

  rotate(): void {
    this.current = (this.current + 1) % this.endpoints.length;
  }

  async range(key: string, options: { exact?: boolean } = {}): Promise<{ revision: number; kvs: KeyValue[]; count: number }> {
    if (!options.exact) return { revision: 5, kvs: [], count: 0 };
    const kvs = this.lastWrite > 0 ? [{ key: lastWriteKey(prefix), value: '{}', modRevision: this.lastWrite, createRevision: 1 }] : [];
    assert.equal(key, lastWriteKey(prefix));
    return { revision: Math.max(5, this.lastWrite), kvs, count: kvs.length };
  }

  /** A stream that delivers nothing until closed. */
  watch(_prefix: string, start: number): Watch {
    this.watches.push({ member: this.current, start });
    let close = () => {};
    const done = new Promise<void>((resolve) => (close = resolve));
    return { close: () => close(), done };
  }
}

test('a watch that stops delivering is started again once the copy stays behind the last write', async () => {
  const store = new Store(openDb(':memory:'));
  const etcd = new QuietEtcd();
  const copy = new ClusterCopy(store, prefix, clusterSpec);
  const follower = new Follower(etcd as unknown as EtcdClient, copy);
  follower.start({ info: () => {}, warn: () => {} });
  try {
    await waitFor('following', async () => follower.state.connected, 50, 100);
    assert.deepEqual(etcd.watches, [{ member: 0, start: 6 }]);
    etcd.lastWrite = 7; // a write the quiet stream never shows
    await waitFor('the watch started again', async () => etcd.watches.length === 2, 100, 100);
    assert.deepEqual(etcd.watches[1], { member: 1, start: 6 }, 'on the next member, from where the copy was');
    assert.equal(follower.state.watchRestarts, 2);
  } finally {
    await follower.close();
    store.close();
  }
});
