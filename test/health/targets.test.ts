// Which targets the configuration makes: every NIC that reaches a server (with a probe
// address), the data plane's egress first, PROXY headers only on the service's transport.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthTargets, serviceTargets, TargetContext, type HealthTarget } from '../../engine/health/targets.js';
import { nicsReaching } from '../../store/reach.js';
import { openDb } from '../../store/db.js';
import { Store } from '../../store/store.js';

test('NICs reaching an address are ranked as the data plane picks its next hop', () => {
  const reach = nicsReaching(
    [
      { name: 'uplink', networks: ['192.0.2.0/24'], gateway: '192.0.2.1' },
      { name: 'servers', networks: ['10.0.2.0/24'] },
      { name: 'backup', networks: ['198.51.100.0/24'], gateway: '198.51.100.1' },
    ],
    [{ prefix: '10.0.0.0/8', nic: 'backup' }],
  );
  assert.deepEqual(reach('10.0.2.11'), ['servers', 'backup', 'uplink']);
  assert.deepEqual(reach('10.9.0.1'), ['backup', 'uplink']);
  assert.deepEqual(reach('203.0.113.5'), ['uplink', 'backup']);
});

test('an address is reached only through networks, routes and gateways of its family', () => {
  const reach = nicsReaching(
    [
      { name: 'uplink', networks: ['192.0.2.0/24'], gateway: '192.0.2.1' },
      { name: 'servers', networks: ['10.0.2.0/24', '2001:db8:2::/64'] },
      { name: 'uplink6', networks: ['2001:db8:f::/64'], gateway: '2001:db8:f::1' },
    ],
    [{ prefix: '2001:db8:9::/48', nic: 'servers' }],
  );
  assert.deepEqual(reach('10.0.2.11'), ['servers', 'uplink']);
  assert.deepEqual(reach('2001:db8:2::11'), ['servers', 'uplink6']);
  assert.deepEqual(reach('2001:db8:9::1'), ['servers', 'uplink6']);
  assert.deepEqual(reach('2001:db8:77::1'), ['uplink6']);
  // The same number in the other family: ::a00:20b is not 10.0.2.11.
  assert.deepEqual(reach('::a00:20b'), ['uplink6']);
});

test('a server is probed from the probe address of its family on every NIC that reaches it', () => {
  const s = new Store(openDb(':memory:'));
  s.write((tx) => {
    tx.put('nics', '', 'dual', { device: 'net_af_packet0,iface=dp0', networks: ['10.0.2.0/24', '2001:db8:2::/64'], probeAddress: '10.0.2.2/24', probeAddress6: '2001:db8:2::2/64', mtu: 1500 });
    tx.put('nics', '', 'four', { device: 'net_af_packet1,iface=dp1', networks: ['10.0.2.0/24', '2001:db8:2::/64'], probeAddress: '10.0.2.3/24', mtu: 1500 });
    tx.put('nics', '', 'six', { device: 'net_af_packet2,iface=dp2', networks: ['2001:db8:2::/64'], probeAddress6: '2001:db8:2::3/64', mtu: 1500 });
    tx.put('local-address-pools', '', 'lips6', { nic: 'dual', addresses: ['2001:db8:2::100'], portRange: { min: 1024, max: 65535 } });
    tx.put('local-address-pools', '', 'lips4', { nic: 'dual', addresses: ['10.0.2.100'], portRange: { min: 1024, max: 65535 } });
    tx.put('health-checks', '', 'web', { type: 'tcp', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 });
    const service = { port: 80, protocol: 'tcp', nic: 'dual', scheduler: 'rr', timeouts: {}, sync: true, enabled: true, healthCheck: 'web', clientAddress: 'none' };
    tx.put('virtual-services', '', 'web6', { ...service, address: '2001:db8:2::10', localAddressPool: 'lips6' });
    tx.put('virtual-services', '', 'nat64', { ...service, address: '2001:db8:2::10', port: 81, localAddressPool: 'lips4' });
    tx.put('real-servers', 'web6', 'rs1', { address: '2001:db8:2::11', port: 80, weight: 1, enabled: true });
    tx.put('real-servers', 'nat64', 'rs1', { address: '10.0.2.11', port: 80, weight: 1, enabled: true });
  });
  const targets = allTargets(s);
  assert.deepEqual(
    targets.map((t) => [t.service, t.nic, t.egress, t.endpoint.source]),
    [
      ['web6', 'dual', true, '2001:db8:2::2'],
      ['web6', 'six', false, '2001:db8:2::3'],
      ['nat64', 'dual', true, '10.0.2.2'],
      ['nat64', 'four', false, '10.0.2.3'],
    ],
  );
  s.close();
});

