import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { kinds, type Kind, type KindName, type Spec, type SpecOf } from './kinds.js';
import { conflict } from './errors.js';
import { checkConsistency } from './rules.js';

export interface StoredObject<S = Spec> {
  name: string;
  /** Parent name for nested kinds (the virtual service of a real server), else ''. */
  scope: string;
  spec: S;
  resourceVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface Change {
  kind: KindName;
  scope: string;
  name: string;
  op: 'put' | 'delete';
}

export interface Commit {
  generation: number;
  changes: Change[];
}

export interface Page {
  /** List only names greater than this one (keyset paging). */
  after?: string;
  limit: number;
}

interface Row {
  name: string;
  scope?: string;
  spec: string;
  resource_version: number;
  created_at: string;
  updated_at: string;
}

/** The one place a stored spec gets its kind's type: the API checked it against that schema. */
function toObject<K extends KindName>(row: Row): StoredObject<SpecOf<K>> {
  return {
    name: row.name,
    scope: row.scope ?? '',
    spec: JSON.parse(row.spec) as SpecOf<K>,
    resourceVersion: row.resource_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

type Statements = Map<string, Statement>;

/** Reads of the desired configuration; the same calls work inside and outside a write. */
export class ConfigReader {
  // Prepared statements are shared by the store and its transactions: preparing costs more
  // than running most of these queries.
  constructor(
    protected readonly db: Db,
    protected readonly statements: Statements = new Map(),
  ) {}

  protected prepare(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  protected scopeWhere(kind: Kind): string {
    return kind.scopeColumn ? `${kind.scopeColumn} = @scope AND ` : '';
  }

  private selectColumns(kind: Kind): string {
    const scope = kind.scopeColumn ? `${kind.scopeColumn} AS scope, ` : '';
    return `${scope}name, spec, resource_version, created_at, updated_at`;
  }

  get<K extends KindName>(kindName: K, scope: string, name: string): StoredObject<SpecOf<K>> | undefined {
    const kind = kinds[kindName];
    const row = this.prepare(
      `SELECT ${this.selectColumns(kind)} FROM ${kind.table} WHERE ${this.scopeWhere(kind)}name = @name`,
    ).get({ scope, name }) as Row | undefined;
    return row && toObject<K>(row);
  }

  list<K extends KindName>(kindName: K, scope: string, page: Page): StoredObject<SpecOf<K>>[] {
    const kind = kinds[kindName];
    const rows = this.prepare(
      `SELECT ${this.selectColumns(kind)} FROM ${kind.table}
       WHERE ${this.scopeWhere(kind)}name > @after ORDER BY name LIMIT @limit`,
    ).all({ scope, after: page.after ?? '', limit: page.limit }) as Row[];
    return rows.map((row) => toObject<K>(row));
  }

  /** Every object of a kind across all scopes, for whole-configuration checks. */
  all<K extends KindName>(kindName: K): StoredObject<SpecOf<K>>[] {
    const kind = kinds[kindName];
    const rows = this.prepare(`SELECT ${this.selectColumns(kind)} FROM ${kind.table}`).all() as Row[];
    return rows.map((row) => toObject<K>(row));
  }

  /** Names of objects of `kindName` whose columns equal `where` (who refers to this? is it taken?). */
  namesWhere(kindName: KindName, where: Record<string, string | number>): string[] {
    const kind = kinds[kindName];
    const condition = Object.keys(where).map((column) => `${column} = @${column}`).join(' AND ');
    const rows = this.prepare(`SELECT name FROM ${kind.table} WHERE ${condition} ORDER BY name`).all(where) as {
      name: string;
    }[];
    return rows.map((r) => r.name);
  }

  count(kindName: KindName): number {
    const row = this.prepare(`SELECT count(*) AS n FROM ${kinds[kindName].table}`).get() as { n: number };
    return row.n;
  }

  generation(): number {
    const row = this.prepare(`SELECT value FROM meta WHERE key = 'generation'`).get() as { value: number };
    return row.value;
  }

  /** What config_source says under `key` (an etcd copy's prefix and revisions), if anything. */
  source(key: string): string | undefined {
    const row = this.prepare(`SELECT value FROM config_source WHERE key = ?`).get(key) as { value: string } | undefined;
    return row?.value;
  }
}

/** An object's version and times as another store gave them (an etcd copy keeps etcd's). */
export interface CopiedVersion {
  resourceVersion: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * One write transaction. The first change takes the next generation number; every object it
 * writes gets that number as its resourceVersion, so versions rise across all objects.
 */
export class WriteTx extends ConfigReader {
  readonly changes: Change[] = [];
  private nextGeneration = 0;

  /**
   * The generation of this write; `atLeast` lifts it to a copied object's version, so that
   * once a copy is applied the applied generation is never below any resourceVersion shown.
   */
  private bump(atLeast = 0): number {
    const next = Math.max(this.nextGeneration || this.generation() + 1, atLeast);
    if (next !== this.nextGeneration) {
      this.nextGeneration = next;
      this.prepare(`UPDATE meta SET value = ? WHERE key = 'generation'`).run(next);
    }
    return next;
  }

  get committedGeneration(): number {
    return this.nextGeneration;
  }

  /** For a dry run committed to etcd: the etcd revision its changes were committed at. */
  etcdRevision: number | undefined;

  put<K extends KindName>(kindName: K, scope: string, name: string, spec: Spec): StoredObject<SpecOf<K>> {
    const now = new Date().toISOString();
    return this.write(kindName, scope, name, spec, { resourceVersion: this.bump(), createdAt: now, updatedAt: now }, false);
  }

  /** Writes an object as another store holds it (an etcd copy): its version and times are kept. */
  putCopy<K extends KindName>(kindName: K, scope: string, name: string, spec: Spec, version: CopiedVersion): StoredObject<SpecOf<K>> {
    this.bump(version.resourceVersion);
    return this.write(kindName, scope, name, spec, version, true);
  }

  setSource(key: string, value: string): void {
    this.prepare(`INSERT INTO config_source (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  private write<K extends KindName>(kindName: K, scope: string, name: string, spec: Spec, version: CopiedVersion, keepCreated: boolean): StoredObject<SpecOf<K>> {
    const kind = kinds[kindName];
    const values: Record<string, unknown> = {
      ...kind.columns(spec),
      name,
      spec: JSON.stringify(spec),
      resource_version: version.resourceVersion,
      created_at: version.createdAt,
      updated_at: version.updatedAt,
    };
    if (kind.scopeColumn) values[kind.scopeColumn] = scope;
    this.checkUnique(kind, scope, name, spec);
    const columns = Object.keys(values);
    const key = kind.scopeColumn ? `${kind.scopeColumn}, name` : 'name';
    const updates = columns.filter((c) => (keepCreated || c !== 'created_at') && c !== 'name' && c !== kind.scopeColumn);
    this.prepare(
      `INSERT INTO ${kind.table} (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')})
       ON CONFLICT (${key}) DO UPDATE SET ${updates.map((c) => `${c} = excluded.${c}`).join(', ')}`,
    ).run(values);
    this.changes.push({ kind: kindName, scope, name, op: 'put' });
    return this.get(kindName, scope, name)!;
  }

  /** Explains a duplicate before SQLite's UNIQUE constraint would reject it with less to say. */
  private checkUnique(kind: Kind, scope: string, name: string, spec: Spec): void {
    const columns = kind.columns(spec);
    for (const key of kind.unique) {
      const where: Record<string, string | number> = {};
      for (const column of key.columns) where[column] = columns[column] as string | number;
      if (kind.scopeColumn) where[kind.scopeColumn] = scope;
      const holder = this.namesWhere(kind.name, where).find((n) => n !== name);
      if (holder !== undefined) throw conflict(key.field, `${key.describe(spec)} is already used by '${holder}'`);
    }
  }

  /**
   * Deletes an object, and first its children one by one, so each child's deletion is a
   * change of the commit like any other (the engine and the checks see it) rather than a
   * silent SQL cascade.
   */
  delete(kindName: KindName, scope: string, name: string): boolean {
    const kind = kinds[kindName];
    if (!this.get(kindName, scope, name)) return false;
    for (const child of Object.values(kinds).filter((k) => k.parent === kindName)) {
      for (const o of this.prepare(`SELECT name FROM ${child.table} WHERE ${child.scopeColumn} = ? ORDER BY name`).all(name) as { name: string }[]) {
        this.delete(child.name, name, o.name);
      }
    }
    const result = this.prepare(`DELETE FROM ${kind.table} WHERE ${this.scopeWhere(kind)}name = @name`).run({
      scope,
      name,
    });
    if (result.changes === 0) return false;
    this.bump();
    this.changes.push({ kind: kindName, scope, name, op: 'delete' });
    return true;
  }
}

/**
 * Hears each write before it commits. apply() sees the transaction's view of the whole
 * configuration; throwing rolls the write back. restore() is called if the transaction fails
 * after apply() accepted it, with the committed state.
 */
export interface WriteListener {
  apply(commit: Commit, config: ConfigReader): void;
  restore(config: ConfigReader): void;
}

export interface DryRun<T> {
  value: T;
  changes: Change[];
  after: (StoredObject | undefined)[];
  /** The rolled-back transaction (its changes are what the caller commits elsewhere). */
  tx: WriteTx;
}

const rolledBack = new Error('dry run');

/** The desired configuration in SQLite: reads, one-transaction writes checked as a whole. */
export class Store extends ConfigReader {
  private readonly listeners: WriteListener[] = [];

  constructor(db: Db) {
    super(db);
  }

  /**
   * Runs `body` in one transaction. Before it commits, the changed objects are checked against
   * the whole configuration and the listeners apply them; any error rolls everything back.
   */
  write<T>(body: (tx: WriteTx) => T): T {
    const tx = new WriteTx(this.db, this.statements);
    let applied = false;
    try {
      return this.db.transaction(() => {
        const value = body(tx);
        checkConsistency(tx, tx.changes);
        if (tx.changes.length > 0) {
          const commit = { generation: tx.committedGeneration, changes: tx.changes };
          for (const listener of this.listeners) listener.apply(commit, tx);
          applied = true;
        }
        return value;
      })();
    } catch (err) {
      if (applied) for (const listener of this.listeners) listener.restore(this);
      throw err;
    }
  }

  /**
   * Runs `body` and the whole-configuration checks as write() does, then rolls everything
   * back: what the write would change, for a store that commits elsewhere (etcd).
   * `after` holds each put object as it would be stored.
   */
  dryRun<T>(body: (tx: WriteTx) => T): DryRun<T> {
    const tx = new WriteTx(this.db, this.statements);
    let result: DryRun<T> | undefined;
    try {
      this.db.transaction(() => {
        const value = body(tx);
        checkConsistency(tx, tx.changes);
        const after = tx.changes.map((c) => (c.op === 'put' ? tx.get(c.kind, c.scope, c.name) : undefined));
        result = { value, changes: tx.changes, after, tx };
        throw rolledBack;
      })();
    } catch (err) {
      if (err !== rolledBack) throw err;
    }
    return result!;
  }

  /** Forgets where the objects came from: they are this node's own from now on. */
  clearSource(): void {
    this.db.prepare(`DELETE FROM config_source`).run();
  }

  onWrite(listener: WriteListener): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.db.close();
  }
}
