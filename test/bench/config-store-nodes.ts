// Appliances for the configuration-store benchmark (config-store-bench.ts), wired as
// bin/serve.ts wires them but in one process, on temp-file SQLite databases, with the engine
// off: a Store, a Reconciler over a RecordingEngine, an EtcdConfigStore when given an etcd
// cluster (a LocalWriter otherwise, as buildApp picks without one) and the app, driven with
// inject. The RecordingEngine notes when apply() first receives each version of an object.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../api/app.js';
import { clusterSpec } from '../../api/config-store.js';
import { OffEngine } from '../../engine/off-engine.js';
import { Reconciler } from '../../engine/reconciler.js';
import { openDb } from '../../store/db.js';
import { EtcdConfigStore } from '../../store/etcd/etcd-config-store.js';
import type { KindName } from '../../store/kinds.js';
import type { Commit, ConfigReader } from '../../store/store.js';
import { Store } from '../../store/store.js';
import { clientNic, pool, serverNic } from '../helpers.js';

/** One version of one object: what the recorder keys its times by. */
export function versionKey(kind: KindName, scope: string, name: string, resourceVersion: number): string {
  return `${kind}/${scope}/${name}@${resourceVersion}`;
}

/** OffEngine that records performance.now() when apply() first receives each object version it puts. */
export class RecordingEngine extends OffEngine {
  private readonly appliedAt = new Map<string, number>();
  private readonly waiters = new Map<string, ((at: number) => void)[]>();

  override apply(commit: Commit, config?: ConfigReader): void {
    const at = performance.now();
    super.apply(commit);
    if (!config) return;
    for (const change of commit.changes) {
      if (change.op !== 'put') continue;
      const object = config.get(change.kind, change.scope, change.name);
      if (!object) continue;
      const key = versionKey(change.kind, change.scope, change.name, object.resourceVersion);
      if (this.appliedAt.has(key)) continue;
      this.appliedAt.set(key, at);
      for (const resolve of this.waiters.get(key) ?? []) resolve(at);
      this.waiters.delete(key);
    }
  }

  /** When apply() received `key` (now or later); rejects after `timeoutMs`. */
  whenApplied(key: string, timeoutMs: number): Promise<number> {
    const at = this.appliedAt.get(key);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(key) ?? [];
        list.splice(list.indexOf(done), 1);
        reject(new Error(`${key} was not applied within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const done = (t: number) => {
        clearTimeout(timer);
        resolve(t);
      };
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), done]);
    });
  }
}

export interface BenchNode {
  name: string;
  app: FastifyInstance;
  store: Store;
  engine: RecordingEngine;
  etcd?: EtcdConfigStore;
  request(method: string, url: string, body?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

const quiet = { info() {}, warn() {}, error() {} };

/** An appliance on a temp-file database; with `etcd`, its cluster-wide kinds live under that prefix. */
export async function startNode(name: string, etcd?: { endpoints: string[]; prefix: string }): Promise<BenchNode> {
  const dir = mkdtempSync(join(tmpdir(), `l4lb-config-bench-${name}-`));
  const store = new Store(openDb(join(dir, 'l4lb.db')));
  const engine = new RecordingEngine();
  const configStore = etcd ? new EtcdConfigStore(store, { ...etcd, node: `bench-${name}`, check: clusterSpec }) : undefined;
  if (!configStore) store.clearSource();
  const reconciler = new Reconciler(store, engine);
  let app: FastifyInstance;
  try {
    app = await buildApp({ store, reconciler, ...(configStore ? { etcd: configStore } : {}) });
  } catch (err) {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  reconciler.start(quiet);
  configStore?.start(quiet);
  app.addHook('onClose', async () => {
    await configStore?.close();
    await engine.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await app.ready();
  return {
    name,
    app,
    store,
    engine,
    ...(configStore ? { etcd: configStore } : {}),
    request: (method, url, body) =>
      app.inject({
        method: method as 'GET',
        url,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) }),
      }),
    close: () => app.close(),
  };
}

/** Resolves once the node's etcd follower is connected (bounded: 200 × 50 ms). */
export async function untilConnected(node: BenchNode): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (!node.etcd || node.etcd.follower.state.connected) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`node ${node.name}: etcd follower not connected after 10 s: ${node.etcd?.follower.state.lastError ?? ''}`);
}

/** The server NIC widened to 10.2.0.0/15, where the bench's real servers live. */
export const wideServerNic = { ...serverNic, networks: ['10.0.2.0/24', '10.2.0.0/15'] };

/** The node-local objects every node needs (NICs, local-address pool), through the node's own API. */
export async function seedLocal(node: BenchNode): Promise<void> {
  for (const [url, body] of [['/api/v1/nics', clientNic], ['/api/v1/nics', wideServerNic], ['/api/v1/local-address-pools', pool]] as const) {
    const response = await node.request('POST', url, body);
    if (response.statusCode !== 201) throw new Error(`node ${node.name}: seed ${url}: ${response.statusCode} ${response.body}`);
  }
}

/** The i-th real server address in 10.2.0.0/15. */
export function address(i: number): string {
  return `10.${2 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

/** p50, p99 and max of `values` (milliseconds), as api-bench takes them. */
export function quantiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}
