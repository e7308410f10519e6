// No NIC may take over the interface an operator reaches the machine through: an appliance in
// a namespace whose default route leaves by `mgmt0` refuses a NIC on it (422, nothing opened)
// and accepts one on a plain veth; with --allow-management-interface it accepts mgmt0 too.
// Needs root; fails under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAppliance, type Appliance } from './appliance.js';
import { ip, netnsAdd, netnsDelete, requireRoot } from './netns.js';

const skip = requireRoot();
const ns = `l4mgmt-${process.pid}`;
const mgmt = { name: 'nic-mgmt', device: 'net_af_packet0,iface=mgmt0', networks: ['198.18.0.0/24'] };
const data = { name: 'nic-data', device: 'net_af_packet1,iface=data0', networks: ['198.19.0.0/24'] };

describe('NICs and the management interface', { skip }, () => {
  let lb: Appliance | undefined;

  before(async () => {
    await netnsAdd(ns);
    for (const name of ['mgmt0', 'data0']) {
      await ip(['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`], ns);
      await ip(['link', 'set', name, 'up'], ns);
      await ip(['link', 'set', `${name}p`, 'up'], ns);
    }
    await ip(['addr', 'add', '198.18.0.2/24', 'dev', 'mgmt0'], ns);
    await ip(['route', 'add', 'default', 'via', '198.18.0.1', 'dev', 'mgmt0'], ns);
  });

  after(async () => {
    await lb?.stop();
    await netnsDelete(ns);
  });

  test('a NIC on the default route\'s interface is a 422 and opens nothing; another interface is taken', async () => {
    lb = await startAppliance(ns);
    const refused = await lb.api('POST', '/api/v1/nics', mgmt);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.errors[0].field, '/body/device');
    assert.match(refused.body.detail, /would take over mgmt0, a management interface \(it holds the default route\).*--allow-management-interface/);
    assert.equal((await lb.api('GET', '/api/v1/nics/nic-mgmt')).status, 404);
    const taken = await lb.api('POST', '/api/v1/nics', data);
    assert.equal(taken.status, 201, JSON.stringify(taken.body));
    assert.equal(taken.body.status.link, 'up');
  });

  test('--allow-management-interface lets a NIC take it', async () => {
    await lb?.stop();
    lb = await startAppliance(ns, ['--allow-management-interface']);
    const taken = await lb.api('POST', '/api/v1/nics', mgmt);
    assert.equal(taken.status, 201, JSON.stringify(taken.body));
  });
});
