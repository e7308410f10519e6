// Shared test fixtures: an app on a fresh in-memory (or file) store with the engine off, a
// JSON request helper around inject, and a small valid configuration to build on.

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppOptions } from '../api/app.js';
import type { Engine } from '../engine/engine.js';
import { OffEngine } from '../engine/off-engine.js';
import { Reconciler } from '../engine/reconciler.js';
import { openDb } from '../store/db.js';
import { Store } from '../store/store.js';

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** An app on a fresh store with the engine off (or `engine`); `options` beyond `db` go to buildApp. */
export async function testApp(options: { db?: string; engine?: Engine } & Omit<AppOptions, 'store' | 'reconciler'> = {}): Promise<TestApp> {
  const { db, engine, ...appOptions } = options;
  const store = new Store(openDb(db ?? ':memory:'));
  const reconciler = new Reconciler(store, engine ?? new OffEngine());
  reconciler.start();
  const app = await buildApp({ store, reconciler, ...appOptions });
  await app.ready();
  return {
    app,
    store,
    request: injector(app),
    close: async () => {
      await app.close();
      store.close();
    },
  };
}

/** A JSON request to `app` through inject: the body, when given, as JSON. */
export function injector(app: FastifyInstance): TestApp['request'] {
  return (method, url, body, headers = {}) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
}

export const clientNic = { name: 'client', device: 'net_af_packet0,iface=c0', networks: ['10.0.1.0/24'], probeAddress: '10.0.1.2/24' };
export const serverNic = { name: 'server', device: 'net_af_packet1,iface=s0', networks: ['10.0.2.0/24'], probeAddress: '10.0.2.2/24' };
export const pool = { name: 'lips', nic: 'server', addresses: ['10.0.2.100', '10.0.2.101'] };
export const healthCheck = { name: 'web', type: 'http', http: { path: '/healthz' } };
export const service = { name: 'web', address: '10.0.1.10', port: 80, protocol: 'tcp', nic: 'client', localAddressPool: 'lips', healthCheck: 'web' };
export const realServers = [
  { name: 'rs1', address: '10.0.2.11' },
  { name: 'rs2', address: '10.0.2.12', weight: 2 },
];

/** The POSTs that create the fixture configuration, in dependency order. */
export const seedRequests: [string, unknown][] = [
  ['/api/v1/nics', clientNic],
  ['/api/v1/nics', serverNic],
  ['/api/v1/local-address-pools', pool],
  ['/api/v1/health-checks', healthCheck],
  ['/api/v1/virtual-services', service],
  ...realServers.map((rs): [string, unknown] => ['/api/v1/virtual-services/web/real-servers', rs]),
];

/** Creates the fixture configuration and fails loudly if any step is refused. */
export async function seed(t: TestApp): Promise<void> {
  for (const [url, body] of seedRequests) {
    const response = await t.request('POST', url, body);
    if (response.statusCode !== 201) throw new Error(`seed ${url}: ${response.statusCode} ${response.body}`);
  }
}

/** Runs `body` on a fresh seeded app (seed()), closed afterwards whatever happens. */
export async function withSeededApp(body: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await testApp();
  try {
    await seed(t);
    await body(t);
  } finally {
    await t.close();
  }
}

export function json(response: LightMyRequestResponse): Record<string, any> {
  return response.json() as Record<string, any>;
}
