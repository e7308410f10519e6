// Durability with the data plane (issue 9): the appliance runs `--engine dpdk` in lb1 of the
// end-to-end topology, real-server weights stream into it, and it is killed with SIGKILL at a
// seeded random moment. The file must pass integrity_check, and the restarted appliance must
// be ready with the engine at the stored generation, serving every acknowledged weight (the
// write in flight at the kill may have landed or not). Needs root; fails rather than skips
// under CI=true.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectDb } from './durability-check.js';
import { seededRng } from './durability-writes.js';
import { addService, configureNetwork, servicePlan, startAppliance, type Appliance } from './e2e/appliance.js';
import { requireRoot, stopChild, waitFor } from './e2e/netns.js';
import { buildTopology, plan, type Topology } from './e2e/topology.js';

const skip = requireRoot();
const seed = Number(process.env.DURABILITY_SEED ?? 20261123);
const servers = ['rs1', 'rs2'] as const;
const rsUrl = (rs: string) => `/api/v1/virtual-services/web/real-servers/${rs}`;

test('with the DPDK engine, a kill -9 mid-stream: the restart runs the stored generation with every acknowledged write', { skip, timeout: 5 * 60_000 }, async (t) => {
  const rng = seededRng(seed);
  let topo: Topology | undefined;
  let lb: Appliance | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-durability-dpdk-'));
  try {
    topo = await buildTopology();
    lb = await startAppliance(topo.ns.lb1, ['--workers', '1'], dir);
    const lbPlan = servicePlan(topo, 'lb1', 0);
    await configureNetwork(lb, lbPlan);
    await addService(lb, lbPlan, 'web', 80, 'tcp', 'wrr', { rs1: { address: plan.realServers.rs1 }, rs2: { address: plan.realServers.rs2 } });

    const acknowledged = new Map<string, number>(servers.map((rs) => [rs, 1]));
    let inFlight: { rs: string; weight: number } | undefined;
    let writes = 0;
    const dying = lb;
    // The kill is timed from the first acknowledged write, so there is always one to keep.
    let killed: Promise<void> | undefined;
    for (let n = 0; n < 2000; n++) {
      inFlight = { rs: servers[n % 2]!, weight: Math.floor(rng() * 100) };
      let reply;
      try {
        reply = await lb.api('PATCH', rsUrl(inFlight.rs), { weight: inFlight.weight });
      } catch {
        break; // killed under this write
      }
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      acknowledged.set(inFlight.rs, inFlight.weight);
      inFlight = undefined;
      writes++;
      killed ??= new Promise((r) => setTimeout(r, 5 + Math.floor(rng() * 196))).then(() => stopChild(dying.child, 'SIGKILL'));
    }
    await killed;
    assert.ok(writes > 0, 'no write was acknowledged before the kill');
    const stored = inspectDb(join(dir, 'l4lb.db'));

    lb = await startAppliance(topo.ns.lb1, ['--workers', '1'], dir);
    const restarted = lb;
    const ready = await waitFor('the engine to apply the stored configuration', async () => {
      const r = await restarted.api('GET', '/readyz');
      return r.status === 200 && r.body;
    }, 100, 100);
    assert.equal(ready.generation, stored.generation);
    assert.equal(ready.appliedGeneration, stored.generation);
    const service = await lb.ok('GET', '/api/v1/virtual-services/web');
    assert.equal(service.status.appliedGeneration, stored.generation);
    for (const [rs, weight] of acknowledged) {
      const served = (await lb.ok('GET', rsUrl(rs))).weight;
      const landed = inFlight?.rs === rs && served === inFlight.weight;
      assert.ok(served === weight || landed, `${rs}: weight ${served}, acknowledged ${weight}, in flight ${JSON.stringify(inFlight)}`);
    }
    t.diagnostic(`${writes} writes acknowledged before the kill; generation ${stored.generation} applied after the restart`);
  } finally {
    await lb?.stop();
    await topo?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
