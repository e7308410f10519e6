import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, seed, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const far = { name: 'far', prefix: '10.50.0.0/16', via: '10.0.2.1', nic: 'server' };
const farServer = { name: 'far1', address: '10.50.0.5' };
const rsUrl = '/api/v1/virtual-services/web/real-servers';

describe('routes', () => {
  test('create, read, list, replace, patch and delete', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const created = await t.request('POST', '/api/v1/routes', far);
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers.location, '/api/v1/routes/far');
      assert.deepEqual({ ...json(created), resourceVersion: undefined, status: undefined }, { ...far, resourceVersion: undefined, status: undefined });
      assert.equal((await t.request('GET', '/api/v1/routes/far')).statusCode, 200);
      assert.deepEqual(json(await t.request('GET', '/api/v1/routes')).items.map((r: { name: string }) => r.name), ['far']);
      const replaced = await t.request('PUT', '/api/v1/routes/far', { ...far, via: '10.0.2.254' });
      assert.equal(replaced.statusCode, 200);
      assert.equal(json(replaced).via, '10.0.2.254');
      const patched = await t.request('PATCH', '/api/v1/routes/far', { nic: 'client', via: '10.0.1.1' });
      assert.equal(patched.statusCode, 200);
      assert.equal(json(patched).nic, 'client');
      assert.equal((await t.request('PUT', '/api/v1/routes/near', { prefix: '10.51.0.0/16', via: '10.0.2.1', nic: 'server' })).statusCode, 201);
      assert.equal((await t.request('DELETE', '/api/v1/routes/far')).statusCode, 204);
      assertProblem(await t.request('GET', '/api/v1/routes/far'), 404);
    } finally {
      await t.close();
    }
  });

  test('schema violations and missing fields are 400', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const post = (body: unknown) => t.request('POST', '/api/v1/routes', body);
      assertProblem(await post({ ...far, via: '10.0.2' }), 400, '/body/via');
      assertProblem(await post({ ...far, prefix: '10.50.0.0' }), 400, '/body/prefix');
      assertProblem(await post({ ...far, nic: 'a b' }), 400, '/body/nic');
      assertProblem(await post({ name: 'far', prefix: '10.50.0.0/16', nic: 'server' }), 400, '/body/via', 'is required');
    } finally {
      await t.close();
    }
  });

  test('configuration errors: missing NIC, host bits, next hop off the NIC, duplicates', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const post = (body: unknown) => t.request('POST', '/api/v1/routes', body);
      assertProblem(await post({ ...far, nic: 'ghost' }), 422, '/body/nic', "no NIC named 'ghost'");
      assertProblem(await post({ ...far, prefix: '10.50.1.0/16' }), 422, '/body/prefix', '10.50.0.0/16');
      assertProblem(await post({ ...far, via: '10.0.1.1' }), 422, '/body/via', '10.0.1.1', "NIC 'server'");
      assert.equal((await post(far)).statusCode, 201);
      assertProblem(await post(far), 409, '/body/name');
      assertProblem(await post({ ...far, name: 'again' }), 409, '/body/prefix', 'prefix 10.50.0.0/16', "'far'");
    } finally {
      await t.close();
    }
  });

  test('a real server reached only through a route keeps the route', async () => {
    const t = await testApp();
    try {
      await seed(t);
      assertProblem(await t.request('POST', rsUrl, farServer), 422, '/body/address', '10.50.0.5');
      assert.equal((await t.request('POST', '/api/v1/routes', far)).statusCode, 201);
      assert.equal((await t.request('POST', rsUrl, farServer)).statusCode, 201);
      assertProblem(await t.request('DELETE', '/api/v1/routes/far'), 409, undefined, "real server 'far1'", '10.50.0.5');
      assertProblem(await t.request('PATCH', '/api/v1/routes/far', { prefix: '10.70.0.0/16' }), 409, '/body/prefix', "real server 'far1'");
      assert.equal(json(await t.request('GET', '/api/v1/routes/far')).prefix, '10.50.0.0/16');
    } finally {
      await t.close();
    }
  });
});
