import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientNic, json, seed, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const extra = { name: 'extra', device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/24'] };

describe('nics', () => {
  test('create, read, list, replace, patch and delete', async () => {
    const t = await testApp();
    try {
      const created = await t.request('POST', '/api/v1/nics', extra);
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers.location, '/api/v1/nics/extra');
      const body = json(created);
      assert.equal(body.mtu, 1500);
      assert.deepEqual(body.networks, ['10.9.0.0/24']);
      assert.equal(created.headers.etag, `"${body.resourceVersion}"`);
      assert.equal(body.status.generation, body.resourceVersion);

      const read = await t.request('GET', '/api/v1/nics/extra');
      assert.equal(read.statusCode, 200);
      assert.deepEqual(json(read), body);

      const list = json(await t.request('GET', '/api/v1/nics'));
      assert.deepEqual(list.items.map((n: { name: string }) => n.name), ['extra']);
      assert.equal(list.nextCursor, undefined);

      const replaced = await t.request('PUT', '/api/v1/nics/extra', { device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/16'], gateway: '10.9.0.1' });
      assert.equal(replaced.statusCode, 200);
      assert.equal(replaced.headers.location, undefined);
      assert.deepEqual(json(replaced).networks, ['10.9.0.0/16']);
      assert.ok(json(replaced).resourceVersion > body.resourceVersion);

      const putCreated = await t.request('PUT', '/api/v1/nics/other', { device: 'net_af_packet1,iface=dp1', networks: ['10.8.0.0/24'] });
      assert.equal(putCreated.statusCode, 201);
      assert.equal(putCreated.headers.location, '/api/v1/nics/other');

      const patched = await t.request('PATCH', '/api/v1/nics/extra', { mtu: 9000 });
      assert.equal(patched.statusCode, 200);
      assert.equal(json(patched).mtu, 9000);
      assert.equal(json(patched).gateway, '10.9.0.1');

      assert.equal((await t.request('DELETE', '/api/v1/nics/extra')).statusCode, 204);
      assertProblem(await t.request('GET', '/api/v1/nics/extra'), 404, undefined, "'extra'");
      assertProblem(await t.request('DELETE', '/api/v1/nics/extra'), 404);
      assertProblem(await t.request('PATCH', '/api/v1/nics/extra', { mtu: 1400 }), 404);
    } finally {
      await t.close();
    }
  });

  test('schema violations are 400 naming the field', async () => {
    const t = await testApp();
    try {
      const post = (body: unknown) => t.request('POST', '/api/v1/nics', body);
      assertProblem(await post({ ...extra, networks: ['10.9.0.0/33'] }), 400, '/body/networks/0');
      assertProblem(await post({ ...extra, networks: ['10.9.0/24'] }), 400, '/body/networks/0');
      assertProblem(await post({ ...extra, networks: [] }), 400, '/body/networks');
      assertProblem(await post({ ...extra, gateway: '10.9.0.256' }), 400, '/body/gateway');
      assertProblem(await post({ ...extra, device: 'eth0' }), 400, '/body/device');
      assertProblem(await post({ ...extra, mtu: 100 }), 400, '/body/mtu');
      assertProblem(await post({ name: 'extra', networks: ['10.9.0.0/24'] }), 400, '/body/device', 'is required');
      assertProblem(await post({ ...extra, name: 'has space' }), 400, '/body/name');
      assertProblem(await post({ ...extra, name: '..' }), 400, '/body/name');
      assertProblem(await post({ device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/24'] }), 400, '/body/name', 'needs a name');
      assert.equal(t.store.count('nics'), 0);
    } finally {
      await t.close();
    }
  });

  test('configuration errors: duplicates, host bits, gateway and probe address outside the networks', async () => {
    const t = await testApp();
    try {
      const post = (body: unknown) => t.request('POST', '/api/v1/nics', body);
      assert.equal((await post(extra)).statusCode, 201);
      assertProblem(await post(extra), 409, '/body/name', "'extra' already exists");
      assertProblem(await post({ ...extra, name: 'twin' }), 409, '/body/device', "device 'net_af_packet0,iface=dp0'", "'extra'");
      const other = { name: 'other', device: 'net_af_packet1,iface=dp1', networks: ['10.8.0.0/24'] };
      assertProblem(await post({ ...other, networks: ['10.8.0.1/24'] }), 422, '/body/networks/0', '10.8.0.0/24');
      assertProblem(await post({ ...other, gateway: '10.7.0.1' }), 422, '/body/gateway', '10.7.0.1');
      assertProblem(await post({ ...other, probeAddress: '10.7.0.2/24' }), 422, '/body/probeAddress', '10.7.0.2/24');
      assert.equal((await post({ ...other, gateway: '10.8.0.1', probeAddress: '10.8.0.2/24' })).statusCode, 201);
    } finally {
      await t.close();
    }
  });

  test('deleting a referenced NIC is 409 naming the referrers', async () => {
    const t = await testApp();
    try {
      await seed(t);
      assertProblem(await t.request('DELETE', '/api/v1/nics/server'), 409, undefined, "NIC 'server'", 'local address pools lips');
      assertProblem(await t.request('DELETE', '/api/v1/nics/client'), 409, undefined, 'virtual services web');
      assert.equal((await t.request('GET', '/api/v1/nics/client')).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('a NIC a BGP neighbor peers over keeps its probe address and the neighbor in its networks', async () => {
    const t = await testApp();
    try {
      await t.request('POST', '/api/v1/nics', extra);
      await t.request('PATCH', '/api/v1/nics/extra', { probeAddress: '10.9.0.2/24' });
      const neighbors = [{ address: '10.9.0.254', asn: 65000, nic: 'extra' }];
      assert.equal((await t.request('PUT', '/api/v1/bgp', { enabled: true, asn: 65001, neighbors })).statusCode, 200);
      assertProblem(await t.request('DELETE', '/api/v1/nics/extra'), 409, undefined, 'BGP neighbors 10.9.0.254');
      assertProblem(await t.request('PATCH', '/api/v1/nics/extra', { probeAddress: null }), 409, '/body/probeAddress', 'BGP neighbor 10.9.0.254');
      assertProblem(await t.request('PATCH', '/api/v1/nics/extra', { networks: ['10.8.0.0/24'], probeAddress: '10.8.0.2/24' }), 409, '/body/networks');
      assertProblem(await t.request('PUT', '/api/v1/bgp', { enabled: true, asn: 65001, neighbors: [{ address: '10.7.0.1', asn: 65000, nic: 'extra' }] }), 422, '/body/neighbors/0/address', "none of NIC 'extra''s networks");
      assertProblem(await t.request('PUT', '/api/v1/bgp', { enabled: true, asn: 65001, neighbors: [{ address: '10.9.0.1', asn: 65000, nic: 'nope' }] }), 422, '/body/neighbors/0/nic');
    } finally {
      await t.close();
    }
  });

  test('changing networks so a real server or a route next hop is lost is 409', async () => {
    const t = await testApp();
    try {
      await seed(t);
      assertProblem(
        await t.request('PATCH', '/api/v1/nics/server', { networks: ['10.0.3.0/24'], probeAddress: null }),
        409, '/body/networks', "real server 'rs1'", "'web'",
      );
      assert.equal((await t.request('POST', '/api/v1/routes', { name: 'far', prefix: '10.60.0.0/16', via: '10.0.1.1', nic: 'client' })).statusCode, 201);
      assertProblem(
        await t.request('PATCH', '/api/v1/nics/client', { networks: ['10.0.5.0/24'], probeAddress: null }),
        409, '/body/networks', "route 'far'", '10.0.1.1',
      );
      assert.deepEqual(json(await t.request('GET', '/api/v1/nics/client')).networks, clientNic.networks);
    } finally {
      await t.close();
    }
  });

  test('a name that cannot be a path segment is refused in the path', async () => {
    const t = await testApp();
    try {
      assertProblem(await t.request('PUT', '/api/v1/nics/a%2Fb', { device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/24'] }), 400, '/params/name');
      assertProblem(await t.request('GET', '/api/v1/nics/..%2F..'), 400, '/params/name');
      assert.equal(t.store.count('nics'), 0);
    } finally {
      await t.close();
    }
  });
});
