// `l4lb config export` and `l4lb config import`: the cluster-wide configuration (health checks,
// virtual services and their real servers) of one store as a JSON document, and that document
// written into a store, so that a node's configuration moves into etcd (and back) without
// retyping. The store is a node's SQLite database (--db) or etcd under a prefix
// (--config-store etcd://…, with the same --etcd-* options as `l4lb serve`).

import { closeSync, existsSync, fchmodSync, openSync, readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openDb } from '../store/db.js';
import { ConfigError } from '../store/errors.js';
import { clusterKinds, type ObjectId } from '../store/etcd/keys.js';
import { checkConsistency } from '../store/rules.js';
import { Store, type ConfigReader } from '../store/store.js';
import { configStoreFlags, configStoreUsage, parseConfigStoreOptions } from './config-store-options.js';
import { describe, readDocument, toDocument, type Entry } from './config-document.js';
import { CommandFailed, etcdName, exportEtcd, importEtcd, type EtcdPlace } from './config-etcd.js';
import { UsageError } from './usage-error.js';

export { CommandFailed };

const synopsis = `Usage: l4lb config export [--db FILE | --config-store etcd://… [etcd options]] [--output FILE]
       l4lb config import FILE|- [--db FILE | --config-store etcd://… [etcd options]] [--replace]
`;

const about = `
Moves the cluster-wide configuration (health checks, virtual services and their real
servers) between a node's database and etcd as one JSON document:
  {"apiVersion": "l4lb/v1", "kind": "ClusterConfig", "healthChecks": [{"name": …, …}],
   "virtualServices": [{"name": …, …, "realServers": [{"name": …, …}]}]}
export writes it, every list sorted by name. import checks the whole document first (each
object against the API's schema, names, references, addresses), then writes it in one
transaction: into a database, checked against that node's NICs and pools as the API would;
into etcd, only if nothing under the prefix changed since it was read. Otherwise nothing
is written. Import into the database of a stopped node (a running one does not see it).

Options:
  --db FILE                the node's configuration database (SQLite), used unless
                           --config-store etcd://… is given
                                                  [L4LB_DB, default ./var/l4lb.db]
`;

const ownOptions = `  --output FILE, -o FILE   export: write the document to FILE (created mode 0600)
                           instead of standard output
  --replace                import: overwrite objects of the same name and delete every
                           health check, virtual service and real server the document
                           does not hold; without it an import naming an existing
                           object is refused
  -h, --help               show this help

Exit status: 0 done; 1 refused or failed, nothing written; 2 bad command line.
`;

/** `l4lb config --help`. */
export const configUsage = `${synopsis}${about}${configStoreUsage}${ownOptions}`;

/** The part of `l4lb --help` about `l4lb config`: the etcd options are described under serve. */
export const configUsageBrief = `${synopsis}${about}  --config-store …, --etcd-*  where and how to reach etcd, as for serve above
${ownOptions}`;

type Place = { backend: 'sqlite'; db: string } | ({ backend: 'etcd' } & EtcdPlace);

function placeName(place: Place): string {
  return place.backend === 'sqlite' ? place.db : etcdName(place);
}

const flags = { db: { type: 'string' }, ...configStoreFlags, output: { type: 'string', short: 'o' }, replace: { type: 'boolean' } } as const;

function parse(command: 'export' | 'import', args: string[], env: NodeJS.ProcessEnv) {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true, strict: true });
  if (command === 'export' && values.replace) throw new UsageError('--replace is an option of import');
  if (command === 'import' && values.output !== undefined) throw new UsageError('--output is an option of export');
  const store = parseConfigStoreOptions(values, env);
  let place: Place;
  if (store.location.backend === 'etcd') {
    if (values.db !== undefined) throw new UsageError(`--db ${values.db} and --config-store ${etcdName(store as EtcdPlace)} name two places: give one`);
    place = { backend: 'etcd', ...(store as EtcdPlace) };
  } else {
    place = { backend: 'sqlite', db: values.db ?? env.L4LB_DB ?? './var/l4lb.db' };
  }
  return { values, positionals, place };
}

function openStore(db: string): Store {
  if (!existsSync(db)) throw new CommandFailed(`there is no database at ${db} (--db FILE or L4LB_DB names it)`);
  return new Store(openDb(db, (message) => process.stderr.write(`l4lb: warning: ${message}\n`)));
}

const byScopeAndName = (a: ObjectId, b: ObjectId) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The database's cluster-wide objects: health checks, services, real servers, each sorted. */
function sqliteEntries(config: ConfigReader): Entry[] {
  return clusterKinds.flatMap((kind) => config.all(kind).map((o): Entry => ({ kind, scope: o.scope, name: o.name, spec: o.spec })).sort(byScopeAndName));
}

function counted(entries: ObjectId[]): string {
  const n = (kind: string) => entries.filter((e) => e.kind === kind).length;
  const plural = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  return `${plural(n('health-checks'), 'health check')}, ${plural(n('virtual-services'), 'virtual service')}, ${plural(n('real-servers'), 'real server')}`;
}

