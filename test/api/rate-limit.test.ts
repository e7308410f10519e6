// API rate limiting: a bucket per client address, checked before authentication, answered
// with a 429 problem and Retry-After; probes and other clients are not affected.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { OffEngine } from '../../engine/off-engine.js';
import { Reconciler } from '../../engine/reconciler.js';
import { openDb } from '../../store/db.js';
import { Store } from '../../store/store.js';

const perSecond = 5;
const token = 'rate-limit-test-token';
let app: FastifyInstance;
let store: Store;

before(async () => {
  store = new Store(openDb(':memory:'));
  const reconciler = new Reconciler(store, new OffEngine());
  reconciler.start();
  app = await buildApp({ store, reconciler, token, rateLimit: { perSecond } });
});
after(async () => {
  await app.close();
  store.close();
});

const get = (url: string, remoteAddress: string, authorization = `Bearer ${token}`) =>
  app.inject({ method: 'GET', url, remoteAddress, headers: { authorization } });

test('a client gets a burst of one second\'s worth, then 429 problems with Retry-After, then more as the bucket refills', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < perSecond + 2; i++) statuses.push((await get('/api/v1/nics', '192.0.2.1')).statusCode);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  const refused = await get('/api/v1/nics', '192.0.2.1');
  assert.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal(refused.json().status, 429);
  assert.match(refused.json().detail, /more than 5 requests per second from 192\.0\.2\.1/);
  // 300 ms refill at least one and a half requests' worth.
  await sleep(300);
  assert.equal((await get('/api/v1/nics', '192.0.2.1')).statusCode, 200);
});

test('other clients and the probes are not affected', async () => {
  for (let i = 0; i < perSecond + 1; i++) await get('/api/v1/nics', '192.0.2.2');
  assert.equal((await get('/api/v1/nics', '192.0.2.2')).statusCode, 429);
  assert.equal((await get('/api/v1/nics', '192.0.2.3')).statusCode, 200);
  assert.equal((await get('/healthz', '192.0.2.2')).statusCode, 200);
  assert.equal((await get('/readyz', '192.0.2.2')).statusCode, 200);
});

test('it runs before authentication: guessing tokens is limited too', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < perSecond + 1; i++) statuses.push((await get('/api/v1/nics', '192.0.2.4', 'Bearer guess')).statusCode);
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
});
