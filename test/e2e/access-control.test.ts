// A virtual service's allow and deny lists on real traffic: an appliance in lb1 with one worker,
// nginx in rs1, curl from the client namespace. A deny entry for the client makes curl fail and
// counts `denied`; an allow list holding the client lets it through; one without it refuses
// it as `not_allowed`. Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addService, configureNetwork, servicePlan, startAppliance, type Appliance } from './appliance.js';
import { curl } from './clients.js';
import { requireRoot } from './netns.js';
import { startNginx, type Server } from './servers.js';
import { buildTopology, plan, type Topology } from './topology.js';
import { parsePrometheusText } from '../prometheus-text.js';

const skip = requireRoot();
const url = `http://${plan.vips[0]}/`;

describe('allow and deny lists through the DPDK engine', { skip }, () => {
  let topo: Topology;
  let lb: Appliance;
  let nginx: Server;

  before(async () => {
    topo = await buildTopology();
    nginx = await startNginx(topo.ns.rs1, plan.realServers.rs1, { name: 'rs1' });
    lb = await startAppliance(topo.ns.lb1, ['--workers', '1']);
    const lbPlan = servicePlan(topo, 'lb1', 0);
    await configureNetwork(lb, lbPlan);
    await addService(lb, lbPlan, 'web', 80, 'tcp', 'rr', { rs1: { address: plan.realServers.rs1 } });
  });

  after(async () => {
    if (lb) await lb.stop();
    await nginx?.stop();
    await topo?.destroy();
  });

  const refused = async (reason: string): Promise<number> => {
    const families = parsePrometheusText((await lb.ok('GET', '/metrics')) as string);
    const sample = families.get('l4lb_service_refused_total')?.samples.find((s) => s.labels.service === 'web' && s.labels.reason === reason);
    return sample?.value ?? 0;
  };
  const refusedCurl = () => assert.rejects(curl(topo, url, 2), 'curl through the VIP got an answer');
  const accessControl = (allow: string[], deny: string[]) => lb.ok('PATCH', '/api/v1/virtual-services/web', { accessControl: { allow, deny } });

  test('a deny entry holding the client: curl fails, counted as denied', async () => {
    assert.equal((await curl(topo, url)).trim(), 'rs1');
    await accessControl([], [`${plan.clientAddress}/32`]);
    const before = await refused('denied');
    await refusedCurl();
    assert.ok((await refused('denied')) > before, 'l4lb_service_refused_total{reason="denied"} did not grow');
    const status = await lb.ok('GET', '/api/v1/virtual-services/web');
    assert.ok(status.status.traffic.refused.denied > 0, JSON.stringify(status.status));
  });

  test('an allow list holding the client lets it through', async () => {
    await accessControl([plan.clientNetwork], []);
    assert.equal((await curl(topo, url)).trim(), 'rs1');
  });

  test('an allow list without the client refuses it as not_allowed', async () => {
    await accessControl(['10.0.9.0/24'], []);
    const before = await refused('not_allowed');
    await refusedCurl();
    assert.ok((await refused('not_allowed')) > before, 'l4lb_service_refused_total{reason="not_allowed"} did not grow');
  });
});