async function exportCommand(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values, positionals, place } = parse('export', args, env);
  if (positionals.length > 0) throw new UsageError(`export takes no arguments, not '${positionals[0]}'`);
  let entries: Entry[];
  if (place.backend === 'etcd') {
    entries = await exportEtcd(place);
  } else {
    const store = openStore(place.db);
    try {
      entries = sqliteEntries(store);
    } finally {
      store.close();
    }
  }
  let document: Record<string, unknown>;
  try {
    document = toDocument(entries);
  } catch (err) {
    throw new CommandFailed(`${placeName(place)} cannot be exported: ${(err as Error).message}`);
  }
  const text = `${JSON.stringify(document, null, 2)}\n`;
  const output = values.output;
  if (output === undefined || output === '-') {
    process.stdout.write(text);
  } else {
    writePrivate(output, text);
  }
  process.stderr.write(`exported ${counted(entries)} from ${placeName(place)}${output && output !== '-' ? ` to ${output}` : ''}\n`);
}

/** Writes `text` to `file`, which only its owner may read (an existing file is narrowed too). */
function writePrivate(file: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'w', 0o600);
  } catch (err) {
    throw new CommandFailed(`--output ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CommandFailed(`cannot read ${file === '-' ? 'standard input' : file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function importCommand(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values, positionals, place } = parse('import', args, env);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'import needs the document: a FILE, or - for standard input' : `import takes one document, not ${positionals.length}`);
  const replace = values.replace === true;
  const read = readDocument(readInput(positionals[0]));
  if ('errors' in read) {
    throw new CommandFailed(`${positionals[0] === '-' ? 'the document' : positionals[0]} is not a valid configuration; nothing was imported:\n  ${read.errors.join('\n  ')}`);
  }
  const { entries } = read;
  let at: string;
  let deleted: number;
  if (place.backend === 'etcd') {
    const result = await importEtcd(place, entries, replace);
    at = `revision ${result.revision}`;
    deleted = result.deleted;
  } else {
    const result = importSqlite(place.db, entries, replace);
    at = `generation ${result.generation}`;
    deleted = result.deleted;
  }
  const deletions = replace ? `, deleted ${deleted} object${deleted === 1 ? '' : 's'} the document lacks` : '';
  process.stderr.write(`imported ${counted(entries)} into ${placeName(place)} at ${at}${deletions}\n`);
}

const idKey = (id: ObjectId) => `${id.kind}/${id.scope}/${id.name}`;

/** Runs `body`, naming `id` in the message of a rule it breaks. */
function attributed<T>(id: ObjectId, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const field = err.errors[0]?.field;
    throw new ImportRefused(`${describe(id)}${field ? ` (${field})` : ''}: ${err.message}`);
  }
}

class ImportRefused extends Error {}

/**
 * One store.write: the node's own rules check the result against its NICs, pools and routes.
 * With `replace`, the cluster-wide objects the document lacks are deleted first.
 */
function importSqlite(db: string, entries: Entry[], replace: boolean): { generation: number; deleted: number } {
  const store = openStore(db);
  const wanted = new Set(entries.map(idKey));
  try {
    return store.write((tx) => {
      const existing = sqliteEntries(tx);
      if (!replace) {
        const taken = existing.filter((o) => wanted.has(idKey(o)));
        if (taken.length > 0) {
          throw new CommandFailed(`${db} already holds ${taken.map(describe).join(', ')}; nothing was imported (--replace overwrites them and deletes what the document lacks)`);
        }
      }
      let deleted = 0;
      if (replace) {
        // Real servers first: a service's deletion would take its servers with it.
        for (const o of [...existing].reverse()) {
          if (!wanted.has(idKey(o)) && tx.delete(o.kind, o.scope, o.name)) deleted++;
        }
      }
      for (const e of entries) attributed(e, () => tx.put(e.kind, e.scope, e.name, e.spec));
      for (const change of tx.changes) {
        attributed({ kind: change.kind as Entry['kind'], scope: change.scope, name: change.name }, () => checkConsistency(tx, [change]));
      }
      // The objects are this node's own now, not a copy of an etcd prefix.
      store.clearSource();
      return { generation: tx.committedGeneration || tx.generation(), deleted };
    });
  } catch (err) {
    if (err instanceof ImportRefused) throw new CommandFailed(`${db} refused the import; nothing was imported:\n  ${err.message}`);
    if (err instanceof ConfigError) throw new CommandFailed(`${db} refused the import; nothing was imported: ${err.message}`);
    throw err;
  } finally {
    store.close();
  }
}

/** `l4lb config ARGS`. */
export async function configCommand(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'export') return exportCommand(rest, env);
  if (sub === 'import') return importCommand(rest, env);
  throw new UsageError(sub === undefined ? 'config needs export or import' : `unknown config command '${sub}': expected export or import`);
}
