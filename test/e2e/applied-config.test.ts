// What the data plane runs must be what the store holds: a random sequence of writes (create,
// replace, patch and delete of virtual services and real servers in any order, services
// recreated under old names) goes through the API to a DPDK engine in this process, and after
// every one the services and real servers the engine reports equal those the store lists.
// The NICs are af_packet ports on two veths (this kernel has no dummy interfaces). Needs root; fails under CI=true.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { DpdkEngine } from '../../engine/dataplane/dpdk-engine.js';
import { Reconciler } from '../../engine/reconciler.js';
import { openDb } from '../../store/db.js';
import { Store } from '../../store/store.js';
import { ip, requireRoot, tryRun } from './netns.js';

const skip = requireRoot();
const operations = Number(process.env.APPLIED_CONFIG_OPS ?? 400);
const seed = Number(process.env.APPLIED_CONFIG_SEED ?? Math.floor(Math.random() * 2 ** 31));
const dummies = [`l4ac${process.pid % 10000}c`, `l4ac${process.pid % 10000}s`];

let store: Store;
let engine: DpdkEngine;
let app: FastifyInstance;

/** mulberry32: a small seeded generator, so a failing sequence can be replayed. */
function random(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function send(method: string, url: string, body?: unknown): Promise<number> {
  const response = await app.inject({ method: method as 'GET', url, ...(body === undefined ? {} : { payload: body as object }) });
  assert.ok(response.statusCode < 500, `${method} ${url} → ${response.statusCode} ${response.body}`);
  return response.statusCode;
}

before(async () => {
  if (skip) return;
  for (const name of dummies) {
    await tryRun('ip', ['link', 'del', name]);
    await ip(['link', 'add', name, 'up', 'type', 'veth', 'peer', 'name', `${name}p`]);
  }
  store = new Store(openDb(':memory:'));
  engine = new DpdkEngine({ workers: 1, idle: 'adaptive', sessionsPerWorker: 4096, protectManagement: null });
  const reconciler = new Reconciler(store, engine);
  reconciler.start();
  app = await buildApp({ store, reconciler });
  assert.equal(await send('POST', '/api/v1/nics', { name: 'client', device: `net_af_packet0,iface=${dummies[0]}`, networks: ['10.0.1.0/24'] }), 201);
  assert.equal(await send('POST', '/api/v1/nics', { name: 'server', device: `net_af_packet1,iface=${dummies[1]}`, networks: ['10.0.2.0/24'] }), 201);
  assert.equal(await send('POST', '/api/v1/local-address-pools', { name: 'lips', nic: 'server', addresses: ['10.0.2.100'] }), 201);
});

after(async () => {
  await app?.close();
  await engine?.close();
  store?.close();
  for (const name of dummies) await tryRun('ip', ['link', 'del', name]);
});

/** Services and their real servers, as `service: server,server`, sorted. */
function storeView(): string[] {
  const servers = store.all('real-servers');
  return store
    .all('virtual-services')
    .map((s) => `${s.name}: ${servers.filter((r) => r.scope === s.name).map((r) => r.name).sort().join(',')}`)
    .sort();
}

function engineView(): string[] {
  return engine
    .status()
    .services.map((s) => `${s.name}: ${s.realServers.map((r) => r.name).sort().join(',')}`)
    .sort();
}

test('after every write of a random sequence the engine runs exactly the stored services and real servers', { skip }, async (t) => {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const services = ['a', 'b', 'c'];
  const servers = ['r1', 'r2', 'r3'];
  const counts: Record<number, number> = {};
  for (let i = 0; i < operations; i++) {
    const vs = pick(services);
    const rs = pick(servers);
    const serviceBody = { address: `10.0.1.${10 + services.indexOf(vs)}`, port: pick([80, 443]), protocol: 'tcp', nic: 'client', localAddressPool: 'lips', scheduler: pick(['rr', 'wrr', 'mh']) };
    const serverBody = { address: `10.0.2.${10 + servers.indexOf(rs)}`, port: 8080, weight: 1 + Math.floor(next() * 5) };
    const serverUrl = `/api/v1/virtual-services/${vs}/real-servers`;
    const step = pick([
      () => send('POST', '/api/v1/virtual-services', { name: vs, ...serviceBody }),
      () => send('POST', '/api/v1/virtual-services', { name: vs, ...serviceBody }),
      () => send('PUT', `/api/v1/virtual-services/${vs}`, serviceBody),
      () => send('PATCH', `/api/v1/virtual-services/${vs}`, { enabled: next() < 0.8, scheduler: pick(['rr', 'lc', 'sh']) }),
      () => send('DELETE', `/api/v1/virtual-services/${vs}`),
      () => send('DELETE', `/api/v1/virtual-services/${vs}`),
      () => send('POST', serverUrl, { name: rs, ...serverBody }),
      () => send('POST', serverUrl, { name: rs, ...serverBody }),
      () => send('PUT', `${serverUrl}/${rs}`, serverBody),
      () => send('PATCH', `${serverUrl}/${rs}`, { weight: Math.floor(next() * 4), enabled: next() < 0.8 }),
      () => send('DELETE', `${serverUrl}/${rs}`),
    ]);
    const status = await step();
    counts[status] = (counts[status] ?? 0) + 1;
    assert.deepEqual(engineView(), storeView(), `after operation ${i} (APPLIED_CONFIG_SEED=${seed} replays the sequence)`);
  }
  t.diagnostic(`${operations} operations, APPLIED_CONFIG_SEED=${seed}; answers by status: ${JSON.stringify(counts)}`);
  assert.ok((counts[201] ?? 0) + (counts[200] ?? 0) > operations / 4, 'most writes went through');
  assert.ok((counts[204] ?? 0) > 0, 'some deletes went through');
});
