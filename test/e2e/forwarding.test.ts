// FullNAT forwarding of real traffic through the DPDK engine: an appliance in lb1 configured
// over its API, curl and echo clients in the client namespace, nginx and echo servers in rs1
// and rs2. Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addService, configureNetwork, servicePlan, startAppliance, type Appliance, type ServicePlan } from './appliance.js';
import { curl, openConnection } from './clients.js';
import { requireRoot } from './netns.js';
import { echoRequest, startEcho, startNginx, type Server } from './servers.js';
import { buildTopology, plan, type Topology } from './topology.js';

const skip = requireRoot();
const rs = plan.realServers;

describe('forwarding through the DPDK engine (one worker)', { skip }, () => {
  let topo: Topology;
  let lb: Appliance;
  const servers: Server[] = [];
  let lbPlan: ServicePlan;

  before(async () => {
    topo = await buildTopology();
    for (const name of ['rs1', 'rs2'] as const) {
      servers.push(await startNginx(topo.ns[name], rs[name], { name, bigBytes: 4 << 20 }));
      servers.push(await startEcho(topo.ns[name], 'udp', rs[name], 5353, `${name} `));
      servers.push(await startEcho(topo.ns[name], 'tcp', rs[name], 7, `${name} `));
    }
    lb = await startAppliance(topo.ns.lb1, ['--workers', '1']);
    lbPlan = servicePlan(topo, 'lb1', 0);
    await configureNetwork(lb, lbPlan);
    await addService(lb, lbPlan, 'web', 80, 'tcp', 'rr', { rs1: { address: rs.rs1 }, rs2: { address: rs.rs2 } });
  });

  after(async () => {
    if (lb) await lb.stop();
    for (const s of servers) await s.stop();
    await topo?.destroy();
  });

  test('NICs come up as DPDK ports with their exception interfaces', async () => {
    const nic = await lb.ok('GET', '/api/v1/nics/client');
    assert.equal(nic.status.link, 'up');
    assert.match(nic.status.exceptionInterface, /^l4t/);
    assert.equal(typeof nic.status.counters.rxPackets, 'number');
    // The kernel side holds the probe address: the client reaches it through the data plane.
    await topo.run('client', 'ping', ['-c', '1', '-W', '2', plan.probeAddresses.lb1.client.split('/')[0]!]);
  });

  test('curl through the VIP is answered alternately by both servers (rr)', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) answers.push((await curl(topo, `http://${plan.vips[0]}/`)).trim());
    assert.equal(answers.filter((a) => a === 'rs1').length, 4, answers.join(','));
    assert.equal(answers.filter((a) => a === 'rs2').length, 4, answers.join(','));
    for (let i = 1; i < answers.length; i++) assert.notEqual(answers[i], answers[i - 1], answers.join(','));
  });

  test('the real server sees the local address as the source', async () => {
    const seen = (await curl(topo, `http://${plan.vips[0]}/ip`)).trim();
    assert.match(seen, new RegExp(`^${plan.localAddresses[0].replace(/\./g, '\\.')}:\\d+$`));
  });

  test('a 4 MiB download arrives whole', async () => {
    const { stdout } = await topo.run('client', 'curl', ['-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', `http://${plan.vips[0]}/big`]);
    assert.equal(stdout, `200 ${4 << 20}`);
  });

  test('wrr splits by weight', async () => {
    await lb.ok('PATCH', '/api/v1/virtual-services/web', { scheduler: 'wrr' });
    await lb.ok('PATCH', '/api/v1/virtual-services/web/real-servers/rs1', { weight: 3 });
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) answers.push((await curl(topo, `http://${plan.vips[0]}/`)).trim());
    assert.equal(answers.filter((a) => a === 'rs1').length, 6, answers.join(','));
    await lb.ok('PATCH', '/api/v1/virtual-services/web', { scheduler: 'rr' });
    await lb.ok('PATCH', '/api/v1/virtual-services/web/real-servers/rs1', { weight: 1 });
  });

  test('a UDP service answers requests', async () => {
    await addService(lb, lbPlan, 'dns', 5353, 'udp', 'rr', { rs1: { address: rs.rs1 }, rs2: { address: rs.rs2 } });
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const answer = await echoRequest(topo.ns.client, 'udp', plan.vips[0], 5353, `q${i}`);
      assert.match(answer, new RegExp(`^rs[12] q${i}$`));
      answers.add(answer.split(' ')[0]!);
    }
    assert.deepEqual([...answers].sort(), ['rs1', 'rs2']);
  });

  test('the VIP answers ping', async () => {
    const { stdout } = await topo.run('client', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', plan.vips[0]]);
    assert.match(stdout, /2 received/);
  });

  test('weight 0 keeps an open connection while new ones avoid that server', async () => {
    await addService(lb, lbPlan, 'echo', 7, 'tcp', 'rr', { rs1: { address: rs.rs1 }, rs2: { address: rs.rs2 } });
    const conn = await openConnection(topo, plan.vips[0], 7);
    try {
      const first = await conn.send('hello');
      const server = first.split(' ')[0]!;
      assert.match(first, /^rs[12] hello$/);
      await lb.ok('PATCH', `/api/v1/virtual-services/echo/real-servers/${server}`, { weight: 0 });
      for (let i = 0; i < 4; i++) {
        const answer = await echoRequest(topo.ns.client, 'tcp', plan.vips[0], 7, `n${i}`);
        assert.ok(!answer.startsWith(server), `new connection ${i} went to drained ${server}`);
      }
      assert.equal(await conn.send('still'), `${server} still`);
      const sessions = await lb.ok('GET', '/api/v1/sessions?virtualService=echo');
      assert.ok(sessions.items.some((s: any) => s.realServerName === server && s.state === 'established'), JSON.stringify(sessions));
      // Five sessions at least (the open one, four closing): pages of two follow each other.
      const page1 = await lb.ok('GET', '/api/v1/sessions?virtualService=echo&limit=2');
      assert.equal(page1.items.length, 2);
      const page2 = await lb.ok('GET', `/api/v1/sessions?virtualService=echo&limit=2&cursor=${page1.nextCursor}`);
      assert.equal(page2.items.length, 2);
      const ports = (page: any) => page.items.map((s: any) => s.local.port);
      assert.ok(ports(page2).every((p: number) => !ports(page1).includes(p)), JSON.stringify({ page1, page2 }));
    } finally {
      await conn.close();
    }
  });

  test('a disabled real server has its sessions reset', async () => {
    await lb.ok('PATCH', '/api/v1/virtual-services/echo/real-servers/rs1', { weight: 1 });
    await lb.ok('PATCH', '/api/v1/virtual-services/echo/real-servers/rs2', { weight: 1 });
    const conn = await openConnection(topo, plan.vips[0], 7);
    try {
      const server = (await conn.send('hi')).split(' ')[0]!;
      await lb.ok('PATCH', `/api/v1/virtual-services/echo/real-servers/${server}`, { enabled: false });
      await assert.rejects(conn.send('after'), /ECONNRESET|gave up/);
    } finally {
      await conn.close();
      await lb.ok('PATCH', '/api/v1/virtual-services/echo/real-servers/rs1', { enabled: true });
      await lb.ok('PATCH', '/api/v1/virtual-services/echo/real-servers/rs2', { enabled: true });
    }
  });

  test('counters and sessions are visible through the API', async () => {
    const server = await lb.ok('GET', '/api/v1/virtual-services/web/real-servers/rs1');
    assert.ok(server.status.traffic.newSessions > 0, JSON.stringify(server.status));
    const service = await lb.ok('GET', '/api/v1/virtual-services/web');
    assert.ok(service.status.traffic.packetsIn > 0, JSON.stringify(service.status));
    const metrics = (await lb.api('GET', '/metrics')).body as string;
    const value = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? NaN);
    assert.ok(value(/^l4lb_real_server_connections_total\{service="web",real_server="rs1"\} (\d+)/m) > 0, metrics);
    assert.ok(value(/^l4lb_service_packets_total\{service="web",direction="in"\} (\d+)/m) > 0);
    assert.ok(value(/^l4lb_nic_packets_total\{nic="client",direction="in"\} (\d+)/m) > 0);
    assert.equal(value(/^l4lb_nic_link_up\{nic="server"\} (\d+)/m), 1);
    assert.ok(value(/^l4lb_nic_icmp_echo_replies_total\{nic="client"\} (\d+)/m) >= 2);
    assert.match(metrics, /^l4lb_nic_dropped_packets_total\{nic="client",reason="no_service"\} \d+/m);
    assert.match(metrics, /^l4lb_real_server_sessions\{service="echo",real_server="rs1",state="active"\} \d+/m);
    assert.match(metrics, /^l4lb_config_applied_generation \d+/m);
  });

  test('a restart on the same database forwards again', async () => {
    lb = await lb.restart();
    const ready = await lb.api('GET', '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) answers.add((await curl(topo, `http://${plan.vips[0]}/`)).trim());
    assert.deepEqual([...answers].sort(), ['rs1', 'rs2']);
  });

  test('a device the engine cannot open is refused and nothing is stored', async () => {
    const r = await lb.api('PUT', '/api/v1/nics/bogus', { device: 'net_af_packet9,iface=nosuchif', networks: ['10.9.0.0/24'] });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.errors[0].field, '/body/device');
    assert.equal((await lb.api('GET', '/api/v1/nics/bogus')).status, 404);
    assert.equal((await curl(topo, `http://${plan.vips[0]}/`)).trim().startsWith('rs'), true);
  });

  test('hostile devices are refused before DPDK sees them: no file, socket or port appears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l4e-hostile-'));
    try {
      const pcap = join(dir, 'x.pcap');
      const socket = join(dir, 's');
      for (const device of [`net_pcap0,tx_pcap=${pcap}`, `net_vhost0,iface=${socket}`, `net_memif0,socket=${socket}`, 'net_af_packet9,iface=c0,bogus=1']) {
        const r = await lb.api('PUT', '/api/v1/nics/hostile', { device, networks: ['10.9.0.0/24'] });
        assert.equal(r.status, 422, `${device}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.errors[0].field, '/body/device');
      }
      assert.deepEqual(readdirSync(dir), []);
      const nics = await lb.ok('GET', '/api/v1/nics');
      assert.deepEqual(nics.items.map((n: { name: string }) => n.name).sort(), ['client', 'server']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the start-up log shows no device probed that no NIC names', () => {
    assert.doesNotMatch(lb.log(), /Probe PCI driver|Requested device|cannot be used/, lb.log());
  });

  test('a service deleted and created again under its name forwards only to the real servers the API lists', async () => {
    await lb.ok('DELETE', '/api/v1/virtual-services/web');
    await addService(lb, lbPlan, 'web', 80, 'tcp', 'rr', { rs2: { address: rs.rs2 } });
    const listed = await lb.ok('GET', '/api/v1/virtual-services/web/real-servers');
    assert.deepEqual(listed.items.map((r: { name: string }) => r.name), ['rs2']);
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add((await curl(topo, `http://${plan.vips[0]}/`)).trim());
    assert.deepEqual([...answers], ['rs2']);
    assert.equal((await lb.ok('GET', '/api/v1/virtual-services/web')).status.realServers, 1);
  });
});
