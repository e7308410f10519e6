// The policy-routing commands for probe paths, with `ip` replaced by a recorder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeRouting, type ProbePath } from '../../engine/health/routing.js';

function recorder() {
  const commands: string[] = [];
  const errors: Error[] = [];
  const routing = new ProbeRouting(
    (err) => errors.push(err),
    async (args) => {
      commands.push(args.join(' '));
      // Nothing to delete: as on a clean host, `ip rule del` fails.
      const [object, verb] = args[0] === '-6' ? args.slice(1) : args;
      if (object === 'rule' && verb === 'del') throw new Error('RTNETLINK answers: No such file or directory');
    },
  );
  return { routing, commands, errors };
}

const server: ProbePath = {
  nic: 'server',
  family: 4,
  tap: 'l4t1-0',
  source: '10.0.2.2',
  networks: ['10.0.2.0/24'],
  routes: [{ prefix: '10.8.0.0/16', via: '10.0.2.1' }],
  gateway: '10.0.2.254',
};

test('a NIC gets a rule from its probe address to a table of routes through its tap', async () => {
  const { routing, commands, errors } = recorder();
  await routing.sync([server]);
  assert.deepEqual(commands, [
    'route flush table 4400',
    'rule del pref 100 from 10.0.2.2',
    'route replace 10.0.2.0/24 dev l4t1-0 src 10.0.2.2 table 4400',
    'route replace 10.8.0.0/16 via 10.0.2.1 dev l4t1-0 onlink table 4400',
    'route replace default via 10.0.2.254 dev l4t1-0 onlink table 4400',
    'rule add pref 100 from 10.0.2.2 lookup 4400',
  ]);
  assert.deepEqual(errors, []);
});

test('an IPv6 probe address gets its own table and rule, through `ip -6`, beside the IPv4 one', async () => {
  const { routing, commands, errors } = recorder();
  const server6: ProbePath = {
    nic: 'server',
    family: 6,
    tap: 'l4t1-0',
    source: '2001:db8:2::2',
    networks: ['2001:db8:2::/64'],
    routes: [{ prefix: '2001:db8:8::/48', via: '2001:db8:2::1' }],
    gateway: undefined,
  };
  await routing.sync([server, server6]);
  assert.deepEqual(commands.slice(6), [
    '-6 route flush table 4401',
    '-6 rule del pref 100 from 2001:db8:2::2',
    '-6 route replace 2001:db8:2::/64 dev l4t1-0 src 2001:db8:2::2 table 4401',
    '-6 route replace 2001:db8:8::/48 via 2001:db8:2::1 dev l4t1-0 onlink table 4401',
    '-6 rule add pref 100 from 2001:db8:2::2 lookup 4401',
  ]);
  commands.length = 0;
  await routing.sync([server]);
  assert.deepEqual(commands, ['-6 rule del pref 100 from 2001:db8:2::2 lookup 4401', '-6 route flush table 4401']);
  assert.deepEqual(errors, []);
});

test('an unchanged NIC runs nothing; a second NIC gets the next table; a gone one is removed', async () => {
  const { routing, commands } = recorder();
  await routing.sync([server]);
  commands.length = 0;
  await routing.sync([server]);
  assert.equal(commands.length, 0);
  const other: ProbePath = { nic: 'other', family: 4, tap: 'l4t1-1', source: '10.0.3.2', networks: ['10.0.3.0/24'], routes: [], gateway: undefined };
  await routing.sync([server, other]);
  assert.ok(commands.includes('rule add pref 100 from 10.0.3.2 lookup 4401'), commands.join('\n'));
  commands.length = 0;
  await routing.sync([other]);
  assert.deepEqual(commands, ['rule del pref 100 from 10.0.2.2 lookup 4400', 'route flush table 4400']);
  commands.length = 0;
  await routing.close();
  assert.deepEqual(commands, ['rule del pref 100 from 10.0.3.2 lookup 4401', 'route flush table 4401']);
});

test('a changed NIC gets its new table and rule before the old ones go', async () => {
  const { routing, commands } = recorder();
  await routing.sync([server]);
  commands.length = 0;
  await routing.sync([{ ...server, gateway: undefined }]);
  assert.deepEqual(commands, [
    'route flush table 4401',
    'route replace 10.0.2.0/24 dev l4t1-0 src 10.0.2.2 table 4401',
    'route replace 10.8.0.0/16 via 10.0.2.1 dev l4t1-0 onlink table 4401',
    'rule add pref 100 from 10.0.2.2 lookup 4401',
    'rule del pref 100 from 10.0.2.2 lookup 4400',
    'route flush table 4400',
  ]);
});

test('a failing command is reported and later steps still run', async () => {
  const errors: Error[] = [];
  const routing = new ProbeRouting(
    (err) => errors.push(err),
    async (args) => {
      if (args[0] === 'rule') throw new Error('ip rule: permission denied');
    },
  );
  await routing.sync([server]);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /permission denied/);
  await routing.sync([]);
  assert.equal(errors.length, 1);
});
