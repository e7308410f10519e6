// A node of an etcd-configured cluster in this process, wired as `l4lb serve --engine off
// --config-store etcd://…` wires it (bin/serve.ts): its own SQLite file, its copy of the
// cluster-wide objects following etcd, and the API over both. Tests run several against one
// EtcdCluster and restart them on the same database.

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppOptions } from '../../api/app.js';
import { clusterSpec } from '../../api/config-store.js';
import { OffEngine } from '../../engine/off-engine.js';
import { Reconciler } from '../../engine/reconciler.js';
import { openDb } from '../../store/db.js';
import type { EtcdClientOptions } from '../../store/etcd/client.js';
import { EtcdConfigStore, type ConfigStoreStatus } from '../../store/etcd/etcd-config-store.js';
import { Store } from '../../store/store.js';
import { clientNic, injector, pool, serverNic } from '../helpers.js';
import { waitFor } from '../e2e/netns.js';

export interface EtcdNode {
  name: string;
  app: FastifyInstance;
  store: Store;
  engine: OffEngine;
  etcd: EtcdConfigStore;
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  status(): ConfigStoreStatus;
  close(): Promise<void>;
}

export const prefix = '/l4lb/';

export interface EtcdNodeOptions {
  login?: Pick<EtcdClientOptions, 'tls' | 'auth'>;
  logger?: AppOptions['logger'];
  /** The engine the node applies to (the engine off unless given). */
  engine?: OffEngine;
  prefix?: string;
}

export async function startEtcdNode(name: string, db: string, endpoints: string[], options: EtcdNodeOptions = {}): Promise<EtcdNode> {
  const store = new Store(openDb(db));
  const etcd = new EtcdConfigStore(store, { endpoints, ...options.login, prefix: options.prefix ?? prefix, node: name, check: clusterSpec, timeoutMs: 1000 });
  const engine = options.engine ?? new OffEngine();
  const reconciler = new Reconciler(store, engine);
  reconciler.start();
  const app = await buildApp({ store, etcd, reconciler, ...(options.logger ? { logger: options.logger } : {}) });
  await app.ready();
  etcd.start({ info: () => {}, warn: () => {} });
  return {
    name,
    app,
    store,
    engine,
    etcd,
    request: injector(app),
    status: () => etcd.status(),
    close: async () => {
      await app.close();
      await etcd.close();
      store.close();
    },
  };
}

/** The node-local objects every node of the fixture has: two NICs (the server one as given) and the pool `lips`. */
export async function seedLocal(node: Pick<EtcdNode, 'name' | 'request'>, server: object = serverNic): Promise<void> {
  for (const [url, body] of [['/api/v1/nics', clientNic], ['/api/v1/nics', server], ['/api/v1/local-address-pools', pool]] as const) {
    const response = await node.request('POST', url, body);
    if (response.statusCode !== 201) throw new Error(`seed ${node.name} ${url}: ${response.statusCode} ${response.body}`);
  }
}

export async function waitConnected(node: EtcdNode, connected = true): Promise<void> {
  await waitFor(`${node.name} ${connected ? 'following' : 'cut off from'} etcd`, async () => node.status().connected === connected, 200, 50);
}

/** Waits until `node` has applied at least `revision`. */
export async function waitApplied(node: EtcdNode, revision: number): Promise<void> {
  await waitFor(`${node.name} to apply etcd revision ${revision} (applied ${node.status().appliedRevision})`, async () => (node.status().appliedRevision ?? 0) >= revision, 200, 50);
}
