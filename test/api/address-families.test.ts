// The whole-configuration rules per address family (store/families.ts, store/rules.ts): a
// gateway, next hop or probe address in a network of its family; a pool of one family; an IPv4
// VIP only with an IPv4 pool, an IPv6 VIP with either (FullNAT or NAT64); real servers of their
// pool's family, reached through networks, routes and gateways of their family; no
// IPv4-mapped addresses. Each refusal names the field and the families it found.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seed, testApp, type TestApp } from '../helpers.js';
import { assertProblem } from './problem.js';

/** The fixture plus IPv6 networks on both NICs and an IPv6 pool `lips6`. */
async function within(body: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await testApp();
  try {
    await seed(t);
    await expectOk(t, 'PATCH', '/api/v1/nics/client', { networks: ['10.0.1.0/24', '2001:db8:1::/64'] });
    await expectOk(t, 'PATCH', '/api/v1/nics/server', { networks: ['10.0.2.0/24', '2001:db8:2::/64'] });
    await expectOk(t, 'POST', '/api/v1/local-address-pools', { name: 'lips6', nic: 'server', addresses: ['2001:db8:2::100'] });
    await body(t);
  } finally {
    await t.close();
  }
}

async function expectOk(t: TestApp, method: string, url: string, body: unknown): Promise<void> {
  const r = await t.request(method, url, body);
  assert.ok(r.statusCode >= 200 && r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
}

const vs = (over: Record<string, unknown>) => ({ port: 80, protocol: 'tcp', nic: 'client', ...over });
const services = '/api/v1/virtual-services';

describe('address families', () => {
  test('a NIC may mix families; its gateway lies in a network of its own family; its probe address is IPv4', () =>
    within(async (t) => {
      await expectOk(t, 'PATCH', '/api/v1/nics/server', { gateway: '2001:db8:2::1' });
      await expectOk(t, 'PATCH', '/api/v1/nics/server', { gateway: '10.0.2.1' });
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { gateway: '2001:db8:3::1' }), 422, '/body/gateway', "not in any of the NIC's IPv6 networks");
      assertProblem(await t.request('PATCH', '/api/v1/nics/client', { networks: ['10.0.1.0/24'], gateway: '2001:db8:1::1' }), 422, '/body/gateway', 'IPv6 networks');
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { probeAddress: '2001:db8:2::2/64' }), 400, '/body/probeAddress');
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { networks: ['10.0.2.0/24', '2001:db8:2::1/64'] }), 422, '/body/networks/1', 'host bits', '2001:db8:2::/64');
    }));

  test("a route's next hop is of its prefix's family, in the NIC's networks of that family", () =>
    within(async (t) => {
      await expectOk(t, 'POST', '/api/v1/routes', { name: 'far6', prefix: '2001:db8:9::/48', via: '2001:db8:2::1', nic: 'server' });
      assertProblem(await t.request('POST', '/api/v1/routes', { name: 'r', prefix: '2001:db8:8::/48', via: '10.0.2.1', nic: 'server' }), 422, '/body/via', 'next hop 10.0.2.1 is IPv4', 'prefix 2001:db8:8::/48 is IPv6');
      assertProblem(await t.request('POST', '/api/v1/routes', { name: 'r', prefix: '10.8.0.0/16', via: '2001:db8:2::1', nic: 'server' }), 422, '/body/via', 'is IPv6', 'is IPv4');
      assertProblem(await t.request('POST', '/api/v1/routes', { name: 'r', prefix: '2001:db8:8::/48', via: '2001:db8:3::1', nic: 'server' }), 422, '/body/via', "NIC 'server''s IPv6 networks");
      assertProblem(await t.request('POST', '/api/v1/routes', { name: 'r', prefix: '2001:db8:8::1/48', via: '2001:db8:2::1', nic: 'server' }), 422, '/body/prefix', 'host bits');
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { networks: ['10.0.2.0/24'] }), 409, '/body/networks', "route 'far6'");
    }));

  test("a pool's addresses are all of one family", () =>
    within(async (t) => {
      assertProblem(
        await t.request('POST', '/api/v1/local-address-pools', { name: 'mixed', nic: 'server', addresses: ['10.0.2.102', '2001:db8:2::102'] }),
        422, '/body/addresses', 'IPv4 (10.0.2.102)', 'IPv6 (2001:db8:2::102)', 'one family',
      );
    }));

  test('an IPv4 VIP needs an IPv4 pool; an IPv6 VIP takes an IPv6 pool (FullNAT) or an IPv4 one (NAT64)', () =>
    within(async (t) => {
      assertProblem(await t.request('POST', services, vs({ address: '10.0.1.30', localAddressPool: 'lips6' })), 422, '/body/localAddressPool', 'IPv4 address 10.0.1.30', "pool 'lips6' is IPv6");
      await expectOk(t, 'POST', services, vs({ name: 'full6', address: '2001:db8:1::10', localAddressPool: 'lips6' }));
      await expectOk(t, 'POST', `${services}/full6/real-servers`, { name: 'rs1', address: '2001:db8:2::11' });
      await expectOk(t, 'POST', services, vs({ name: 'nat64', address: '2001:db8:1::20', localAddressPool: 'lips' }));
      await expectOk(t, 'POST', `${services}/nat64/real-servers`, { name: 'rs1', address: '10.0.2.11' });
    }));

  test("real servers are of their pool's family, whichever of them changes", () =>
    within(async (t) => {
      await expectOk(t, 'POST', services, vs({ name: 'nat64', address: '2001:db8:1::20', localAddressPool: 'lips' }));
      await expectOk(t, 'POST', `${services}/nat64/real-servers`, { name: 'rs1', address: '10.0.2.11' });
      assertProblem(await t.request('POST', `${services}/nat64/real-servers`, { address: '2001:db8:2::11' }), 422, '/body/address', '2001:db8:2::11 is IPv6', "pool 'lips', which is IPv4");
      assertProblem(await t.request('POST', `${services}/web/real-servers`, { address: '2001:db8:2::11' }), 422, '/body/address', 'is IPv6', 'which is IPv4');
      // The service moves to a pool of the other family under its IPv4 real servers.
      assertProblem(await t.request('PATCH', `${services}/nat64`, { localAddressPool: 'lips6' }), 409, '/body/localAddressPool', "real server 'rs1'", '(10.0.2.11) is IPv4', "'lips6' is IPv6");
      // The pool changes family under the services that use it.
      const toIPv6 = { addresses: ['2001:db8:2::101'] };
      assertProblem(await t.request('PATCH', '/api/v1/local-address-pools/lips', toIPv6), 409, '/body/addresses', "real server 'rs1' of virtual service 'nat64'", 'is IPv4', "'lips' is IPv6");
      await expectOk(t, 'DELETE', `${services}/nat64`, undefined);
      assertProblem(await t.request('PATCH', '/api/v1/local-address-pools/lips', toIPv6), 409, '/body/addresses', "virtual service 'web'", 'IPv4 address 10.0.1.10', 'is IPv6');
    }));

  test('a real server is reached only through networks, routes and gateways of its family', () =>
    within(async (t) => {
      await expectOk(t, 'POST', services, vs({ name: 'full6', address: '2001:db8:1::10', localAddressPool: 'lips6' }));
      const servers = `${services}/full6/real-servers`;
      // An IPv4 gateway reaches every IPv4 address, no IPv6 one.
      await expectOk(t, 'PATCH', '/api/v1/nics/server', { gateway: '10.0.2.1' });
      assertProblem(await t.request('POST', servers, { address: '2001:db8:7::11' }), 422, '/body/address', 'not reachable', 'of IPv6');
      await expectOk(t, 'POST', '/api/v1/routes', { name: 'far6', prefix: '2001:db8:7::/48', via: '2001:db8:2::1', nic: 'server' });
      await expectOk(t, 'POST', servers, { name: 'far', address: '2001:db8:7::11' });
      await expectOk(t, 'POST', servers, { name: 'near', address: '2001:db8:2::11' });
      assertProblem(await t.request('DELETE', '/api/v1/routes/far6'), 409, undefined, "real server 'far'", 'no longer be reachable');
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { networks: ['10.0.2.0/24'] }), 409, '/body/networks');
      // An IPv6 gateway reaches every IPv6 address.
      await expectOk(t, 'PATCH', '/api/v1/nics/server', { gateway: '2001:db8:2::1' });
      await expectOk(t, 'POST', servers, { name: 'anywhere', address: '2001:db8:abcd::11' });
    }));

  test('IPv4-mapped IPv6 addresses are refused wherever an object would hold one, naming the IPv4 form', () =>
    within(async (t) => {
      assertProblem(await t.request('POST', '/api/v1/local-address-pools', { name: 'm', nic: 'server', addresses: ['::ffff:10.0.2.102'] }), 422, '/body/addresses/0', 'IPv4-mapped', 'write 10.0.2.102 instead');
      assertProblem(await t.request('POST', services, vs({ address: '::ffff:10.0.1.30', localAddressPool: 'lips' })), 422, '/body/address', 'IPv4-mapped');
      assertProblem(await t.request('POST', `${services}/web/real-servers`, { address: '::FFFF:0A00:020B' }), 422, '/body/address', '::ffff:10.0.2.11 is an IPv4-mapped', 'write 10.0.2.11');
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { networks: ['10.0.2.0/24', '::ffff:10.0.0.0/104'] }), 422, '/body/networks/1', 'write 10.0.0.0/8');
      assertProblem(await t.request('POST', '/api/v1/routes', { name: 'r', prefix: '::ffff:10.9.0.0/112', via: '2001:db8:2::1', nic: 'server' }), 422, '/body/prefix', 'IPv4-mapped');
      // A prefix that only covers the mapped space is fine: an IPv6 default route.
      await expectOk(t, 'POST', '/api/v1/routes', { name: 'default6', prefix: '::/0', via: '2001:db8:2::1', nic: 'server' });
    }));
});
