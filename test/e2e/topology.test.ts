// Proves the end-to-end harness without any load balancer: the real servers answer, the LB
// namespaces are configured per DESIGN.md and stay deaf (the client's ARP for a VIP reaches
// lb1's veth and nobody answers it), and teardown leaves no namespace behind.
// Needs root; skipped with a reason otherwise, and failing (never skipping) under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nsSpawn, requireRoot, stopChild, tryRun, waitFor } from './netns.js';
import { echoRequest, startEcho, startNginx, type Server } from './servers.js';
import { buildTopology, hostInterface, lbInterfaces, namespacesWithPrefix, plan, type Topology } from './topology.js';

const skip = requireRoot();

describe('e2e topology harness', { skip }, () => {
  let topo: Topology | undefined;
  const servers: Server[] = [];

  before(async () => {
    topo = await buildTopology();
    for (const rs of ['rs1', 'rs2'] as const) {
      const address = plan.realServers[rs];
      servers.push(await startNginx(topo.ns[rs], address, { name: rs, bigBytes: 3 << 20 }));
      servers.push(await startEcho(topo.ns[rs], 'udp', address, 5353, `${rs} `));
      servers.push(await startEcho(topo.ns[rs], 'tcp', address, 7, `${rs} `));
    }
  });

  after(async () => {
    for (const s of servers) await s.stop();
    await topo?.destroy();
  });

  test('each real server answers on its own address with its name', async () => {
    const t = topo!;
    for (const rs of ['rs1', 'rs2'] as const) {
      const url = `http://${plan.realServers[rs]}/`;
      const { stdout } = await t.run(rs, 'curl', ['-sS', '--max-time', '3', url]);
      assert.equal(stdout, `${rs}\n`);
      const big = await t.run(rs, 'curl', ['-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', `${url}big`]);
      assert.equal(big.stdout, `200 ${3 << 20}`);
      assert.equal(await echoRequest(t.ns[rs], 'udp', plan.realServers[rs], 5353, 'ping'), `${rs} ping`);
      assert.equal(await echoRequest(t.ns[rs], 'tcp', plan.realServers[rs], 7, 'hello'), `${rs} hello`);
    }
    // The server-side bridge carries traffic between hosts: rs1 reaches rs2 on-link and rs2
    // sees rs1's own address as the source (no NAT anywhere without an LB).
    const { stdout } = await t.run('rs1', 'curl', ['-sS', '--max-time', '3', `http://${plan.realServers.rs2}/ip`]);
    assert.match(stdout, new RegExp(`^${plan.realServers.rs1.replace(/\./g, '\\.')}:\\d+\\n$`));
  });

  test('the LB namespaces follow the DESIGN facts', async () => {
    const t = topo!;
    for (const lb of ['lb1', 'lb2'] as const) {
      assert.equal((await t.run(lb, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim(), '0');
      assert.equal((await t.run(lb, 'sysctl', ['-n', 'net.ipv6.conf.all.disable_ipv6'])).stdout.trim(), '1');
      const ruleset = (await t.run(lb, 'nft', ['list', 'ruleset'])).stdout;
      for (const ifc of Object.values(lbInterfaces)) {
        const addrs = JSON.parse((await t.run(lb, 'ip', ['-j', 'addr', 'show', 'dev', ifc])).stdout) as { addr_info: unknown[] }[];
        assert.deepEqual(addrs[0]!.addr_info, [], `${lb} ${ifc} must have no address`);
        assert.match((await t.run(lb, 'ethtool', ['-k', ifc])).stdout, /^tx-checksumming: off/m);
        assert.match(ruleset, new RegExp(`hook ingress device "?${ifc}"? priority [^;]+; policy drop;`));
      }
    }
    assert.match((await t.run('client', 'ethtool', ['-k', hostInterface])).stdout, /^tx-checksumming: off/m);
  });

  test('without an LB the client reaches nothing, and lb1 sees its ARP but never answers', async () => {
    const t = topo!;
    const vip = plan.vips[0];
    const lbMac = await t.mac('lb1', lbInterfaces.client);

    // -e prints link-level addresses, so a frame sent by lb1 would show its MAC as the source.
    const capture = nsSpawn(t.ns.lb1, 'tcpdump', ['-i', lbInterfaces.client, '-n', '-e', '-l', '--immediate-mode', 'arp']);
    let out = '';
    let err = '';
    capture.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    capture.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await waitFor('tcpdump to listen', async () => {
        if (capture.exitCode !== null) throw new Error(`tcpdump exited: ${err}`);
        return err.includes('listening on');
      });

      // The VIP is on the client's link, so curl's connect starts with ARP, which goes unanswered.
      const curl = await tryRun('ip', ['netns', 'exec', t.ns.client, 'curl', '-sS', '--max-time', '3', `http://${vip}/`], { timeoutMs: 8000 });
      assert.equal(curl.ok, false, 'curl to the VIP must fail while no LB runs');
      // The server network is not on the client's link and there is no route to it.
      const direct = await tryRun('ip', ['netns', 'exec', t.ns.client, 'curl', '-sS', '--max-time', '2', `http://${plan.realServers.rs1}/`], { timeoutMs: 6000 });
      assert.equal(direct.ok, false, 'the client must not reach a real server directly');

      const requests = new RegExp(`Request who-has ${vip.replace(/\./g, '\\.')} tell ${plan.clientAddress.replace(/\./g, '\\.')}`);
      await waitFor('the client ARP requests in the capture', async () => requests.test(out), 20);
    } finally {
      await stopChild(capture, 'SIGTERM');
    }
    const lines = out.split('\n').filter(Boolean);
    assert.ok(lines.some((l) => l.includes(`who-has ${vip} tell ${plan.clientAddress}`)), `no ARP request seen:\n${out}`);
    assert.deepEqual(lines.filter((l) => /Reply/.test(l)), [], 'nobody may answer ARP for the VIP');
    assert.deepEqual(lines.filter((l) => l.startsWith(lbMac)), [], "lb1's kernel must send nothing");
  });

  test('teardown removes every namespace it made', async () => {
    const t = topo!;
    assert.equal((await namespacesWithPrefix(t.prefix)).length, 6);
    for (const s of servers.splice(0)) await s.stop();
    await t.destroy();
    assert.deepEqual(await namespacesWithPrefix(t.prefix), []);
    await t.destroy(); // idempotent: the after hook may call it again
  });
});
