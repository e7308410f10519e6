import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, seed, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const url = '/api/v1/health-checks';

describe('health-checks', () => {
  test('create with defaults, read, list, replace, patch and delete', async () => {
    const t = await testApp();
    try {
      const created = await t.request('POST', url, { name: 'conn', type: 'tcp' });
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers.location, `${url}/conn`);
      const body = json(created);
      assert.deepEqual([body.intervalMs, body.timeoutMs, body.rise, body.fall], [2000, 1000, 2, 3]);
      assert.equal(body.http, undefined);

      const web = json(await t.request('POST', url, { name: 'web', type: 'http', http: { host: 'example.org' } }));
      assert.deepEqual(web.http, { host: 'example.org', path: '/', expectStatus: [200] });
      const dns = await t.request('POST', url, { name: 'dns', type: 'udp', udp: { payload: 'ping', expect: 'pong' } });
      assert.equal(dns.statusCode, 201);

      assert.equal((await t.request('GET', `${url}/conn`)).statusCode, 200);
      assert.deepEqual(json(await t.request('GET', url)).items.map((c: { name: string }) => c.name), ['conn', 'dns', 'web']);
      const replaced = await t.request('PUT', `${url}/conn`, { type: 'tcp', intervalMs: 500, timeoutMs: 200 });
      assert.equal(replaced.statusCode, 200);
      assert.deepEqual([json(replaced).intervalMs, json(replaced).timeoutMs], [500, 200]);
      const patched = await t.request('PATCH', `${url}/web`, { type: 'tcp', http: null });
      assert.equal(patched.statusCode, 200);
      assert.equal(json(patched).http, undefined);
      assert.equal((await t.request('DELETE', `${url}/conn`)).statusCode, 204);
      assertProblem(await t.request('GET', `${url}/conn`), 404);
    } finally {
      await t.close();
    }
  });

  test('schema violations are 400 naming the field', async () => {
    const t = await testApp();
    try {
      const post = (body: unknown) => t.request('POST', url, body);
      assertProblem(await post({ name: 'x', type: 'icmp' }), 400, '/body/type', 'must be one of tcp, http, udp');
      assertProblem(await post({ name: 'x' }), 400, '/body/type', 'is required');
      assertProblem(await post({ name: 'x', type: 'tcp', intervalMs: 50 }), 400, '/body/intervalMs');
      assertProblem(await post({ name: 'x', type: 'http', http: { path: 'no-slash' } }), 400, '/body/http/path');
      assertProblem(await post({ name: 'x', type: 'http', http: { expectStatus: [99] } }), 400, '/body/http/expectStatus/0');
      assertProblem(await post({ name: 'x', type: 'udp', udp: {} }), 400, '/body/udp/payload', 'is required');
    } finally {
      await t.close();
    }
  });

  test('configuration errors: timeout above interval, settings of another type, udp without payload', async () => {
    const t = await testApp();
    try {
      const post = (body: unknown) => t.request('POST', url, body);
      assertProblem(await post({ name: 'x', type: 'tcp', intervalMs: 500, timeoutMs: 600 }), 422, '/body/timeoutMs', 'timeoutMs 600', 'intervalMs 500');
      assertProblem(await post({ name: 'x', type: 'tcp', http: { path: '/' } }), 422, '/body/http', 'not tcp');
      assertProblem(await post({ name: 'x', type: 'http', udp: { payload: 'a' } }), 422, '/body/udp', 'not http');
      assertProblem(await post({ name: 'x', type: 'udp' }), 422, '/body/udp', 'udp.payload');
      assert.equal((await post({ name: 'x', type: 'http', http: { path: '/up' } })).statusCode, 201);
      assertProblem(await t.request('PATCH', `${url}/x`, { type: 'tcp' }), 422, '/body/http');
      assertProblem(await post({ name: 'x', type: 'tcp' }), 409, '/body/name');
    } finally {
      await t.close();
    }
  });

  test('deleting a health check a virtual service uses is 409 naming it', async () => {
    const t = await testApp();
    try {
      await seed(t);
      assertProblem(await t.request('DELETE', `${url}/web`), 409, undefined, "health check 'web'", 'virtual services web');
      assert.equal((await t.request('PATCH', '/api/v1/virtual-services/web', { healthCheck: null })).statusCode, 200);
      assert.equal((await t.request('DELETE', `${url}/web`)).statusCode, 204);
    } finally {
      await t.close();
    }
  });
});