function store(): Store {
  const s = new Store(openDb(':memory:'));
  s.write((tx) => {
    tx.put('nics', '', 'servers', { device: 'net_af_packet0,iface=dp0', networks: ['10.0.2.0/24'], probeAddress: '10.0.2.2/24', mtu: 1500 });
    tx.put('nics', '', 'uplink', { device: 'net_af_packet1,iface=dp1', networks: ['192.0.2.0/24'], gateway: '192.0.2.1', probeAddress: '192.0.2.2/24', mtu: 1500 });
    tx.put('nics', '', 'quiet', { device: 'net_af_packet2,iface=dp2', networks: ['10.0.2.0/23'], mtu: 1500 });
    tx.put('local-address-pools', '', 'lips', { nic: 'servers', addresses: ['10.0.2.100'], portRange: { min: 1024, max: 65535 } });
    tx.put('health-checks', '', 'web', { type: 'http', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3, http: { path: '/up' } });
    tx.put('health-checks', '', 'ping', { type: 'udp', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3, udp: { payload: 'ping' } });
    const service = { port: 80, protocol: 'tcp', nic: 'uplink', localAddressPool: 'lips', scheduler: 'rr', timeouts: {}, sync: true, enabled: true };
    tx.put('virtual-services', '', 'web', { ...service, address: '192.0.2.10', healthCheck: 'web', clientAddress: 'proxy-protocol-v2' });
    tx.put('virtual-services', '', 'plain', { ...service, address: '192.0.2.11', clientAddress: 'none' });
    tx.put('virtual-services', '', 'dns', { ...service, address: '192.0.2.12', port: 53, protocol: 'udp', healthCheck: 'ping', clientAddress: 'none' });
    tx.put('virtual-services', '', 'mixed', { ...service, address: '192.0.2.13', healthCheck: 'ping', clientAddress: 'proxy-protocol-v2' });
    for (const vs of ['web', 'plain', 'dns', 'mixed']) tx.put('real-servers', vs, 'rs1', { address: '10.0.2.11', port: 80, weight: 1, enabled: true });
    tx.put('real-servers', 'web', 'off', { address: '10.0.2.12', port: 80, weight: 1, enabled: false });
  });
  return s;
}

function allTargets(config: Store): HealthTarget[] {
  return [...healthTargets(config).values()].flatMap((t) => t.targets);
}

test('a checked server is probed through every NIC with a probe address that reaches it', () => {
  const targets = allTargets(store()).filter((t) => t.service === 'web');
  assert.deepEqual(targets.map((t) => [t.server, t.nic, t.egress]), [['rs1', 'servers', true], ['rs1', 'uplink', false]]);
  const [first] = targets;
  assert.equal(first.endpoint.source, '10.0.2.2');
  assert.equal(first.endpoint.address, '10.0.2.11');
  assert.deepEqual(first.http, { path: '/up', host: undefined, expectStatus: [200], expectBody: undefined });
  assert.equal(first.intervalMs, 1000);
  assert.equal(first.fall, 3);
});

test('services without a check and disabled servers are not probed', () => {
  const targets = allTargets(store());
  assert.ok(!targets.some((t) => t.service === 'plain'));
  assert.ok(!targets.some((t) => t.server === 'off'));
});

test('a PROXY header goes with checks on the service\'s own transport only', () => {
  const targets = allTargets(store());
  assert.equal(targets.find((t) => t.service === 'web')!.endpoint.header?.readUInt8(12), 0x20);
  assert.equal(targets.find((t) => t.service === 'mixed')!.endpoint.header, undefined);
  const dns = targets.find((t) => t.service === 'dns')!;
  assert.equal(dns.endpoint.header, undefined);
  assert.deepEqual(dns.udp, { payload: 'ping', expect: undefined });
});

test('one service read alone has the targets and servers it has in the whole', () => {
  const config = store();
  const whole = healthTargets(config);
  const context = new TargetContext(config);
  for (const name of ['web', 'mixed', 'dns']) assert.deepEqual(serviceTargets(config, context, name), whole.get(name));
  assert.deepEqual([...whole.get('web')!.servers.keys()].sort(), ['off', 'rs1']);   // a disabled server is listed, unprobed
  assert.equal(serviceTargets(config, context, 'plain'), undefined);
  assert.equal(serviceTargets(config, context, 'gone'), undefined);
});
