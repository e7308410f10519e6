// maxConnections and clientRateLimit on real traffic through the DPDK engine (one worker, so
// the rate limit is exact): long-lived echo connections up to the servers' limits, wrk against
// limited nginx servers with their concurrent connections sampled, and a burst of connections
// from one client. Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addService, configureNetwork, servicePlan, startAppliance, type Appliance } from './appliance.js';
import { openConnection, type Connection } from './clients.js';
import { requireRoot, waitFor } from './netns.js';
import { startEcho, startNginx, type Server } from './servers.js';
import { buildTopology, plan, type Topology } from './topology.js';
import { parsePrometheusText } from '../prometheus-text.js';

const skip = requireRoot();
const rs = plan.realServers;
const vip = plan.vips[0];

describe('connection and rate limits through the DPDK engine (one worker)', { skip }, () => {
  let topo: Topology;
  let lb: Appliance;
  const servers: Server[] = [];

  before(async () => {
    topo = await buildTopology();
    for (const name of ['rs1', 'rs2'] as const) {
      servers.push(await startNginx(topo.ns[name], rs[name], { name }));
      servers.push(await startEcho(topo.ns[name], 'tcp', rs[name], 7, `${name} `));
    }
    lb = await startAppliance(topo.ns.lb1, ['--workers', '1']);
    const lbPlan = servicePlan(topo, 'lb1', 0);
    await configureNetwork(lb, lbPlan);
    for (const [name, port] of [['echo', 7], ['web', 80]] as const) {
      await addService(lb, lbPlan, name, port, 'tcp', 'rr', { rs1: { address: rs.rs1 }, rs2: { address: rs.rs2 } });
      for (const server of ['rs1', 'rs2']) await lb.ok('PATCH', `/api/v1/virtual-services/${name}/real-servers/${server}`, { maxConnections: 3 });
    }
  });

  after(async () => {
    if (lb) await lb.stop();
    for (const s of servers) await s.stop();
    await topo?.destroy();
  });

  const metric = async (name: string, labels: Record<string, string>): Promise<number> => {
    const families = parsePrometheusText((await lb.ok('GET', '/metrics')) as string);
    const matching = families.get(name)?.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)) ?? [];
    return matching.reduce((sum, s) => sum + s.value, 0);
  };

  test('two servers of maxConnections 3 take six echo connections, not a seventh, until one ends', async () => {
    const open: Connection[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        open.push(await openConnection(topo, vip, 7));
        assert.match(await open[i]!.send(`hello ${i}`), new RegExp(`^rs[12] hello ${i}$`));
      }
      // Its SYNs are dropped: openConnection gives up after ~5 s.
      await assert.rejects(openConnection(topo, vip, 7), 'a seventh connection got through');
      const rs1 = await lb.ok('GET', '/api/v1/virtual-services/echo/real-servers/rs1');
      const rs2 = await lb.ok('GET', '/api/v1/virtual-services/echo/real-servers/rs2');
      assert.ok(rs1.status.limited > 0 && rs2.status.limited > 0, JSON.stringify([rs1.status, rs2.status]));
      assert.equal(rs1.status.activeSessions + rs1.status.inactiveSessions, 3);
      assert.ok((await metric('l4lb_real_server_limited_total', { service: 'echo' })) > 0);
      assert.ok((await metric('l4lb_nic_dropped_packets_total', { reason: 'server_limit' })) > 0);

      // A closed connection holds its slot through FIN_WAIT/TIME_WAIT (7 s each at most), then frees it.
      await open.shift()!.close();
      const next = await waitFor('a connection once a slot is free', async () => openConnection(topo, vip, 7), 6, 0);
      open.push(next);
      assert.match(await next.send('again'), /^rs[12] again$/);
    } finally {
      for (const c of open) await c.close();
    }
  });

  test('under wrk with more connections than the limits, no server ever holds more than 3', async () => {
    const established = async (server: 'rs1' | 'rs2') =>
      Number((await topo.run(server, 'sh', ['-c', 'ss -Htn state established sport = :80 | wc -l'])).stdout.trim());
    // nginx ends a connection after 1000 requests; its session then holds the slot through
    // FIN_WAIT/TIME_WAIT: short timeouts let wrk's waiting connections in during the run.
    await lb.ok('PATCH', '/api/v1/virtual-services/web', { timeouts: { tcpFinWait: 1, tcpTimeWait: 1, tcpClose: 1 } });
    const load = topo.run('client', 'wrk', ['-t', '2', '-c', '20', '-d', '4s', '--timeout', '2s', `http://${vip}/`]);
    const samples: number[] = [];
    for (let i = 0; i < 12; i++) {
      samples.push(await established('rs1'), await established('rs2'));
      await new Promise((r) => setTimeout(r, 200));
    }
    const { stdout } = await load;
    assert.ok(Math.max(...samples) <= 3, `concurrent connections per server: ${samples.join(',')}`);
    assert.ok(Math.max(...samples) >= 1, `wrk reached no server: ${samples.join(',')}\n${stdout}`);
    assert.match(stdout, /Requests\/sec/);
  });

  test('clientRateLimit 2/s, burst 4: of 10 quick connections at most 4 plus the refill get through', async () => {
    for (const server of ['rs1', 'rs2']) await lb.ok('PATCH', `/api/v1/virtual-services/web/real-servers/${server}`, { maxConnections: null });
    await lb.ok('PATCH', '/api/v1/virtual-services/web', { clientRateLimit: { connectionsPerSecond: 2, burst: 4 } });
    const limitedBefore = await metric('l4lb_service_rate_limited_total', { service: 'web' });
    const started = process.hrtime.bigint();
    const { stdout } = await topo.run('client', 'sh', [
      '-c',
      `for i in $(seq 10); do curl -s -o /dev/null -w '%{http_code}\\n' --connect-timeout 1 --max-time 2 http://${vip}/ & done; wait`,
    ]);
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const ok = stdout.split('\n').filter((code) => code === '200').length;
    // One worker: the bucket is exact. Tokens come back at 2 per second of the run.
    const bound = 4 + Math.floor(2 * elapsedS);
    assert.ok(ok >= 4 && ok <= bound, `${ok} of 10 got through in ${elapsedS.toFixed(2)} s (bound ${bound})`);
    const limited = (await metric('l4lb_service_rate_limited_total', { service: 'web' })) - limitedBefore;
    assert.ok(limited >= 10 - ok, `rate_limited went up by ${limited}`);
    const status = await lb.ok('GET', '/api/v1/virtual-services/web');
    assert.ok(status.status.traffic.rateLimited >= limited);
  });
});
