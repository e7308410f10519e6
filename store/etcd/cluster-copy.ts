// This node's copy of the cluster-wide objects under an etcd prefix, and its application to
// the local store. Two things are kept apart:
//   - `objects`: etcd's content as last seen (at `seenRevision`), fed by full reads and watch
//     events;
//   - the store's health-check, virtual-service and real-server tables: what this node has
//     applied (at `appliedRevision`), written through Store.write so the whole-configuration
//     checks and the engine see every change, and kept across restarts (a node restarted with
//     etcd down forwards with them).
// When a revision does not fit this node (a service names a pool this node lacks), the store
// keeps the last one that did and `refusal` says why; each later change (from etcd, or a local
// write here) tries the whole difference again. Other nodes are not held up by it.
// A database whose cluster-wide objects are its own (it ran on SQLite alone) is never
// overwritten: it is adopted as a copy only once etcd holds exactly the same objects (after
// `l4lb config import`); until then the node runs its own and reports why in `refusal`.

import type { KindName, Spec } from '../kinds.js';
import type { Change, Store, WriteTx } from '../store.js';
import {
  clusterKinds,
  decodeValue,
  lastWriteKey,
  objectKey,
  parseKey,
  type ClusterKind,
  type ClusterObject,
} from './keys.js';
import type { KeyValue, WatchEvent } from './client.js';

/** Checks a spec read from etcd against its kind's schema: the spec with its defaults, or why not. */
export type SpecCheck = (kind: ClusterKind, spec: Spec) => Spec | string;

/** Where the etcd store says what it did; a pino logger fits. */
export interface ConfigStoreLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface Refusal {
  revision: number;
  message: string;
  at: string;
}

/** Keys under the prefix that are not objects this node can take, with why. */
export interface Unreadable {
  key: string;
  message: string;
}

