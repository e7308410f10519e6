// IPv6 through the API: the contract takes addresses and prefixes of either family and refuses
// every malformed one (400 naming the field); what it takes is stored and returned canonical,
// so two spellings of one address are one address everywhere.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bodyAjv, openapiDocument } from '../../api/openapi.js';
import { parseAddress } from '../../store/ip.js';
import { json, seed, testApp, type TestApp } from '../helpers.js';
import { assertProblem } from './problem.js';

/** The fixture, with an IPv6 network beside each NIC's IPv4 one and an IPv6 pool. */
async function dualStack(): Promise<TestApp> {
  const t = await testApp();
  await seed(t);
  for (const [nic, networks] of [['client', ['10.0.1.0/24', '2001:db8:1::/64']], ['server', ['10.0.2.0/24', '2001:db8:2::/64']]] as const) {
    const r = await t.request('PATCH', `/api/v1/nics/${nic}`, { networks });
    assert.equal(r.statusCode, 200, r.body);
  }
  const r = await t.request('POST', '/api/v1/local-address-pools', { name: 'lips6', nic: 'server', addresses: ['2001:db8:2::100'] });
  assert.equal(r.statusCode, 201, r.body);
  return t;
}

async function within(body: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await dualStack();
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

const service6 = { address: '2001:db8:1::10', port: 80, protocol: 'tcp', nic: 'client', localAddressPool: 'lips6' };

describe('IPv6 in the contract', () => {
  test('malformed addresses are refused by the schema, naming the field', () =>
    within(async (t) => {
      const bad = ['1.2.3', '256.1.1.1', '01.2.3.4', '::g', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', ' ::1', '::1 ', ' 10.0.1.10', '10.0.1.10 ', '::1/128'];
      for (const address of bad) {
        assertProblem(await t.request('POST', '/api/v1/virtual-services', { ...service6, address }), 400, '/body/address');
        assertProblem(await t.request('POST', '/api/v1/virtual-services/web/real-servers', { address }), 400, '/body/address');
        assertProblem(await t.request('POST', '/api/v1/local-address-pools', { name: 'p', nic: 'server', addresses: [address] }), 400, '/body/addresses/0');
        assertProblem(await t.request('PATCH', '/api/v1/nics/server', { gateway: address }), 400, '/body/gateway');
      }
      assertProblem(await t.request('GET', '/api/v1/sessions?clientAddress=fe80::1%25eth0'), 400, '/query/clientAddress');
      // One sentence per field, not one per branch of the schema's anyOf.
      const r = await t.request('POST', '/api/v1/virtual-services/web/real-servers', { address: '10.0.2.300' });
      assert.deepEqual(JSON.parse(r.body).errors, [{ field: '/body/address', message: 'must be an IPv4 or IPv6 address' }]);
      const p = await t.request('POST', '/api/v1/routes', { prefix: '::/129', via: '2001:db8:2::1', nic: 'server' });
      assert.deepEqual(JSON.parse(p.body).errors.filter((e: { field: string }) => e.field === '/body/prefix'), [
        { field: '/body/prefix', message: 'must be an IPv4 or IPv6 prefix such as 10.0.0.0/24 or 2001:db8::/64' },
      ]);
    }));

  test('probeAddress6 is an IPv6 prefix in one of the NIC\'s networks, stored canonical', () =>
    within(async (t) => {
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { probeAddress6: '10.0.2.5/24' }), 400, '/body/probeAddress6');
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { probeAddress: '2001:db8:2::5/64' }), 400, '/body/probeAddress');
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { probeAddress6: '2001:db8:9::5/64' }), 422, '/body/probeAddress6', 'not in any');
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { probeAddress6: '::ffff:10.0.2.5/120' }), 422, '/body/probeAddress6', 'IPv4-mapped');
      const r = await t.request('PATCH', '/api/v1/nics/server', { probeAddress6: '2001:DB8:2:0::5/64' });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(json(r).probeAddress6, '2001:db8:2::5/64');
    }));

  test('prefix lengths stop at 32 for IPv4 and 128 for IPv6', () =>
    within(async (t) => {
      for (const prefix of ['::/129', '10.0.0.0/33', '2001:db8::/064', '2001:db8::', '10.0.0.0', '::g/64', '1::2::3/64', '2001:db8::/64 ', 'fe80::%eth0/64']) {
        assertProblem(await t.request('POST', '/api/v1/routes', { prefix, via: '2001:db8:2::1', nic: 'server' }), 400, '/body/prefix');
        assertProblem(await t.request('PATCH', '/api/v1/nics/server', { networks: [prefix] }), 400, '/body/networks/0');
      }
      for (const prefix of ['::/0', '2001:db8:9::/128', '::/128']) {
        const r = await t.request('PUT', '/api/v1/routes/r', { prefix, via: '2001:db8:2::1', nic: 'server' });
        assert.ok(r.statusCode === 200 || r.statusCode === 201, r.body);
      }
    }));

  test('BGP takes IPv6 neighbors (from probeAddress6) and covering prefixes, stored canonical; the router id stays IPv4', () =>
    within(async (t) => {
      const neighbor = { address: '2001:DB8:1::FE', asn: 65000, nic: 'client' };
      const bgp = { enabled: true, asn: 65001, neighbors: [neighbor], coveringPrefixes: ['2001:DB8:2:0::/64'] };
      assertProblem(await t.request('PUT', '/api/v1/bgp', { asn: 65001, routerId: '2001:db8::1' }), 400, '/body/routerId');
      assertProblem(await t.request('PUT', '/api/v1/bgp', bgp), 422, '/body/routerId', 'no neighbor is IPv4');
      assertProblem(await t.request('PUT', '/api/v1/bgp', { ...bgp, routerId: '192.0.2.1' }), 422, '/body/neighbors/0/nic', 'no probeAddress6');
      assert.equal((await t.request('PATCH', '/api/v1/nics/client', { probeAddress6: '2001:db8:1::2/64' })).statusCode, 200);
      const r = await t.request('PUT', '/api/v1/bgp', { ...bgp, routerId: '192.0.2.1' });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual([json(r).neighbors[0].address, json(r).coveringPrefixes], ['2001:db8:1::fe', ['2001:db8:2::/64']]);
      assertProblem(await t.request('PATCH', '/api/v1/nics/client', { probeAddress6: null }), 409, '/body/probeAddress6', 'BGP neighbor 2001:db8:1::fe');
      assertProblem(await t.request('PATCH', '/api/v1/bgp', { coveringPrefixes: ['2001:db8:2::1/64'] }), 422, '/body/coveringPrefixes/0', 'host bits');
    }));
});

