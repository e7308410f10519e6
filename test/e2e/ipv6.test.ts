// IPv6 end to end (issue 19): a sync lab whose client and real servers also have IPv6
// (ipv6-lab.ts), lb1 active and lb2 backup, both configured alike over their APIs. Through lb1:
// HTTP over FullNAT v6 and over NAT64 to the IPv4 servers, PROXY v1 and v2 naming the IPv6
// client, TOA in its 20-byte form, UDP, ping of the VIP, sessions listed by an IPv6 client
// address, metrics, HTTP health checks from each node's IPv6 probe address. Then kill -9 lb1 and promote lb2: 100 IPv6 echo connections and two
// keep-alive HTTP connections (FullNAT v6, NAT64) carry on, and lb2 announces the VIP and the
// local address with unsolicited neighbour advertisements. Needs root; fails rather than skips
// under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatAddress, hostPort } from '../../store/ip.js';
import type { Appliance } from './appliance.js';
import { curl, openKeepAlive, type KeepAlive } from './clients.js';
import { stallSummary, startEchoClients, type EchoClients, type EchoConnectionReport } from './echo-clients.js';
import { configureIpv6, localAddress6, serverPorts, services6, startIpv6Servers, udp6, vip6, type Ipv6Servers } from './ipv6-lab.js';
import { neighbourMac, watchAdvertisements, type Advertisement } from './neighbours.js';
import { requireRoot, waitFor } from './netns.js';
import { echoRequest, type Server } from './servers.js';
import { defaultWorkers, startSyncLab, waitSessionsFor, waitSyncState, type SessionView, type SyncLab } from './sync-lab.js';
import { brokenOnes, waitAllAnswering } from './sync-traffic.js';
import { captureTcp, toaSeen } from './tcp-capture.js';
import { lbInterfaces, plan, plan6, type RsRole } from './topology.js';

const skip = requireRoot();
const client6 = plan6.clientAddress;
/** What nginx's PROXY-protocol listener answers to `/`: the client the header named. */
const namesClient = new RegExp(`^${client6}:\\d+$`);
/** Traffic kept flowing after the promotion before the connections are judged. */
const settleMs = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const url = (port: number, path = '/') => `http://${hostPort(vip6, port)}${path}`;

/** The server whose PROXY-protocol log has each answer (`<client>:<port>`, one connection each). */
function servedBy(nginx: Record<RsRole, Server>, answers: readonly string[]): RsRole[] {
  return answers.map((answer) => {
    const logged = (Object.keys(nginx) as RsRole[]).filter((rs) =>
      readFileSync(join(nginx[rs].dir, 'proxied.log'), 'utf8').split('\n').some((line) => line.startsWith(`${answer} `)),
    );
    assert.equal(logged.length, 1, `${answer} is logged by ${logged.join(', ') || 'no server'}`);
    return logged[0]!;
  });
}

/** GETs `/` on a fresh connection `count` times; each answer is the client the server saw. */
async function clientsSeen(lab: SyncLab, port: number, count = 4): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < count; i++) answers.push((await curl(lab.topo, url(port))).trim());
  return answers;
}

