// Two appliances on one host at once (lb1 and lb2, each its own process, EAL and taps), lb1
// with two workers so that return traffic landing on the wrong worker crosses the redirect
// ring. Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addService, configureNetwork, servicePlan, startAppliance, type Appliance } from './appliance.js';
import { curl } from './clients.js';
import { requireRoot } from './netns.js';
import { startNginx, type Server } from './servers.js';
import { buildTopology, plan, type LbRole, type Topology } from './topology.js';

const skip = requireRoot();

describe('two appliances side by side, one with two workers', { skip }, () => {
  let topo: Topology;
  const lbs: Partial<Record<LbRole, Appliance>> = {};
  const servers: Server[] = [];

  before(async () => {
    topo = await buildTopology();
    for (const name of ['rs1', 'rs2'] as const) servers.push(await startNginx(topo.ns[name], plan.realServers[name], { name }));
    const roles: [LbRole, number, string][] = [
      ['lb1', 0, '2'],
      ['lb2', 1, '1'],
    ];
    for (const [lb, i, workers] of roles) {
      const a = await startAppliance(topo.ns[lb], ['--workers', workers]);
      lbs[lb] = a;
      const p = servicePlan(topo, lb, i);
      await configureNetwork(a, p);
      await addService(a, p, 'web', 80, 'tcp', 'rr', { rs1: { address: plan.realServers.rs1 }, rs2: { address: plan.realServers.rs2 } });
    }
  });

  after(async () => {
    for (const a of Object.values(lbs)) await a.stop();
    for (const s of servers) await s.stop();
    await topo?.destroy();
  });

  test('both VIPs answer, each through its own appliance', async () => {
    for (const [i, lb] of [[0, 'lb1'], [1, 'lb2']] as const) {
      const answers = new Set<string>();
      for (let n = 0; n < 6; n++) answers.add((await curl(topo, `http://${plan.vips[i]}/`)).trim());
      assert.deepEqual([...answers].sort(), ['rs1', 'rs2'], `${lb}`);
      const seen = (await curl(topo, `http://${plan.vips[i]}/ip`)).trim();
      assert.ok(seen.startsWith(`${plan.localAddresses[i]}:`), `${lb}: server saw ${seen}`);
    }
  });

  test('with two workers every connection completes and the redirect ring carries traffic', async () => {
    const lb1 = lbs.lb1!;
    for (let n = 0; n < 30; n++) assert.match((await curl(topo, `http://${plan.vips[0]}/`)).trim(), /^rs[12]$/);
    const metrics = (await lb1.api('GET', '/metrics')).body as string;
    const redirected = [...metrics.matchAll(/^l4lb_worker_redirected_packets_total\{worker="(\d)",direction="in"\} (\d+)/gm)];
    assert.equal(redirected.length, 2, metrics);
    const total = redirected.reduce((sum, m) => sum + Number(m[2]), 0);
    assert.ok(total > 0, `no frame crossed between workers:\n${redirected.map((m) => m[0]).join('\n')}`);
    const sessions = await lb1.ok('GET', '/api/v1/sessions?limit=500');
    assert.ok(sessions.items.every((s: any) => s.worker === 0 || s.worker === 1));
  });
});
