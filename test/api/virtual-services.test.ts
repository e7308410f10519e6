import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, realServers, seed, service, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const url = '/api/v1/virtual-services';
const unnamed = { address: '10.0.1.20', port: 443, protocol: 'tcp', nic: 'client', localAddressPool: 'lips' };

describe('virtual-services', () => {
  test('create with the default name and defaults, read, list, replace, patch and delete', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const created = await t.request('POST', url, unnamed);
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers.location, `${url}/10.0.1.20-443-tcp`);
      const body = json(created);
      assert.equal(body.name, '10.0.1.20-443-tcp');
      assert.equal(body.scheduler, 'wlc');
      assert.equal(body.clientAddress, 'none');
      assert.equal(body.sync, true);
      assert.equal(body.enabled, true);
      assert.deepEqual(body.timeouts, { tcpSynRecv: 30, tcpEstablished: 90, tcpFinWait: 7, tcpTimeWait: 7, tcpClose: 3, udp: 300 });
      assert.equal(body.healthCheck, undefined);

      assert.equal((await t.request('GET', `${url}/10.0.1.20-443-tcp`)).statusCode, 200);
      assert.deepEqual(json(await t.request('GET', url)).items.map((s: { name: string }) => s.name), ['10.0.1.20-443-tcp', 'web']);
      const replaced = await t.request('PUT', `${url}/10.0.1.20-443-tcp`, { ...unnamed, scheduler: 'mh', clientAddress: 'toa' });
      assert.equal(replaced.statusCode, 200);
      assert.equal(json(replaced).scheduler, 'mh');
      const patched = await t.request('PATCH', `${url}/10.0.1.20-443-tcp`, { enabled: false, timeouts: { udp: 30 } });
      assert.equal(patched.statusCode, 200);
      assert.equal(json(patched).enabled, false);
      assert.deepEqual(json(patched).timeouts, { tcpSynRecv: 30, tcpEstablished: 90, tcpFinWait: 7, tcpTimeWait: 7, tcpClose: 3, udp: 30 });
      const putCreated = await t.request('PUT', `${url}/dns`, { ...unnamed, port: 53, protocol: 'udp' });
      assert.equal(putCreated.statusCode, 201);
      assert.equal(putCreated.headers.location, `${url}/dns`);
      assert.equal((await t.request('DELETE', `${url}/dns`)).statusCode, 204);
      assertProblem(await t.request('GET', `${url}/dns`), 404);
    } finally {
      await t.close();
    }
  });

  test('schema violations are 400 naming the field', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const post = (body: unknown) => t.request('POST', url, body);
      assertProblem(await post({ ...unnamed, address: '10.0.1' }), 400, '/body/address');
      assertProblem(await post({ ...unnamed, port: 0 }), 400, '/body/port');
      assertProblem(await post({ ...unnamed, port: 65536 }), 400, '/body/port');
      assertProblem(await post({ ...unnamed, protocol: 'sctp' }), 400, '/body/protocol', 'must be one of tcp, udp');
      assertProblem(await post({ ...unnamed, scheduler: 'random' }), 400, '/body/scheduler');
      assertProblem(await post({ ...unnamed, clientAddress: 'xff' }), 400, '/body/clientAddress');
      assertProblem(await post({ ...unnamed, timeouts: { tcpEstablished: 0 } }), 400, '/body/timeouts/tcpEstablished');
      assertProblem(await post({ ...unnamed, localAddressPool: undefined }), 400, '/body/localAddressPool', 'is required');
      assert.equal(t.store.count('virtual-services'), 1);
    } finally {
      await t.close();
    }
  });

  test('configuration errors: missing references, duplicates, a VIP that is a pool address, client address on udp', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const post = (body: unknown) => t.request('POST', url, body);
      assertProblem(await post({ ...unnamed, nic: 'ghost' }), 422, '/body/nic', "no NIC named 'ghost'");
      assertProblem(await post({ ...unnamed, localAddressPool: 'ghost' }), 422, '/body/localAddressPool', "no local address pool named 'ghost'");
      assertProblem(await post({ ...unnamed, healthCheck: 'ghost' }), 422, '/body/healthCheck', "no health check named 'ghost'");
      assertProblem(await post(service), 409, '/body/name', "'web' already exists");
      assertProblem(await post({ ...service, name: 'web2' }), 409, '/body/address', '10.0.1.10:80/tcp', "'web'");
      assertProblem(await post({ ...unnamed, address: '10.0.2.100' }), 409, '/body/address', '10.0.2.100', "pool 'lips'");
      for (const clientAddress of ['toa', 'proxy-protocol-v1']) {
        assertProblem(await post({ ...unnamed, protocol: 'udp', clientAddress }), 422, '/body/clientAddress', clientAddress, 'udp');
      }
      const udp = await post({ ...service, name: undefined, protocol: 'udp', clientAddress: 'proxy-protocol-v2' });
      assert.equal(udp.statusCode, 201, udp.body);
      assert.equal(json(udp).name, '10.0.1.10-80-udp');
    } finally {
      await t.close();
    }
  });

  test('deleting a virtual service takes its real servers with it', async () => {
    const t = await testApp();
    try {
      await seed(t);
      assert.equal(t.store.count('real-servers'), realServers.length);
      assert.equal((await t.request('DELETE', `${url}/web`)).statusCode, 204);
      assert.equal(t.store.count('real-servers'), 0);
      assertProblem(await t.request('GET', `${url}/web/real-servers`), 404, undefined, "virtual service named 'web'");
      assert.equal((await t.request('POST', url, service)).statusCode, 201);
      assert.deepEqual(json(await t.request('GET', `${url}/web/real-servers`)).items, []);
    } finally {
      await t.close();
    }
  });
});
