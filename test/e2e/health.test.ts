// Health checks end to end: an appliance in lb1 probing nginx, UDP and TCP echo servers
// through its NICs' exception interfaces, taking a stopped server out of scheduling and
// bringing it back, and a cut line on one server-side NIC failing only the service behind it.
// Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addService, configureNetwork, servicePlan, startAppliance, type Appliance, type ServicePlan } from './appliance.js';
import { curl } from './clients.js';
import { ip, requireRoot, waitFor } from './netns.js';
import { echoRequest, startEcho, startNginx, type Server } from './servers.js';
import { buildTopology, plan, secondServerSide, type Topology } from './topology.js';

const skip = requireRoot();
const rs = plan.realServers;
const check = { intervalMs: 200, timeoutMs: 200, rise: 2, fall: 2 };

describe('health checks through each NIC (DPDK engine)', { skip }, () => {
  let topo: Topology;
  let lb: Appliance;
  let lbPlan: ServicePlan;
  const servers: Record<string, Server> = {};
  const nginxOf = (name: 'rs1' | 'rs2') => startNginx(topo.ns[name], rs[name], { name, proxyProtocolPort: 8080 });

  const healthOf = async (vs: string) => {
    const list = await lb.ok('GET', `/api/v1/virtual-services/${vs}/real-servers`);
    return Object.fromEntries(list.items.map((s: any) => [s.name, s.status.health]));
  };
  const waitState = (vs: string, server: string, nic: string, state: string) =>
    waitFor(`${vs}/${server} ${state} through NIC ${nic}`, async () => (await healthOf(vs))[server]?.[nic]?.state === state, 100, 100);
  const answers = async (n: number, url = `http://${plan.vips[0]}/`) => {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) seen.push((await curl(topo, url)).trim());
    return seen;
  };

  before(async () => {
    topo = await buildTopology({ secondServerNetwork: true });
    for (const name of ['rs1', 'rs2'] as const) {
      servers[name] = await nginxOf(name);
      servers[`${name}-udp`] = await startEcho(topo.ns[name], 'udp', rs[name], 5353, `${name} `);
    }
    servers.rs3 = await startEcho(topo.ns.rs3, 'tcp', secondServerSide.realServer, 7, 'rs3 ');
    lb = await startAppliance(topo.ns.lb1, ['--workers', '1']);
    lbPlan = servicePlan(topo, 'lb1', 0);
    await configureNetwork(lb, lbPlan);
    await lb.ok('PUT', '/api/v1/nics/server2', {
      device: `net_af_packet2,iface=${secondServerSide.lbInterface}`,
      networks: [secondServerSide.network],
      probeAddress: secondServerSide.probeAddress,
    });
    await lb.ok('PUT', '/api/v1/local-address-pools/lips2', { nic: 'server2', addresses: [secondServerSide.localAddress] });
    await lb.ok('PUT', '/api/v1/health-checks/http', { type: 'http', ...check, http: { path: '/', expectBody: 'rs' } });
    await lb.ok('PUT', '/api/v1/health-checks/udp', { type: 'udp', ...check, udp: { payload: 'ping', expect: 'ping' } });
    await lb.ok('PUT', '/api/v1/health-checks/tcp', { type: 'tcp', ...check });
    await addService(lb, lbPlan, 'web', 80, 'tcp', 'rr', { rs1: { address: rs.rs1 }, rs2: { address: rs.rs2 } });
    await lb.ok('PATCH', '/api/v1/virtual-services/web', { healthCheck: 'http' });
  });

  after(async () => {
    if (lb) await lb.stop();
    for (const s of Object.values(servers)) await s.stop();
    await topo?.destroy();
  });

  test('both servers come up through the server NIC, probed from its probe address', async () => {
    await waitState('web', 'rs1', 'server', 'up');
    await waitState('web', 'rs2', 'server', 'up');
    const health = await healthOf('web');
    assert.deepEqual(Object.keys(health.rs1), ['server']);
    assert.equal(health.rs1.server.egress, true);
    assert.equal(health.rs1.server.lastResult, 'success');
    const service = await lb.ok('GET', '/api/v1/virtual-services/web');
    assert.equal(service.status.health.state, 'healthy');
    // Each NIC's probes follow their own table out of its exception interface.
    const rules = (await topo.run('lb1', 'ip', ['rule', 'show'])).stdout;
    assert.match(rules, new RegExp(`from ${plan.probeAddresses.lb1.server.split('/')[0]!.replace(/\./g, '\\.')} lookup \\d+`));
    const nic = (await lb.ok('GET', '/api/v1/nics/server')).status;
    const table = (await topo.run('lb1', 'ip', ['route', 'show', 'table', 'all'])).stdout;
    assert.match(table, new RegExp(`10\\.0\\.2\\.0/24 dev ${nic.exceptionInterface} table \\d+`));
  });

  test('a stopped nginx goes down after fall probes and new connections all go to the other server', async () => {
    await servers.rs1.stop();
    await waitState('web', 'rs1', 'server', 'down');
    const health = await healthOf('web');
    assert.match(health.rs1.server.lastError, /ECONNREFUSED/);
    assert.equal(health.rs2.server.state, 'up');
    assert.deepEqual(await answers(6), Array(6).fill('rs2'));
    const service = await lb.ok('GET', '/api/v1/virtual-services/web');
    assert.equal(service.status.health.state, 'degraded');
    assert.equal((await lb.ok('GET', '/api/v1/virtual-services/web/real-servers/rs1')).weight, 1, 'the stored weight stays');
    assert.match(lb.log(), /real server rs1 of web through NIC server is down/);
    const metrics = (await lb.api('GET', '/metrics')).body as string;
    assert.match(metrics, /^l4lb_health_state\{service="web",real_server="rs1",nic="server",state="down"\} 1$/m);
    assert.match(metrics, /^l4lb_health_state_changes_total\{service="web",real_server="rs1",nic="server",to="down"\} 1$/m);
  });

  test('started again, it comes back up after rise probes and takes traffic again', async () => {
    servers.rs1 = await nginxOf('rs1');
    await waitState('web', 'rs1', 'server', 'up');
    assert.deepEqual([...new Set(await answers(4))].sort(), ['rs1', 'rs2']);
    assert.equal((await lb.ok('GET', '/api/v1/virtual-services/web')).status.health.state, 'healthy');
  });

  test('a udp check sends its payload and wants the reply to contain expect', async () => {
    await addService(lb, lbPlan, 'dns', 5353, 'udp', 'rr', { rs1: { address: rs.rs1 }, rs2: { address: rs.rs2 } });
    await lb.ok('PATCH', '/api/v1/virtual-services/dns', { healthCheck: 'udp' });
    await waitState('dns', 'rs1', 'server', 'up');
    await waitState('dns', 'rs2', 'server', 'up');
    await servers['rs2-udp'].stop();
    await waitState('dns', 'rs2', 'server', 'down');
    assert.match((await healthOf('dns')).rs2.server.lastError, /no answer within 200 ms/);
    for (let i = 0; i < 4; i++) assert.equal(await echoRequest(topo.ns.client, 'udp', plan.vips[0], 5353, `q${i}`), `rs1 q${i}`);
  });

  test('PROXY-protocol servers accept probes that carry a LOCAL header', async () => {
    // nginx answers `/` there with the PROXY header's client address: none for a probe.
    await lb.ok('PUT', '/api/v1/health-checks/http-status', { type: 'http', ...check });
    await addService(lb, lbPlan, 'pp', 8080, 'tcp', 'rr', { rs1: { address: rs.rs1 }, rs2: { address: rs.rs2 } });
    await lb.ok('PATCH', '/api/v1/virtual-services/pp', { clientAddress: 'proxy-protocol-v1', healthCheck: 'http-status' });
    await waitState('pp', 'rs1', 'server', 'up');
    await waitState('pp', 'rs2', 'server', 'up');
    await lb.ok('PATCH', '/api/v1/virtual-services/pp', { clientAddress: 'proxy-protocol-v2' });
    await new Promise((r) => setTimeout(r, 4 * check.intervalMs));
    const health = await healthOf('pp');
    assert.equal(health.rs1.server.state, 'up', JSON.stringify(health));
    assert.equal(health.rs1.server.lastResult, 'success', JSON.stringify(health));
    // Without a header nginx refuses the probe: the header is what kept it up.
    await lb.ok('PATCH', '/api/v1/virtual-services/pp', { clientAddress: 'none' });
    await waitState('pp', 'rs1', 'server', 'down');
    await lb.ok('DELETE', '/api/v1/virtual-services/pp');
  });

  test('a server reached through two NICs is probed through both, each on its own line; only its egress NIC sets its weight', async () => {
    // A gateway on server2 makes it reach rs1 too (behind the connected server NIC in rank).
    await lb.ok('PATCH', '/api/v1/nics/server2', { gateway: '10.0.3.1' });
    try {
      await waitFor('rs1 probed through server2', async () => (await healthOf('web')).rs1?.server2 !== undefined, 50, 100);
      const health = await healthOf('web');
      assert.equal(health.rs1.server.egress, true);
      assert.equal(health.rs1.server2.egress, false);
      // server2's probes leave by its own tap towards its gateway, not by the server NIC's.
      const tap = (await lb.ok('GET', '/api/v1/nics/server2')).status.exceptionInterface;
      const routeGet = ['route', 'get', rs.rs1, 'from', secondServerSide.probeAddress.split('/')[0]!];
      await waitFor(`a route to rs1 from server2's probe address via its tap ${tap}`, async () =>
        new RegExp(`via 10\\.0\\.3\\.1 dev ${tap} `).test((await topo.run('lb1', 'ip', routeGet)).stdout));
      // Nothing answers at that gateway: rs1 is down through server2, yet keeps its traffic.
      await waitState('web', 'rs1', 'server2', 'down');
      assert.equal((await healthOf('web')).rs1.server.state, 'up');
      assert.equal((await lb.ok('GET', '/api/v1/virtual-services/web')).status.health.state, 'healthy');
      assert.deepEqual([...new Set(await answers(4))].sort(), ['rs1', 'rs2']);
    } finally {
      await lb.ok('PATCH', '/api/v1/nics/server2', { gateway: null });
    }
    await waitFor('server2 probes of rs1 to stop', async () => (await healthOf('web')).rs1?.server2 === undefined, 50, 100);
  });

  test('a cut line on the second server NIC fails only the service behind it', async () => {
    await lb.ok('PUT', '/api/v1/virtual-services/side', {
      address: plan.vips[1], port: 7, protocol: 'tcp', nic: 'client', localAddressPool: 'lips2', scheduler: 'rr', healthCheck: 'tcp',
    });
    await lb.ok('PUT', '/api/v1/virtual-services/side/real-servers/rs3', { address: secondServerSide.realServer });
    await waitState('side', 'rs3', 'server2', 'up');
    assert.equal(await echoRequest(topo.ns.client, 'tcp', plan.vips[1], 7, 'hi'), 'rs3 hi');

    await ip(['link', 'set', secondServerSide.switchPort, 'down'], topo.ns.sw);
    try {
      await waitState('side', 'rs3', 'server2', 'down');
      const side = await lb.ok('GET', '/api/v1/virtual-services/side');
      assert.equal(side.status.health.state, 'degraded');
      assert.deepEqual(side.status.health.failingNics, ['server2']);
      const web = await lb.ok('GET', '/api/v1/virtual-services/web');
      assert.equal(web.status.health.state, 'healthy');
      assert.deepEqual(web.status.health.failingNics, []);
      assert.deepEqual([...new Set(await answers(4))].sort(), ['rs1', 'rs2']);
    } finally {
      await ip(['link', 'set', secondServerSide.switchPort, 'up'], topo.ns.sw);
    }
    await waitState('side', 'rs3', 'server2', 'up');
    assert.equal(await echoRequest(topo.ns.client, 'tcp', plan.vips[1], 7, 'back'), 'rs3 back');
  });

  test('removing a service\'s health check ends its checks and restores its weights at once', async () => {
    await waitState('dns', 'rs2', 'server', 'down');
    await lb.ok('PATCH', '/api/v1/virtual-services/dns', { healthCheck: null });
    assert.equal((await healthOf('dns')).rs2, undefined);
    servers['rs2-udp'] = await startEcho(topo.ns.rs2, 'udp', rs.rs2, 5353, 'rs2 ');
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await echoRequest(topo.ns.client, 'udp', plan.vips[0], 5353, 'x')).split(' ')[0]!);
    assert.deepEqual([...seen].sort(), ['rs1', 'rs2']);
  });

  test('stopping the appliance removes its probe routing', async () => {
    await lb.stop();
    const rules = (await topo.run('lb1', 'ip', ['rule', 'show'])).stdout;
    assert.doesNotMatch(rules, /from 10\.0\.[23]\.2 /);
  });
});
