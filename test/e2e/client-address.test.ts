// Client address passing end to end: an appliance in lb1 in front of nginx in rs1/rs2 whose
// `proxy_protocol` listener takes the client from the PROXY header (`real_ip_header`), for
// v1 and v2: keep-alive connections carrying many requests, a 20 MiB download and upload with
// matching checksums, a UDP datagram with its v2 header, TOA read from a capture in rs1, and a
// service switched between modes while a connection opened under the old one stays open.
// Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureNetwork, servicePlan, startAppliance, type Appliance, type ServicePlan } from './appliance.js';
import { openKeepAlive } from './clients.js';
import { requireRoot, stopChild, tryRun, waitFor } from './netns.js';
import { startEcho, startNginx, type Server } from './servers.js';
import { captureTcp, toaSeen } from './tcp-capture.js';
import { buildTopology, plan, type RsRole, type Topology } from './topology.js';

const skip = requireRoot();
const rs = plan.realServers;
const vip = plan.vips[0];
const client = plan.clientAddress;
const bigBytes = 20 << 20;
const proxyPort = 8080;   // nginx's proxy_protocol listener on rs1 and rs2

type Mode = 'none' | 'toa' | 'proxy-protocol-v1' | 'proxy-protocol-v2';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A service on the VIP whose real servers listen on `serverPort`. */
async function addService(lb: Appliance, name: string, port: number, protocol: 'tcp' | 'udp', clientAddress: Mode, servers: RsRole[], serverPort: number): Promise<void> {
  await lb.ok('PUT', `/api/v1/virtual-services/${name}`, { address: vip, port, protocol, nic: 'client', localAddressPool: 'lips', scheduler: 'rr', clientAddress });
  for (const s of servers) await lb.ok('PUT', `/api/v1/virtual-services/${name}/real-servers/${s}`, { address: rs[s], port: serverPort });
}

// A TCP sink for the real server: reads a connection to its end, answers with the sha256 of
// everything it got, then closes. Prints "ready" once listening.
const sinkServer = `
const [address, port] = process.argv.slice(1);
process.stdin.on('end', () => process.exit(0)).resume();
require('node:net').createServer((c) => {
  const hash = require('node:crypto').createHash('sha256');
  c.on('data', (d) => hash.update(d));
  c.on('end', () => c.end(hash.digest('hex')));
  c.on('error', () => c.destroy());
}).listen(Number(port), address, () => process.stdout.write('ready\\n'));
`;

// The client side: reads hex from stdin, connects, writes those bytes in one go (so the first
// segment is a full one), half-closes, prints its local port and the answer.
const sinkClient = `
const [address, port] = process.argv.slice(1);
setTimeout(() => process.exit(2), 20000).unref();
let hex = '';
process.stdin.on('data', (d) => (hex += d)).on('end', () => {
  const c = require('node:net').connect(Number(port), address, () => c.end(Buffer.from(hex, 'hex')));
  let answer = '';
  c.on('data', (d) => (answer += d));
  c.on('end', () => { process.stdout.write(c.localPort + ' ' + answer); process.exit(0); });
  c.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });
});
`;