test('the IPv6 prefix pattern, the ipv6 format and parseAddress agree on what an IPv6 address is', () => {
  const pattern = new RegExp(openapiDocument.components.schemas.IPv6CIDR!.pattern as string, 'u');
  const address = bodyAjv.getSchema('IPAddress')!;
  const isIPv6 = (text: string) => {
    try {
      return parseAddress(text).family === 6;
    } catch {
      return false;
    }
  };
  // Groups and junk joined by colons, sometimes with one `::` put in: near misses of every shape.
  const piece = fc.constantFrom('0', '1', 'ff', 'FFFF', '0000', '12345', '', 'g', '1.2.3.4', '256.1.1.1', '01.2.3.4', '%eth0');
  const text = fc.tuple(fc.array(piece, { maxLength: 10 }), fc.option(fc.nat()), fc.boolean())
    .map(([parts, at, trailing]) => {
      const joined = parts.join(':');
      const cut = at === null ? joined : `${joined.slice(0, at % (joined.length + 1))}::${joined.slice(at % (joined.length + 1))}`;
      return trailing ? `${cut}:` : cut;
    });
  fc.assert(fc.property(text, (t) => {
    const ipv6 = isIPv6(t);
    assert.equal(pattern.test(`${t}/64`), ipv6, `pattern on ${t}`);
    assert.equal(address(t) && t.includes(':'), ipv6, `format on ${t}`);
  }), { numRuns: 20000 });
});

