// A write of cluster-wide objects through this node: validated here against the cluster's
// configuration (this node's copy, caught up) plus this node's local objects, then committed
// to etcd in one transaction that holds only if nothing under the prefix was written since
// the copy it was validated against (the last-write key's revision) and each touched key is
// still at the revision it was read at. When another writer got there first, the copy catches
// up and the write is validated again on the new state: an If-Match aimed at the old version
// then fails as 412, a plain PATCH merges into the new one, and nothing is lost. The answer
// waits until this node applied the write, as with the SQLite store.

import { ConfigError } from '../errors.js';
import type { DryRun, Store, StoredObject, WriteTx } from '../store.js';
import { EtcdRefused, EtcdUnavailable, type Compare, type EtcdClient, type TxnOp } from './client.js';
import type { ClusterCopy } from './cluster-copy.js';
import type { Follower } from './follower.js';
import { encodeValue, isClusterKind, lastWriteKey, objectKey, type ClusterKind } from './keys.js';

/** etcd cannot take the write now; the API answers 503 and nothing changed. */
export class ConfigStoreUnavailable extends Error {}

export interface WriteCounts {
  committed: number;
  /** Attempts that found another write had come first, and were validated again. */
  retried: number;
  /** Writes given up after every attempt found another write first (409). */
  contended: number;
  unavailable: number;
}

const attempts = 10;
const catchUpMs = 2000;
const applyWaitMs = 5000;