describe('client address passing (TOA, PROXY protocol) through the DPDK engine', { skip }, () => {
  let topo: Topology;
  let lb: Appliance;
  const servers: Partial<Record<RsRole, Server>> = {};
  const others: Server[] = [];
  let sink: ChildProcess | undefined;
  let upload: string;

  before(async () => {
    topo = await buildTopology();
    for (const name of ['rs1', 'rs2'] as const)
      servers[name] = await startNginx(topo.ns[name], rs[name], { name, bigBytes, bigRandom: true, proxyProtocolPort: proxyPort });
    others.push(await startEcho(topo.ns.rs1, 'udp', rs.rs1, 5354, 'rs1 '));
    const started = topo.spawnIn('rs1', process.execPath, ['-e', sinkServer, rs.rs1, '9000'], { stdio: ['pipe', 'pipe', 'pipe'] });
    sink = started;
    let ready = '';
    started.stdout!.on('data', (d: Buffer) => (ready += d.toString()));
    await waitFor('the sink server in rs1', async () => ready.includes('ready'));
    lb = await startAppliance(topo.ns.lb1, ['--workers', '1']);
    const lbPlan: ServicePlan = { ...servicePlan(topo, 'lb1', 0), vip };
    await configureNetwork(lb, lbPlan);
    await addService(lb, 'pp1', 8081, 'tcp', 'proxy-protocol-v1', ['rs1', 'rs2'], proxyPort);
    await addService(lb, 'pp2', 8082, 'tcp', 'proxy-protocol-v2', ['rs1', 'rs2'], proxyPort);
    await addService(lb, 'modes', 8083, 'tcp', 'proxy-protocol-v1', ['rs1'], proxyPort);
    await addService(lb, 'toa', 80, 'tcp', 'toa', ['rs1'], 80);
    await addService(lb, 'udp2', 5354, 'udp', 'proxy-protocol-v2', ['rs1'], 5354);
    await addService(lb, 'sink', 8084, 'tcp', 'proxy-protocol-v1', ['rs1'], 9000);
    upload = join(mkdtempSync(join(tmpdir(), 'l4e-upload-')), 'body');
    writeFileSync(upload, randomBytes(bigBytes));
  });

  after(async () => {
    if (lb) await lb.stop();
    if (sink) await stopChild(sink, 'SIGTERM');
    for (const s of [...Object.values(servers), ...others]) await s.stop();
    if (upload) rmSync(join(upload, '..'), { recursive: true, force: true });
    await topo?.destroy();
  });

  for (const [service, port] of [['pp1', 8081], ['pp2', 8082]] as const) {
    test(`${service}: one keep-alive connection carries 10 requests, each seeing the client`, async () => {
      const urls = Array.from({ length: 10 }, () => `http://${vip}:${port}/ip`);
      const { stdout } = await topo.run('client', 'curl', ['-sS', '--max-time', '10', '-w', '%{num_connects}\\n', ...urls]);
      const lines = stdout.trim().split('\n');
      assert.equal(lines.length, 20, stdout);
      const seen = lines.filter((_, i) => i % 2 === 0);
      const connects = lines.filter((_, i) => i % 2 === 1).map(Number);
      assert.deepEqual(connects, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], stdout);   // one connection, reused
      assert.match(seen[0]!, new RegExp(`^${client.replace(/\./g, '\\.')}:\\d+$`));
      assert.deepEqual(new Set(seen).size, 1, stdout);
      // The server's log: the PROXY header's address and port on every request of that connection.
      const logs = (['rs1', 'rs2'] as const).map((s) => readFileSync(join(servers[s]!.dir, 'proxied.log'), 'utf8')).join('');
      const lines10 = logs.split('\n').filter((l) => l.startsWith(`${seen[0]} ${seen[0]} `));
      assert.equal(lines10.length, 10, logs);
      assert.deepEqual(lines10.map((l) => Number(l.split(' ')[3])), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    test(`${service}: a 20 MiB download arrives whole`, async () => {
      const { stdout } = await topo.run('client', 'sh', ['-c', `curl -sS --max-time 90 http://${vip}:${port}/big | sha256sum`], { timeoutMs: 100_000 });
      const expected = (['rs1', 'rs2'] as const).map((s) => sha256(readFileSync(join(servers[s]!.dir, 'big'))));
      assert.ok(expected.includes(stdout.split(' ')[0]!), `${stdout} is neither of ${expected.join(', ')}`);
    });

    test(`${service}: a 20 MiB upload arrives whole`, async () => {
      const name = `${service}-body`;
      const { stdout } = await topo.run('client', 'curl', ['-sS', '--max-time', '90', '-o', '/dev/null', '-w', '%{http_code}', '-T', upload, `http://${vip}:${port}/upload/${name}`], { timeoutMs: 100_000 });
      assert.equal(stdout, '201');
      const stored = (['rs1', 'rs2'] as const).map((s) => tryRead(join(servers[s]!.dir, 'upload', name))).find(Boolean);
      assert.ok(stored, 'no server stored the upload');
      assert.equal(sha256(stored), sha256(readFileSync(upload)));
    });
  }

  test('a full first segment gets its header in a segment of its own; the stream arrives whole', async () => {
    const body = randomBytes(200_000);
    const { stdout } = await topo.run('client', process.execPath, ['-e', sinkClient, vip, '8084'], { timeoutMs: 25_000, input: body.toString('hex') });
    const [clientPort, digest] = stdout.split(' ');
    const header = `PROXY TCP4 ${client} ${vip} ${clientPort} 8084\r\n`;
    assert.equal(digest, sha256(Buffer.concat([Buffer.from(header), body])));
    const metrics = (await lb.api('GET', '/metrics')).body as string;
    const own = Number(/^l4lb_client_address_total\{method="proxy_protocol",result="own_segment"\} (\d+)/m.exec(metrics)?.[1]);
    assert.ok(own >= 1, metrics);
  });

  test('UDP: the first datagram of a session carries a v2 header naming the client', async () => {
    // The echo server answers with its tag and what it got; printed as hex (it is binary).
    const script = `const s = require('node:dgram').createSocket('udp4');
setTimeout(() => process.exit(2), 3000).unref();
s.on('message', (m) => { process.stdout.write(m.toString('hex')); process.exit(0); });
s.send(Buffer.from('hello'), 5354, '${vip}');`;
    const bytes = Buffer.from((await topo.run('client', process.execPath, ['-e', script])).stdout, 'hex');
    const header = bytes.subarray(4, 4 + 28);
    assert.equal(bytes.subarray(0, 4).toString(), 'rs1 ');
    assert.deepEqual(header.subarray(0, 12), Buffer.from('0d0a0d0a000d0a515549540a', 'hex'));
    assert.equal(header[12], 0x21);
    assert.equal(header[13], 0x12);   // AF_INET, DGRAM
    assert.equal([...header.subarray(16, 20)].join('.'), client);
    assert.equal([...header.subarray(20, 24)].join('.'), vip);
    assert.equal(header.readUInt16BE(26), 5354);
    assert.equal(bytes.subarray(32).toString(), 'hello');
  });

  test('TOA: the first segment after the handshake carries option 254 with the client, and the MSS is lowered', async () => {
    const clientPort = 45123;
    const atServer = await captureTcp(topo, 'rs1', `tcp port 80 and host ${plan.localAddresses[0]}`);
    const atClient = await captureTcp(topo, 'client', `tcp port 80 and host ${vip}`);
    const body = await topo.run('client', 'curl', ['-sS', '--max-time', '5', '--local-port', String(clientPort), `http://${vip}/`]);
    assert.equal(body.stdout, 'rs1\n');
    const seen = toaSeen(await atServer.stop(), await atClient.stop());
    assert.equal(seen.onSyn, undefined);
    const toa = seen.onFirstAck;
    assert.ok(toa, 'no TOA in the first ACK');
    assert.equal(toa.length, 8);
    assert.equal(toa.readUInt16BE(2), clientPort);
    assert.equal([...toa.subarray(4, 8)].join('.'), client);
    assert.equal(seen.mssLoweredBy, 8);

    const metrics = (await lb.api('GET', '/metrics')).body as string;
    const added = Number(/^l4lb_client_address_total\{method="toa",result="added"\} (\d+)/m.exec(metrics)?.[1]);
    assert.ok(added >= 1, metrics);
  });

  test('a service switched between modes changes new sessions; an open one keeps its mode', async () => {
    const open = await openKeepAlive(topo, vip, 8083);
    try {
      assert.match(await open.get('/ip'), new RegExp(`^${client.replace(/\./g, '\\.')}:`));
      await lb.ok('PATCH', '/api/v1/virtual-services/modes', { clientAddress: 'none' });
      // A new connection has no header now: nginx's proxy_protocol listener closes it.
      const fresh = await tryRun('ip', ['netns', 'exec', topo.ns.client, 'curl', '-sS', '--max-time', '5', `http://${vip}:8083/ip`]);
      assert.equal(fresh.ok, false, `a new session still got a header: ${fresh.stdout}`);
      // The open one still has its header and its sequence shift: more requests work.
      for (let i = 0; i < 3; i++) assert.match(await open.get('/ip'), new RegExp(`^${client.replace(/\./g, '\\.')}:`));
      await lb.ok('PATCH', '/api/v1/virtual-services/modes', { clientAddress: 'proxy-protocol-v2' });
      const again = await topo.run('client', 'curl', ['-sS', '--max-time', '5', `http://${vip}:8083/ip`]);
      assert.match(again.stdout, new RegExp(`^${client.replace(/\./g, '\\.')}:`));
      assert.match(await open.get('/ip'), new RegExp(`^${client.replace(/\./g, '\\.')}:`));
    } finally {
      await open.close();
    }
  });
});

function tryRead(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
