// `l4lb config export|import` against etcd: one range of the prefix to read, and an import as
// ONE transaction that holds only if nothing under the prefix changed since that read (the
// last-write key and every key it touches are compared at their mod revisions as read).

import { EtcdClient, EtcdRefused, EtcdUnavailable, type Compare, type TxnOp } from '../store/etcd/client.js';
import { decodeValue, encodeValue, lastWriteKey, objectKey, parseKey, type ClusterObject } from '../store/etcd/keys.js';
import type { ConfigStoreOptions } from './config-store-options.js';
import { describe, duplicateAddresses, serviceAddress, type Entry } from './config-document.js';

/** The command could not do what it was asked; nothing was written. Exit status 1. */
export class CommandFailed extends Error {}

export type EtcdPlace = ConfigStoreOptions & { location: { backend: 'etcd'; endpoints: string[]; prefix: string; tls: boolean } };

/** `etcd://HOST:PORT,…/PREFIX/` as given (never with credentials). */
export function etcdName(place: EtcdPlace): string {
  const { endpoints, prefix, tls } = place.location;
  return `${tls ? 'etcds' : 'etcd'}://${endpoints.join(',')}${prefix}`;
}

interface PrefixState {
  revision: number;
  /** The last-write key's mod revision; 0 when it does not exist. */
  lastWrite: number;
  objects: Map<string, ClusterObject>;
}

function client(place: EtcdPlace): EtcdClient {
  return new EtcdClient({
    endpoints: place.location.endpoints,
    ...(place.tls ? { tls: place.tls } : {}),
    ...(place.auth ? { auth: place.auth } : {}),
    timeoutMs: 5000,
  });
}

/** Everything under the prefix, trying each endpoint in turn. */
async function readPrefix(etcd: EtcdClient, place: EtcdPlace): Promise<PrefixState> {
  const prefix = place.location.prefix;
  let answer: Awaited<ReturnType<EtcdClient['range']>> | undefined;
  let last: Error | undefined;
  for (let i = 0; i < place.location.endpoints.length && !answer; i++) {
    try {
      answer = await etcd.range(prefix);
    } catch (err) {
      if (!(err instanceof EtcdUnavailable)) throw err;
      last = err;
      etcd.rotate();
    }
  }
  if (!answer) throw new CommandFailed(`etcd is unreachable at ${etcdName(place)}: ${last?.message}; nothing was read or written`);
  const state: PrefixState = { revision: answer.revision, lastWrite: 0, objects: new Map() };
  for (const kv of answer.kvs) {
    if (kv.key === lastWriteKey(prefix)) {
      state.lastWrite = kv.modRevision;
      continue;
    }
    const id = parseKey(prefix, kv.key);
    if (!id) throw new CommandFailed(`etcd key '${kv.key}' is not a health check, virtual service or real server key under ${prefix}; remove or move it first`);
    const value = decodeValue(kv.value);
    if (typeof value === 'string') throw new CommandFailed(`etcd key '${kv.key}': its value ${value}`);
    state.objects.set(kv.key, { ...id, ...value, modRevision: kv.modRevision });
  }
  return state;
}

/** Runs `body` with a client, turning etcd's refusals into CommandFailed and closing the client. */
async function using<T>(place: EtcdPlace, body: (etcd: EtcdClient) => Promise<T>): Promise<T> {
  const etcd = client(place);
  try {
    return await body(etcd);
  } catch (err) {
    if (err instanceof EtcdRefused) throw new CommandFailed(`etcd refused: ${err.message}`);
    throw err;
  } finally {
    etcd.close();
  }
}

export function exportEtcd(place: EtcdPlace): Promise<Entry[]> {
  return using(place, async (etcd) => [...(await readPrefix(etcd, place)).objects.values()].map(({ kind, scope, name, spec }) => ({ kind, scope, name, spec })));
}

export interface ImportResult {
  revision: number;
  deleted: number;
}

export function importEtcd(place: EtcdPlace, entries: Entry[], replace: boolean): Promise<ImportResult> {
  const prefix = place.location.prefix;
  return using(place, async (etcd) => {
    const state = await readPrefix(etcd, place);
    const wanted = new Map(entries.map((e) => [objectKey(prefix, e), e]));
    if (!replace) {
      const taken = [...wanted.keys()].filter((key) => state.objects.has(key)).map((key) => describe(wanted.get(key)!));
      if (taken.length > 0) {
        throw new CommandFailed(`${etcdName(place)} already holds ${taken.join(', ')}; nothing was imported (--replace overwrites them and deletes what the document lacks)`);
      }
      // The services already there keep their addresses: the document's must not take one.
      const kept = [...state.objects.values()].filter((o) => o.kind === 'virtual-services');
      const addresses = new Map(kept.map((o) => [serviceAddress(o.spec), o.name]));
      const clashes = duplicateAddresses(entries.filter((e) => e.kind === 'virtual-services'), serviceAddress, addresses);
      if (clashes.length > 0) throw new CommandFailed(`${etcdName(place)} refused the import; nothing was imported:\n  ${clashes.join('\n  ')}`);
    }
    const now = new Date().toISOString();
    const compares: Compare[] = [{ key: lastWriteKey(prefix), modRevision: state.lastWrite }];
    const ops: TxnOp[] = [];
    for (const [key, entry] of wanted) {
      const existing = state.objects.get(key);
      compares.push({ key, modRevision: existing?.modRevision ?? 0 });
      ops.push({ put: { key, value: encodeValue({ spec: entry.spec, createdAt: existing?.createdAt ?? now, updatedAt: now }) } });
    }
    let deleted = 0;
    if (replace) {
      for (const [key, existing] of state.objects) {
        if (wanted.has(key)) continue;
        compares.push({ key, modRevision: existing.modRevision });
        ops.push({ delete: { key } });
        deleted++;
      }
    }
    ops.push({ put: { key: lastWriteKey(prefix), value: JSON.stringify({ node: 'l4lb config import', at: now }) } });
    let result: { succeeded: boolean; revision: number };
    try {
      result = await etcd.txn(compares, ops);
    } catch (err) {
      if (err instanceof EtcdUnavailable) {
        throw new CommandFailed(`etcd did not answer the import's transaction (${err.message}): it may or may not have been applied; export from ${etcdName(place)} to see`);
      }
      if (err instanceof EtcdRefused && /too many operations/.test(err.message)) {
        throw new CommandFailed(`etcd refused the import's transaction of ${ops.length} operations (${err.message}): raise --max-txn-ops (128 by default) on every etcd member and import again; nothing was imported`);
      }
      throw err;
    }
    if (!result.succeeded) {
      throw new CommandFailed(`someone wrote under ${etcdName(place)} while the import ran (etcd is now at revision ${result.revision}); nothing was imported: run it again`);
    }
    return { revision: result.revision, deleted };
  });
}