export class ClusterWrites {
  readonly counts: WriteCounts = { committed: 0, retried: 0, contended: 0, unavailable: 0 };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly client: EtcdClient,
    private readonly copy: ClusterCopy,
    private readonly follower: Follower,
    private readonly node: string,
  ) {}

  /**
   * Writes through this node take turns: they would all compare against the same last write,
   * so letting them race only turns each round into one winner and retries.
   */
  write<T>(kind: ClusterKind, body: (tx: WriteTx) => T): Promise<T> {
    const turn = this.queue.then(() => this.attempt(kind, body));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async attempt<T>(kind: ClusterKind, body: (tx: WriteTx) => T): Promise<T> {
    await this.catchUp();
    for (let attempt = 0; attempt < attempts; attempt++) {
      this.checkWritable();
      const lastWrite = this.copy.lastWriteRevision;
      const plan = this.store.dryRun(body);
      if (plan.changes.length === 0) return plan.value;
      for (const change of plan.changes) {
        if (!isClusterKind(change.kind)) throw new Error(`a cluster-wide write changed ${change.kind}, a node-local kind`);
      }
      const { compares, ops } = this.transaction(plan, lastWrite);
      const result = await this.commit(compares, ops);
      if (result.succeeded) {
        this.counts.committed++;
        plan.tx.etcdRevision = result.revision;
        await Promise.race([this.copy.waitApplied(result.revision), new Promise((resolve) => setTimeout(resolve, applyWaitMs).unref())]);
        return this.asApplied(kind, plan.value);
      }
      this.counts.retried++;
      await this.follower.waitSeen(result.revision, catchUpMs);
      // Other nodes' writers lost this round too: a random pause, growing to a few commit
      // times (an etcd commit takes ~10 ms here), keeps them from meeting again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    }
    this.counts.contended++;
    throw new ConfigError('conflict', `other writes to the cluster configuration kept coming first (${attempts} attempts); try again`);
  }

  /**
   * The compares and operations of a planned write. The real servers of a deleted service go
   * in one range delete rather than one operation each: etcd takes at most 128 operations in a
   * transaction by default, and the last-write compare already covers them.
   */
  private transaction(plan: DryRun<unknown>, lastWrite: number): { compares: Compare[]; ops: TxnOp[] } {
    const prefix = this.copy.prefix;
    const compares: Compare[] = [{ key: lastWriteKey(prefix), modRevision: lastWrite }];
    const ops: TxnOp[] = [];
    const deletedServices = new Set(plan.changes.filter((c) => c.kind === 'virtual-services' && c.op === 'delete').map((c) => c.name));
    const touched = new Set<string>();
    plan.changes.forEach((change, i) => {
      if (change.kind === 'real-servers' && change.op === 'delete' && deletedServices.has(change.scope)) return;
      const key = objectKey(prefix, { kind: change.kind as ClusterKind, scope: change.scope, name: change.name });
      if (!touched.has(key)) compares.push({ key, modRevision: this.copy.object(key)?.modRevision ?? 0 });
      touched.add(key);
      const after = plan.after[i];
      ops.push(after ? { put: { key, value: encodeValue(after) } } : { delete: { key } });
    });
    for (const service of deletedServices) ops.push({ deletePrefix: { prefix: `${prefix}real-servers/${service}/` } });
    ops.push({ put: { key: lastWriteKey(prefix), value: JSON.stringify({ node: this.node, at: new Date().toISOString() }) } });
    return { compares, ops };
  }

  /**
   * Reads etcd's revision through the quorum and waits until the copy has seen it, so a write
   * acknowledged by another node a moment ago is the base this one is validated on (an If-Match
   * naming its version matches, the object it created exists).
   */
  private async catchUp(): Promise<void> {
    this.checkWritable();
    let revision: number | undefined;
    for (let tries = 0; revision === undefined; tries++) {
      try {
        revision = await this.client.revision();
      } catch (err) {
        if (!(err instanceof EtcdUnavailable)) throw err;
        // A read is safe to repeat: try the next member, once round.
        this.client.rotate();
        if (tries + 1 >= this.client.endpoints.length) {
          this.counts.unavailable++;
          throw new ConfigStoreUnavailable(`the cluster configuration store (etcd) did not answer: ${err.message}; nothing was changed`);
        }
      }
    }
    await this.follower.waitSeen(revision, catchUpMs);
  }

  private checkWritable(): void {
    if (!this.follower.state.connected) {
      this.counts.unavailable++;
      throw new ConfigStoreUnavailable(
        `the cluster configuration store (etcd) is unreachable from this node: ${this.follower.state.lastError ?? 'not connected yet'}; nothing was changed`,
      );
    }
    const refusal = this.copy.refusal;
    if (refusal) {
      throw new ConfigError(
        'conflict',
        `this node cannot apply the cluster configuration at etcd revision ${refusal.revision} (${refusal.message}), so it cannot validate writes; write through another node or fix this node's local objects`,
      );
    }
  }

  private async commit(compares: Compare[], ops: TxnOp[]): Promise<{ succeeded: boolean; revision: number }> {
    try {
      return await this.client.txn(compares, ops);
    } catch (err) {
      if (err instanceof EtcdRefused) throw new ConfigStoreUnavailable(`the cluster configuration store (etcd) refused the write: ${err.message}; nothing was changed`);
      if (!(err instanceof EtcdUnavailable)) throw err;
      this.counts.unavailable++;
      this.client.rotate();
      throw new ConfigStoreUnavailable(`the cluster configuration store (etcd) did not take the write: ${err.message}; it may or may not have been applied, read the object again`);
    }
  }

  /** An object of `kind` the dry run returned, as this node now holds it (with etcd's revision). */
  private asApplied<T>(kind: ClusterKind, value: T): T {
    const object = value as StoredObject | undefined;
    if (!object || typeof object !== 'object' || !('resourceVersion' in object)) return value;
    const copied = this.copy.object(objectKey(this.copy.prefix, { kind, scope: object.scope, name: object.name }));
    const applied = this.store.get(kind, object.scope, object.name);
    if (applied && applied.resourceVersion === copied?.modRevision) return applied as T;
    return (copied ? { ...object, resourceVersion: copied.modRevision, createdAt: copied.createdAt, updatedAt: copied.updatedAt } : object) as T;
  }
}
