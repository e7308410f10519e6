import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, seed, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const url = '/api/v1/local-address-pools';
const p2 = { name: 'p2', nic: 'client', addresses: ['10.0.1.100', '10.0.1.101'] };

describe('local-address-pools', () => {
  test('create with the default port range, read, list, replace, patch and delete', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const created = await t.request('POST', url, p2);
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers.location, `${url}/p2`);
      assert.deepEqual(json(created).portRange, { min: 1024, max: 65535 });
      assert.equal((await t.request('GET', `${url}/p2`)).statusCode, 200);
      assert.deepEqual(json(await t.request('GET', url)).items.map((p: { name: string }) => p.name), ['lips', 'p2']);
      const replaced = await t.request('PUT', `${url}/p2`, { nic: 'client', addresses: ['10.0.1.102'], portRange: { min: 2000, max: 3000 } });
      assert.equal(replaced.statusCode, 200);
      assert.deepEqual(json(replaced).addresses, ['10.0.1.102']);
      const patched = await t.request('PATCH', `${url}/p2`, { portRange: { min: 2500 } });
      assert.equal(patched.statusCode, 200);
      assert.deepEqual(json(patched).portRange, { min: 2500, max: 3000 });
      assert.equal((await t.request('DELETE', `${url}/p2`)).statusCode, 204);
      assertProblem(await t.request('GET', `${url}/p2`), 404);
    } finally {
      await t.close();
    }
  });

  test('schema violations are 400 naming the field', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const post = (body: unknown) => t.request('POST', url, body);
      assertProblem(await post({ ...p2, addresses: ['10.0.1.300'] }), 400, '/body/addresses/0');
      assertProblem(await post({ ...p2, addresses: [] }), 400, '/body/addresses');
      assertProblem(await post({ ...p2, portRange: { min: 1024, max: 65536 } }), 400, '/body/portRange/max');
      assertProblem(await post({ ...p2, portRange: { min: 0, max: 2000 } }), 400, '/body/portRange/min');
      assertProblem(await post({ name: 'p2', addresses: ['10.0.1.100'] }), 400, '/body/nic', 'is required');
    } finally {
      await t.close();
    }
  });

  test('configuration errors: missing NIC, empty port range, shared addresses, VIPs', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const post = (body: unknown) => t.request('POST', url, body);
      assertProblem(await post({ ...p2, nic: 'ghost' }), 422, '/body/nic', "no NIC named 'ghost'");
      assertProblem(await post({ ...p2, portRange: { min: 3000, max: 2000 } }), 422, '/body/portRange', '3000-2000');
      assertProblem(await post({ ...p2, addresses: ['10.0.1.100', '10.0.2.101'] }), 409, '/body/addresses/1', '10.0.2.101', "pool 'lips'");
      assertProblem(await post({ ...p2, addresses: ['10.0.1.10'] }), 409, '/body/addresses/0', '10.0.1.10', "virtual service 'web'");
      assert.equal((await post(p2)).statusCode, 201);
      assertProblem(await post(p2), 409, '/body/name', "'p2' already exists");
    } finally {
      await t.close();
    }
  });

  test('deleting a pool a virtual service uses is 409 naming it', async () => {
    const t = await testApp();
    try {
      await seed(t);
      assertProblem(await t.request('DELETE', `${url}/lips`), 409, undefined, "pool 'lips'", 'virtual services web');
      assert.equal((await t.request('GET', `${url}/lips`)).statusCode, 200);
    } finally {
      await t.close();
    }
  });
});
