// What the DPDK engine sends the data plane after a commit: only the services a commit of
// services and real servers touched (a real server touches its service), the whole
// configuration after anything else; health transitions name the services they change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DesiredConfig } from '../../engine/dataplane/desired-config.js';
import type { Change } from '../../store/store.js';
import { seed, testApp, type TestApp } from '../helpers.js';

const put = (kind: Change['kind'], scope: string, name: string): Change => ({ kind, scope, name, op: 'put' });

/** The fixture configuration in a store, and a DesiredConfig loaded from it. */
async function loaded(): Promise<{ t: TestApp; desired: DesiredConfig }> {
  const t = await testApp();
  await seed(t);
  const desired = new DesiredConfig();
  desired.load(t.store);
  return { t, desired };
}

test('a real-server write touches its service only; a NIC write is structural; undo restores', async () => {
  const { t, desired } = await loaded();
  try {
    assert.deepEqual(desired.service('web')!.realServers.map((r) => [r.name, r.weight]), [['rs1', 1], ['rs2', 2]]);

    t.store.write((tx) => tx.put('real-servers', 'web', 'rs1', { ...tx.get('real-servers', 'web', 'rs1')!.spec, weight: 7 }));
    const touched = desired.update([put('real-servers', 'web', 'rs1')], t.store);
    assert.equal(touched.structural, false);
    assert.deepEqual([...touched.services], ['web']);
    // A replaced server keeps its place: the scheduler's order does not move.
    assert.deepEqual(desired.service('web')!.realServers.map((r) => [r.name, r.weight]), [['rs1', 7], ['rs2', 2]]);
    desired.restore(touched.undo);
    assert.deepEqual(desired.service('web')!.realServers.map((r) => r.weight), [1, 2]);

    assert.equal(desired.update([put('nics', '', 'client')], t.store).structural, true);

    t.store.write((tx) => tx.delete('virtual-services', '', 'web'));
    const gone = desired.update([{ kind: 'real-servers', scope: 'web', name: 'rs1', op: 'delete' }, { kind: 'real-servers', scope: 'web', name: 'rs2', op: 'delete' }, { kind: 'virtual-services', scope: '', name: 'web', op: 'delete' }], t.store);
    assert.deepEqual([...gone.services], ['web']);
    assert.equal(desired.service('web'), undefined);
    assert.deepEqual(desired.toNative(9).services, []);
  } finally {
    await t.close();
  }
});

test('health: a server down goes unhealthy with its weight kept, and setHealth names the services that changed', async () => {
  const { t, desired } = await loaded();
  const health = (servers: { weight: number; healthy: boolean }[]) => servers.map((r) => [r.weight, r.healthy]);
  try {
    assert.deepEqual([...desired.setHealth(new Map([['web', new Set(['rs2'])]]))], ['web']);
    assert.deepEqual(health(desired.service('web')!.realServers), [[1, true], [2, false]]);
    assert.deepEqual(health(desired.toNative(1).services[0]!.realServers), [[1, true], [2, false]]);
    assert.deepEqual([...desired.setHealth(new Map([['web', new Set(['rs2'])]]))], [], 'the same overlay changes nothing');
    assert.deepEqual([...desired.setHealth(new Map())], ['web']);
    assert.deepEqual(health(desired.service('web')!.realServers), [[1, true], [2, true]]);
  } finally {
    await t.close();
  }
});

test('a service crosses to the data plane as stored: every spec field, under its API name', async () => {
  const { t, desired } = await loaded();
  try {
    const stored = t.store.get('virtual-services', '', 'web')!.spec;
    const { name, realServers, ...settings } = desired.service('web')!;
    assert.equal(name, 'web');
    assert.deepEqual(settings, stored);   // a field added to the contract needs no conversion line in TypeScript
    assert.equal(realServers.length, 2);
  } finally {
    await t.close();
  }
});

test('what BGP announces follows writes, health and deletes; node addresses follow NIC and pool writes', async () => {
  const { t, desired } = await loaded();
  try {
    assert.deepEqual(desired.vips(), [{ address: '10.0.1.10', up: true }]);
    assert.deepEqual(desired.localAddresses(), ['10.0.2.100', '10.0.2.101']);
    assert.deepEqual([...desired.probeAddresses()], [['client', { 4: '10.0.1.2' }], ['server', { 4: '10.0.2.2' }]]);

    desired.setHealth(new Map([['web', new Set(['rs1'])]]));
    assert.deepEqual(desired.vips(), [{ address: '10.0.1.10', up: true }], 'rs2 still takes sessions');
    desired.setHealth(new Map([['web', new Set(['rs1', 'rs2'])]]));
    assert.deepEqual(desired.vips(), [{ address: '10.0.1.10', up: false }], 'no server up');
    desired.setHealth(new Map());

    t.store.write((tx) => tx.put('real-servers', 'web', 'rs2', { ...tx.get('real-servers', 'web', 'rs2')!.spec, weight: 0 }));
    desired.update([put('real-servers', 'web', 'rs2')], t.store);
    t.store.write((tx) => tx.put('real-servers', 'web', 'rs1', { ...tx.get('real-servers', 'web', 'rs1')!.spec, enabled: false }));
    const touched = desired.update([put('real-servers', 'web', 'rs1')], t.store);
    assert.deepEqual(desired.vips(), [{ address: '10.0.1.10', up: false }], 'one drained, one disabled');
    desired.restore(touched.undo);
    assert.deepEqual(desired.vips(), [{ address: '10.0.1.10', up: true }], 'rs1 enabled again by the undo');

    t.store.write((tx) => tx.put('local-address-pools', '', 'lips', { ...tx.get('local-address-pools', '', 'lips')!.spec, addresses: ['10.0.2.102'] }));
    desired.update([put('local-address-pools', '', 'lips')], t.store);
    assert.deepEqual(desired.localAddresses(), ['10.0.2.102']);

    t.store.write((tx) => {
      const server = tx.get('nics', '', 'server')!.spec;
      tx.put('nics', '', 'server', { ...server, networks: [...server.networks, '2001:db8:2::/64'], probeAddress6: '2001:db8:2::2/64' });
    });
    desired.update([put('nics', '', 'server')], t.store);
    assert.deepEqual(desired.probeAddresses().get('server'), { 4: '10.0.2.2', 6: '2001:db8:2::2' });

    t.store.write((tx) => {
      tx.delete('real-servers', 'web', 'rs1');
      tx.delete('real-servers', 'web', 'rs2');
      tx.delete('virtual-services', '', 'web');
    });
    desired.update([{ kind: 'real-servers', scope: 'web', name: 'rs1', op: 'delete' }, { kind: 'real-servers', scope: 'web', name: 'rs2', op: 'delete' }, { kind: 'virtual-services', scope: '', name: 'web', op: 'delete' }], t.store);
    assert.deepEqual(desired.vips(), []);
  } finally {
    await t.close();
  }
});
