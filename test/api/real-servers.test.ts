import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, seed, service, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const url = '/api/v1/virtual-services/web/real-servers';

describe('real-servers', () => {
  test('the port defaults to the service port; unnamed servers are <address>-<port>', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const rs1 = json(await t.request('GET', `${url}/rs1`));
      assert.equal(rs1.port, service.port);
      assert.equal(rs1.weight, 1);
      assert.equal(rs1.enabled, true);
      const unnamed = await t.request('POST', url, { address: '10.0.2.13' });
      assert.equal(unnamed.statusCode, 201);
      assert.equal(json(unnamed).name, '10.0.2.13-80');
      assert.equal(unnamed.headers.location, `${url}/10.0.2.13-80`);
      const withPort = await t.request('POST', url, { address: '10.0.2.13', port: 8080 });
      assert.equal(json(withPort).name, '10.0.2.13-8080');
      assert.equal(json(withPort).port, 8080);
    } finally {
      await t.close();
    }
  });

  test('read, list, replace, patch and delete', async () => {
    const t = await testApp();
    try {
      await seed(t);
      assert.deepEqual(json(await t.request('GET', url)).items.map((r: { name: string }) => r.name), ['rs1', 'rs2']);
      const replaced = await t.request('PUT', `${url}/rs1`, { address: '10.0.2.21', port: 8080, weight: 5 });
      assert.equal(replaced.statusCode, 200);
      assert.deepEqual([json(replaced).address, json(replaced).port, json(replaced).weight], ['10.0.2.21', 8080, 5]);
      const created = await t.request('PUT', `${url}/rs3`, { address: '10.0.2.23' });
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers.location, `${url}/rs3`);
      assert.equal(json(created).port, 80);
      const drained = await t.request('PATCH', `${url}/rs2`, { weight: 0 });
      assert.equal(drained.statusCode, 200);
      assert.equal(json(drained).weight, 0);
      assert.equal((await t.request('DELETE', `${url}/rs2`)).statusCode, 204);
      assertProblem(await t.request('GET', `${url}/rs2`), 404, undefined, "'rs2'");
      assertProblem(await t.request('DELETE', `${url}/rs2`), 404);
    } finally {
      await t.close();
    }
  });

  test('under a missing virtual service every operation is 404', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const missing = '/api/v1/virtual-services/nope/real-servers';
      assertProblem(await t.request('GET', missing), 404, undefined, "no virtual service named 'nope'");
      assertProblem(await t.request('POST', missing, { address: '10.0.2.13' }), 404, undefined, "'nope'");
      assertProblem(await t.request('GET', `${missing}/rs1`), 404, undefined, "'nope'");
      assertProblem(await t.request('PUT', `${missing}/rs1`, { address: '10.0.2.13' }), 404);
      assertProblem(await t.request('DELETE', `${missing}/rs1`), 404);
      assert.equal(t.store.count('real-servers'), 2);
    } finally {
      await t.close();
    }
  });

  test('schema violations are 400 naming the field', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const post = (body: unknown) => t.request('POST', url, body);
      assertProblem(await post({ address: '10.0.2.999' }), 400, '/body/address');
      assertProblem(await post({ address: '10.0.2.13', port: 70000 }), 400, '/body/port');
      assertProblem(await post({ address: '10.0.2.13', weight: 65536 }), 400, '/body/weight');
      assertProblem(await post({ address: '10.0.2.13', weight: -1 }), 400, '/body/weight');
      assertProblem(await post({ port: 80 }), 400, '/body/address', 'is required');
    } finally {
      await t.close();
    }
  });

  test('configuration errors: unreachable address, duplicates; a NIC change that strands a server', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const post = (body: unknown) => t.request('POST', url, body);
      assertProblem(await post({ address: '192.168.7.7' }), 422, '/body/address', '192.168.7.7', 'not reachable');
      assertProblem(await post({ name: 'rs1', address: '10.0.2.13' }), 409, '/body/name', "'rs1' already exists");
      assertProblem(await post({ name: 'rs9', address: '10.0.2.11' }), 409, '/body/address', '10.0.2.11:80', "'rs1'");
      assert.equal((await post({ name: 'rs9', address: '10.0.2.11', port: 81 })).statusCode, 201);
      // Another service may use the same address and port.
      assert.equal((await t.request('POST', '/api/v1/virtual-services', { ...service, name: 'alt', port: 81 })).statusCode, 201);
      assert.equal((await t.request('POST', '/api/v1/virtual-services/alt/real-servers', { address: '10.0.2.11', port: 80 })).statusCode, 201);
      assertProblem(
        await t.request('PUT', '/api/v1/nics/server', { device: 'net_af_packet1,iface=s0', networks: ['10.0.3.0/24'] }),
        409, '/body/networks', '10.0.2.11', 'no longer be reachable',
      );
      // A gateway makes everything reachable.
      assert.equal((await post({ name: 'far', address: '192.168.7.7' })).statusCode, 422);
      assert.equal((await t.request('PATCH', '/api/v1/nics/server', { gateway: '10.0.2.1' })).statusCode, 200);
      assert.equal((await post({ name: 'far', address: '192.168.7.7' })).statusCode, 201);
    } finally {
      await t.close();
    }
  });
});