/** JSON with keys sorted at every level: equal specs give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

const source = { prefix: 'etcd-prefix', applied: 'etcd-applied-revision', lastWrite: 'etcd-last-write-revision' };

export class ClusterCopy {
  private objects = new Map<string, ClusterObject>();
  /** etcd's revision this copy reflects; 0 before the first full read. */
  seenRevision = 0;
  appliedRevision = 0;
  /** The last-write key's mod_revision: what a writer compares against. */
  lastWriteRevision = 0;
  refusal: Refusal | undefined;
  readonly unreadable = new Map<string, string>();
  fullReloads = 0;
  refusedTotal = 0;
  appliedTotal = 0;
  private readonly appliedWaiters: { revision: number; resolve: () => void }[] = [];
  /** Where applies and refusals are logged (the appliance's logger once started). */
  log: ConfigStoreLog = { info: () => {}, warn: () => {} };
  /** The store's objects are its own, not yet found equal to etcd's. */
  private adopting = false;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    private readonly check: SpecCheck,
  ) {}

  /**
   * Takes up what the store kept from an earlier run on this prefix, so the watch can resume
   * after it. A store copied from another prefix starts over with a full read.
   */
  load(): void {
    this.adopting = this.holdsOwnObjects();
    if (this.store.source(source.prefix) !== this.prefix) return;
    this.appliedRevision = this.seenRevision = Number(this.store.source(source.applied) ?? 0);
    this.lastWriteRevision = Number(this.store.source(source.lastWrite) ?? 0);
    for (const kind of clusterKinds) {
      for (const o of this.store.all(kind)) {
        const object = { kind, scope: o.scope, name: o.name, spec: o.spec, createdAt: o.createdAt, updatedAt: o.updatedAt, modRevision: o.resourceVersion };
        this.objects.set(objectKey(this.prefix, object), object);
      }
    }
  }

  /** Whether the store holds cluster-wide objects that were never a copy of this prefix. */
  private holdsOwnObjects(): boolean {
    return this.store.source(source.prefix) === undefined && clusterKinds.some((kind) => this.store.count(kind) > 0);
  }

  object(key: string): ClusterObject | undefined {
    return this.objects.get(key);
  }

  /** Replaces the whole copy with a full read of the prefix at `revision`. */
  replace(revision: number, kvs: KeyValue[]): void {
    const previous = new Set(this.objects.keys());
    this.objects.clear();
    this.unreadable.clear();
    for (const kv of kvs) this.take(kv);
    this.seenRevision = revision;
    this.fullReloads++;
    if (this.adopted()) this.applyKeys(new Set([...previous, ...this.objects.keys()]));
  }

  /** One batch of watch events, up to `revision`. */
  update(revision: number, events: WatchEvent[]): void {
    const keys = new Set<string>();
    for (const event of events) {
      keys.add(event.kv.key);
      if (event.type === 'put') this.take(event.kv);
      else {
        this.objects.delete(event.kv.key);
        this.unreadable.delete(event.kv.key);
      }
    }
    this.seenRevision = Math.max(this.seenRevision, revision);
    if (this.adopted()) this.applyKeys(keys);
  }

  /** After a local write: a copy this node refused may fit now. */
  retry(): void {
    if (this.refusal && !this.adopting) this.applyKeys(new Set(this.objects.keys()));
  }

  /**
   * Whether the store may follow etcd: true once it is a copy. Objects of its own are adopted
   * (and from then on followed) only when etcd holds the very same specs.
   */
  private adopted(): boolean {
    if (!this.adopting) return true;
    const own = clusterKinds.flatMap((kind) => this.store.all(kind).map((o) => [objectKey(this.prefix, { kind, scope: o.scope, name: o.name }), canonical(o.spec)]));
    const differing = own.filter(([key, spec]) => canonical(this.objects.get(key)?.spec) !== spec).map(([key]) => key);
    const extra = this.objects.size - (own.length - differing.length);
    if (differing.length === 0 && extra === 0) {
      this.adopting = false;
      return true;
    }
    const example = differing[0] ?? [...this.objects.keys()].find((key) => !own.some(([k]) => k === key));
    this.refusal = {
      revision: this.seenRevision,
      message: `this node's database holds ${own.length} cluster-wide objects of its own that etcd's ${this.objects.size} do not match (${example} differs); ` +
        'it keeps running its own: import them into etcd (l4lb config export, l4lb config import), or start on an empty database',
      at: new Date().toISOString(),
    };
    return false;
  }

  /** Resolves once this node has applied `revision` or refused a revision at least as new. */
  waitApplied(revision: number): Promise<void> {
    if (this.settled(revision)) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ revision, resolve }));
  }

  private settled(revision: number): boolean {
    return this.appliedRevision >= revision || (this.refusal !== undefined && this.seenRevision >= revision);
  }

  private take(kv: KeyValue): void {
    if (kv.key === lastWriteKey(this.prefix)) {
      this.lastWriteRevision = kv.modRevision;
      return;
    }
    const object = this.read(kv);
    this.objects.delete(kv.key);
    if (typeof object === 'string') {
      this.unreadable.set(kv.key, object);
      return;
    }
    this.unreadable.delete(kv.key);
    this.objects.set(kv.key, object);
  }

  /** The object a key and value hold, checked as the API checks a body; or why it is not one. */
  private read(kv: KeyValue): ClusterObject | string {
    const id = parseKey(this.prefix, kv.key);
    if (!id) return 'is not a key l4lb writes';
    const value = decodeValue(kv.value);
    if (typeof value === 'string') return value;
    const spec = this.check(id.kind, value.spec);
    if (typeof spec === 'string') return spec;
    // The API fills a real server's port from its service before storing: a stored one has it.
    if (id.kind === 'real-servers' && spec.port === undefined) return '/port is missing';
    return { ...id, ...value, spec, modRevision: kv.modRevision };
  }

  /**
   * Brings the store to the copy: every object whose key is in `keys` is written or deleted
   * as etcd has it; with an earlier refusal outstanding, every key is compared.
   */
  private applyKeys(keys: Set<string>): void {
    const all = this.refusal !== undefined;
    let changes: Change[] = [];
    try {
      this.store.write((tx) => {
        if (all) this.writeDifference(tx);
        else for (const key of keys) this.writeKey(tx, key);
        changes = tx.changes;
        tx.setSource(source.prefix, this.prefix);
        tx.setSource(source.applied, String(this.seenRevision));
        tx.setSource(source.lastWrite, String(this.lastWriteRevision));
      });
      this.appliedRevision = this.seenRevision;
      if (this.refusal) this.log.info({ revision: this.seenRevision }, `cluster configuration fits this node again at etcd revision ${this.seenRevision}`);
      this.refusal = undefined;
      this.appliedTotal++;
      if (changes.length > 0) this.logApplied(changes);
    } catch (err) {
      this.refusedTotal++;
      const message = (err as Error).message;
      if (this.refusal?.message !== message) this.log.warn({ revision: this.seenRevision, reason: message }, `cluster configuration at etcd revision ${this.seenRevision} refused here: ${message}`);
      this.refusal = { revision: this.seenRevision, message, at: new Date().toISOString() };
    }
    for (const waiter of this.appliedWaiters.filter((w) => this.settled(w.revision))) {
      this.appliedWaiters.splice(this.appliedWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /** One line per applied revision on every node, as a local write logs one on its node. */
  private logApplied(changes: Change[]): void {
    const list = changes.map((c) => ({ op: c.op, kind: c.kind, name: c.scope ? `${c.scope}/${c.name}` : c.name }));
    const what = list.map((c) => `${c.op} ${c.kind} ${c.name}`).join(', ');
    this.log.info({ revision: this.seenRevision, changes: list, cause: 'etcd' }, `cluster configuration applied at etcd revision ${this.seenRevision}: ${what}`);
  }

  private writeKey(tx: WriteTx, key: string): void {
    const id = parseKey(this.prefix, key);
    if (!id) return;
    const object = this.objects.get(key);
    const stored = tx.get(id.kind, id.scope, id.name);
    if (!object) {
      if (stored) tx.delete(id.kind, id.scope, id.name);
    } else if (stored?.resourceVersion !== object.modRevision) {
      this.put(tx, object);
    }
  }

  private writeDifference(tx: WriteTx): void {
    for (const kind of clusterKinds) {
      for (const stored of tx.all(kind as KindName)) {
        if (!this.objects.has(objectKey(this.prefix, { kind, scope: stored.scope, name: stored.name }))) tx.delete(kind, stored.scope, stored.name);
      }
    }
    for (const key of this.objects.keys()) this.writeKey(tx, key);
  }

  private put(tx: WriteTx, object: ClusterObject): void {
    tx.putCopy(object.kind, object.scope, object.name, object.spec, {
      resourceVersion: object.modRevision,
      createdAt: object.createdAt,
      updatedAt: object.updatedAt,
    });
  }
}