describe('canonical addresses', () => {
  test('addresses and prefixes read back canonical, whatever spelling created them', () =>
    within(async (t) => {
      const nic = await t.request('PATCH', '/api/v1/nics/server', { networks: ['10.0.2.0/24', '2001:0DB8:2:0::/64'], gateway: '2001:DB8:2:0:0:0:0:FE' });
      assert.equal(nic.statusCode, 200, nic.body);
      assert.deepEqual([json(nic).networks, json(nic).gateway], [['10.0.2.0/24', '2001:db8:2::/64'], '2001:db8:2::fe']);
      const route = await t.request('POST', '/api/v1/routes', { name: 'far', prefix: '2001:DB8:9:0::/48', via: '2001:db8:2:0::1', nic: 'server' });
      assert.deepEqual([json(route).prefix, json(route).via], ['2001:db8:9::/48', '2001:db8:2::1']);
      const pool = await t.request('PUT', '/api/v1/local-address-pools/lips6', { nic: 'server', addresses: ['2001:0DB8:0002::0100', '2001:db8:2::101'] });
      assert.deepEqual(json(pool).addresses, ['2001:db8:2::100', '2001:db8:2::101']);
      const vs = await t.request('POST', '/api/v1/virtual-services', { ...service6, address: '2001:DB8:1:0::10' });
      assert.equal(vs.statusCode, 201, vs.body);
      assert.equal(json(vs).address, '2001:db8:1::10');
      const again = await t.request('GET', '/api/v1/virtual-services/2001-db8-1--10-80-tcp');
      assert.equal(json(again).address, '2001:db8:1::10');
    }));

  test('unnamed IPv6 services and servers are named from the canonical address, colons as dashes', () =>
    within(async (t) => {
      const vs = await t.request('POST', '/api/v1/virtual-services', { ...service6, address: '2001:DB8:1::10' });
      assert.equal(json(vs).name, '2001-db8-1--10-80-tcp');
      assert.equal(vs.headers.location, '/api/v1/virtual-services/2001-db8-1--10-80-tcp');
      const url = '/api/v1/virtual-services/2001-db8-1--10-80-tcp/real-servers';
      const rs = await t.request('POST', url, { address: '2001:0db8:2::0011' });
      assert.equal(rs.statusCode, 201, rs.body);
      assert.deepEqual([json(rs).name, json(rs).address], ['2001-db8-2--11-80', '2001:db8:2::11']);
      assert.equal((await t.request('GET', `${url}/2001-db8-2--11-80`)).statusCode, 200);
    }));

  test('two spellings of one address are one address: uniqueness and lists see through them', () =>
    within(async (t) => {
      assert.equal((await t.request('POST', '/api/v1/virtual-services', { ...service6, name: 'a' })).statusCode, 201);
      assertProblem(await t.request('POST', '/api/v1/virtual-services', { ...service6, name: 'b', address: '2001:DB8:1:0:0:0:0:10' }), 409, '/body/address', '[2001:db8:1::10]:80/tcp', "'a'");
      assert.equal((await t.request('POST', '/api/v1/virtual-services/a/real-servers', { name: 'rs1', address: '2001:db8:2::11' })).statusCode, 201);
      assertProblem(await t.request('POST', '/api/v1/virtual-services/a/real-servers', { name: 'rs2', address: '2001:DB8:2::0:11' }), 409, '/body/address', "'rs1'");
      assertProblem(await t.request('POST', '/api/v1/local-address-pools', { name: 'p2', nic: 'server', addresses: ['2001:DB8:2::100'] }), 409, '/body/addresses/0', "'lips6'");
      assertProblem(await t.request('PATCH', '/api/v1/nics/server', { networks: ['2001:db8:2::/64', '2001:DB8:2::/64'] }), 422, '/body/networks/1', 'listed twice');
      assertProblem(await t.request('PUT', '/api/v1/local-address-pools/lips6', { nic: 'server', addresses: ['2001:db8:2::100', '2001:db8:2:0::100'] }), 422, '/body/addresses/1', 'listed twice');
    }));
});