/** A counter of the Prometheus text, 0 when absent. */
function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('IPv6 through the DPDK engine: FullNAT v6, NAT64, client addresses, failover', { skip }, () => {
  let lab: SyncLab;
  let v6: Ipv6Servers;
  let lb1: Appliance;
  let lb2: Appliance;
  /** Keep-alive HTTP connections opened at the start, to the FullNAT v6 and a NAT64 service. */
  const http: Partial<Record<'web6' | 'nat64v2', KeepAlive>> = {};
  let echo: EchoClients | undefined;

  before(async () => {
    lab = await startSyncLab(defaultWorkers, { ipv6: true });
    v6 = await startIpv6Servers(lab.topo);
    lb1 = await lab.startLb('lb1', { enabled: true, role: 'active', configureMore: (a) => configureIpv6(a, 'lb1') });
    lb2 = await lab.startLb('lb2', { enabled: true, role: 'backup', configureMore: (a) => configureIpv6(a, 'lb2') });
    await waitSyncState(lb1, 'synced');
    await waitSyncState(lb2, 'synced');
    for (const name of ['web6', 'nat64v2'] as const) http[name] = await openKeepAlive(lab.topo, vip6, services6[name].port);
  });

  after(async () => {
    await echo?.close();
    for (const c of Object.values(http)) await c.close();
    await v6?.stop();
    await lab?.destroy();
  });

  test('FullNAT v6: HTTP through the IPv6 VIP reaches both IPv6 servers, and PROXY v2 names the client', async () => {
    const answers = await clientsSeen(lab, services6.web6.port);
    for (const a of answers) assert.match(a, namesClient);
    assert.deepEqual(new Set(servedBy(v6.nginx, answers)), new Set(['rs1', 'rs2']));
  });

  for (const name of ['nat64v1', 'nat64v2'] as const) {
    test(`NAT64 (${services6[name].clientAddress}): both IPv4 servers answer and see the IPv6 client`, async () => {
      const answers = await clientsSeen(lab, services6[name].port);
      for (const a of answers) assert.match(a, namesClient);
      assert.deepEqual(new Set(servedBy(lab.nginx, answers)), new Set(['rs1', 'rs2']));
    });
  }

  test('a 1 MiB download arrives whole over FullNAT v6 and over NAT64', async () => {
    for (const port of [services6.web6.port, services6.nat64v2.port]) {
      const { stdout } = await lab.topo.run('client', 'curl', ['-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', url(port, '/big')], { timeoutMs: 25_000 });
      assert.equal(stdout, `200 ${1 << 20}`, `port ${port}`);
    }
  });

  test('TOA: option 254 of 20 bytes carries the IPv6 client after the handshake, the MSS is lowered by 20', async () => {
    const clientPort = 45126;
    const atServer = await captureTcp(lab.topo, 'rs1', `tcp port ${serverPorts.http} and host ${localAddress6}`);
    const atClient = await captureTcp(lab.topo, 'client', `tcp port ${services6.toa6.port} and host ${vip6}`);
    // The captures stop whatever curl does: a tcpdump left running would outlive its namespace.
    const answer = await lab.topo.run('client', 'curl', ['-sS', '--max-time', '5', '--local-port', String(clientPort), url(services6.toa6.port, '/ip')]).then((r) => r.stdout, (err: Error) => err);
    const seen = toaSeen(await atServer.stop(), await atClient.stop());
    if (answer instanceof Error) throw answer;
    // Without a TOA module the server's socket shows the FullNAT source: the IPv6 local address.
    assert.match(answer, new RegExp(`^${localAddress6}:\\d+\\n$`));
    assert.equal(seen.onSyn, undefined);
    const toa = seen.onFirstAck;
    assert.ok(toa, 'no TOA in the first ACK');
    assert.equal(toa.length, 20);
    assert.equal(toa.readUInt16BE(2), clientPort);
    assert.equal(formatAddress({ family: 6, value: BigInt(`0x${toa.subarray(4).toString('hex')}`) }), client6);
    assert.equal(seen.mssLoweredBy, 20);
  });

  test('UDP over IPv6: datagrams come back from both IPv6 servers of the service the API named', async () => {
    const tags = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const answer = await echoRequest(lab.topo.ns.client, 'udp', vip6, udp6.port, `q${i}`);
      assert.match(answer, new RegExp(`^rs[12] q${i}$`));
      tags.add(answer.split(' ')[0]!);
    }
    assert.deepEqual([...tags].sort(), ['rs1', 'rs2']);
    const servers = await lb1.ok('GET', `/api/v1/virtual-services/${udp6.name}/real-servers`);
    assert.deepEqual(servers.items.map((s: { name: string }) => s.name).sort(), udp6.serverNames);
  });

  test('the appliance answers ping -6 of the VIP', async () => {
    // Only the data plane can: the LB namespaces' kernels have no IPv6.
    assert.equal((await lab.topo.run('lb1', 'sysctl', ['-n', 'net.ipv6.conf.all.disable_ipv6'])).stdout.trim(), '1');
    const { stdout } = await lab.topo.run('client', 'ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', vip6]);
    assert.match(stdout, /2 received/);
  });

  test('sessions listed by the IPv6 client address: FullNAT v6 and NAT64 ones; metrics served', async () => {
    const list = async (address: string) => (await lb1.ok('GET', `/api/v1/sessions?clientAddress=${address}&limit=10000`)).items as SessionView[];
    const items = await list(client6);
    assert.ok(items.every((s) => s.client.address === client6 && s.virtual.address === vip6), JSON.stringify(items));
    const of = (name: 'web6' | 'nat64v2') => items.find((s) => s.virtualService === name && s.client.port === http[name]!.localPort);
    const [fullNat, nat64] = [of('web6'), of('nat64v2')];
    assert.ok(fullNat && nat64, `the keep-alive connections' sessions are missing: ${JSON.stringify(items)}`);
    assert.equal(fullNat.local.address, localAddress6);
    assert.ok(Object.values(plan6.realServers).includes(fullNat.realServer.address), fullNat.realServer.address);
    assert.equal(nat64.local.address, plan.localAddresses[0]);
    assert.ok(Object.values(plan.realServers).includes(nat64.realServer.address), nat64.realServer.address);
    // Another spelling of the address selects the same sessions.
    const respelled = await list('2001:DB8:1:0:0:0:0:1');
    for (const s of [fullNat, nat64]) assert.ok(respelled.some((r) => r.virtualService === s.virtualService && r.client.port === s.client.port));

    const metrics = await lb1.api('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.ok(metric(metrics.body, 'l4lb_service_connections_total{service="web6"}') >= 4, 'web6 connections');
    assert.ok(metric(metrics.body, `l4lb_service_connections_total{service="${udp6.name}"}`) >= 4, 'udp connections');
    assert.ok(metric(metrics.body, 'l4lb_client_address_total{method="toa",result="added"}') >= 1, 'TOA added');
  });

  test('health checks over IPv6: each node probes from its IPv6 probe address, a dead server is skipped', async () => {
    const port = 83;
    const dead = '2001:db8:2::99';   // on the servers' link, answering nothing (not even ND)
    const servers = { rs1: plan6.realServers.rs1, rs2: plan6.realServers.rs2, gone: dead };
    for (const a of [lb1, lb2]) {
      await a.ok('PUT', '/api/v1/health-checks/web6', { type: 'http', intervalMs: 200, timeoutMs: 200, rise: 2, fall: 2, http: { path: '/' } });
      await a.ok('PUT', '/api/v1/virtual-services/checked6', { address: vip6, port, protocol: 'tcp', nic: 'client', localAddressPool: 'lips6', scheduler: 'rr', healthCheck: 'web6' });
      for (const [name, address] of Object.entries(servers)) await a.ok('PUT', `/api/v1/virtual-services/checked6/real-servers/${name}`, { address, port: serverPorts.http });
    }
    const wanted = { rs1: 'up', rs2: 'up', gone: 'down' };
    for (const [lb, a] of [['lb1', lb1], ['lb2', lb2]] as const) {
      const health = await waitFor(`${lb}'s view of checked6`, async () => {
        const list = await a.ok('GET', '/api/v1/virtual-services/checked6/real-servers');
        const seen = Object.fromEntries(list.items.map((s: any) => [s.name, s.status.health?.server]));
        return Object.entries(wanted).every(([name, state]) => seen[name]?.state === state && seen[name].egress) && seen;
      }, 100, 100);
      assert.ok(health.gone.lastError, `${lb}: no error for the dead server`);
      // The probes' own table: IPv6 traffic from the probe address leaves by the server NIC's tap.
      const rules = (await lab.topo.run(lb, 'ip', ['-6', 'rule', 'show'])).stdout;
      assert.match(rules, new RegExp(`from ${plan6.probeAddresses[lb].split('/')[0]} lookup \\d+`), `${lb}: ${rules}`);
    }
    // Each node's probes reached both servers from its own IPv6 probe address (the backup's too).
    for (const rs of ['rs1', 'rs2'] as const) {
      const log = readFileSync(join(v6.nginx[rs].dir, 'access.log'), 'utf8').split('\n');
      for (const lb of ['lb1', 'lb2'] as const) {
        const from = plan6.probeAddresses[lb].split('/')[0]!;
        assert.ok(log.some((l) => l.startsWith(`${from} `) && l.includes('l4lb-health-check')), `${rs} logged no probe from ${from}`);
      }
    }
    // The dead server takes no new sessions: every connection is answered, by rs1 or rs2.
    const answers = await clientsSeen(lab, port, 6);
    assert.deepEqual(new Set(answers), new Set(['rs1', 'rs2']));
  });

  test('kill -9 lb1, promote lb2: 100 IPv6 connections carry on, and lb2 takes the addresses over by NA', async () => {
    echo = await startEchoClients(lab.topo.ns.client, vip6, services6.echo6.port, { count: 100 });
    await waitSessionsFor(lb2, 'echo6', echo.localPorts, client6);
    for (const name of ['web6', 'nat64v2'] as const) await waitSessionsFor(lb2, name, [http[name]!.localPort], client6);
    const baseline = { web6: await http.web6!.get('/'), nat64v2: await http.nat64v2!.get('/') };
    const lb2Macs = { client: await lab.topo.mac('lb2', lbInterfaces.client), server: await lab.topo.mac('lb2', lbInterfaces.server) };
    const watches = [await watchAdvertisements(lab.topo, 'client'), await watchAdvertisements(lab.topo, 'rs1')];
    echo.resetGaps();
    let reports: EchoConnectionReport[];
    let heard: Advertisement[][];
    try {
      const { promoteMs, reapedMs } = await lab.failover('lb1', 'lb2');
      // lb1 is dead from here: every echo counted after this report came through lb2.
      const atPromotion = await echo.report();
      await sleep(settleMs);
      reports = await waitAllAnswering(echo, atPromotion);
      const stalls = stallSummary(reports);
      console.log(`# IPv6 failover: ${reports.filter((r) => !r.broken).length} of ${reports.length} echo connections kept; stalls max ${stalls.max} ms, ` +
        `p99 ${stalls.p99} ms, median ${stalls.median} ms; lb2 promoted ${promoteMs} ms after the kill, lb1 reaped after ${reapedMs} ms`);
    } finally {
      heard = [await watches[0]!.stop(), await watches[1]!.stop()];
    }
    assert.deepEqual(brokenOnes(reports), []);
    // The same connections: an error or a close would reject, a new one would name another port.
    assert.equal(await http.web6!.get('/'), baseline.web6);
    assert.equal(await http.nat64v2!.get('/'), baseline.nat64v2);

    const [atClient, atRs1] = heard;
    assert.ok(atClient!.some((a) => a.mac === lb2Macs.client && a.target === vip6), `the client heard ${JSON.stringify(atClient)}`);
    assert.ok(atRs1!.some((a) => a.mac === lb2Macs.server && a.target === localAddress6), `rs1 heard ${JSON.stringify(atRs1)}`);
    assert.equal(await neighbourMac(lab.topo, 'client', vip6), lb2Macs.client);
    for (const rs of ['rs1', 'rs2'] as const) assert.equal(await neighbourMac(lab.topo, rs, localAddress6), lb2Macs.server, rs);
    assert.equal(await echoRequest(lab.topo.ns.client, 'tcp', vip6, services6.echo6.port, 'fresh'), 'fresh');
  });
});
