// The cluster's sync bus without a single point of failure (docs/cluster.md): the three-node
// lab with Redis Sentinel (a primary, a replica, three sentinels) instead of one Redis. Under
// traffic the Redis primary is killed with SIGKILL: forwarding never notices, every node
// follows the sentinels to the new primary and resyncs, and sessions opened after the switch
// are replicated through it — shown by killing a node afterwards without losing any of them.
// Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startClusterLab, clusterServices, type ClusterLab } from './cluster-lab.js';
import { clusterPlan, type ClusterNode } from './cluster-topology.js';
import { startEchoClients, stallSummary, type EchoClients } from './echo-clients.js';
import { requireRoot, waitFor } from './netns.js';
import { waitAllAnswering } from './sync-traffic.js';
import { sentinelMissing } from '../redis-sentinel-group.js';

const skip = requireRoot() ?? sentinelMissing();
const settleMs = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nodes: ClusterNode[] = ['lb1', 'lb2', 'lb3'];

describe('a cluster on Redis Sentinel survives the loss of the Redis primary', { skip }, () => {
  let lab: ClusterLab;
  let before1: EchoClients;

  before(async () => {
    lab = await startClusterLab({ sentinel: true });
    for (const node of nodes) await lab.start(node);
    await lab.waitVipThrough(nodes);
    before1 = await startEchoClients(lab.topo.ns.client, clusterPlan.vip, clusterServices.echo.port, { count: 40 });
  });

  after(async () => {
    await before1?.close();
    await lab?.destroy();
  });

  test('kill -9 of the Redis primary: forwarding goes on, every node resyncs on the new one, and sync works through it', async () => {
    const sentinel = lab.sentinel!;
    const stats = async (node: ClusterNode) => (await lab.nodes[node]!.ok('GET', '/api/v1/sync')).status;
    const redisErrors = Object.fromEntries(await Promise.all(nodes.map(async (n) => [n, (await stats(n)).redisErrors] as const)));
    const baseline = await before1.report();
    before1.resetGaps();

    await sentinel.killPrimary();
    await waitFor('the sentinels to name the replica primary', async () => (await sentinel.primaryAccordingTo(sentinel.sentinelPorts[0]!)) === sentinel.replicaPort, 150, 100);
    for (const node of nodes)
      await waitFor(`${node} synced again after an outage`, async () => {
        const s = await stats(node);
        return s.state === 'synced' && s.redisErrors > redisErrors[node]!;
      }, 150, 100);
    const during = await waitAllAnswering(before1, baseline);
    console.log(`Redis failover: stalls over ${during.length} connections (ms): ${JSON.stringify(stallSummary(during))}`);

    // Sessions opened on the new primary's watch, then a node lost: none of them may break.
    const after1 = await startEchoClients(lab.topo.ns.client, clusterPlan.vip, clusterServices.echo.port, { count: 40 });
    try {
      for (const node of nodes)
        await waitFor(`${node} to hold every new session`, async () => {
          const held = new Set(((await lab.nodes[node]!.ok('GET', `/api/v1/sessions?virtualService=echo&limit=10000`)).items as { client: { port: number } }[]).map((s) => s.client.port));
          return after1.localPorts.every((p) => held.has(p));
        }, 100, 100);
      const reports = { before: await before1.report(), after: await after1.report() };
      await lab.kill('lb2');
      await lab.waitVipThrough(['lb1', 'lb3']);
      await sleep(settleMs);
      const survived = [...(await waitAllAnswering(before1, reports.before)), ...(await waitAllAnswering(after1, reports.after))];
      console.log(`kill -9 lb2 after the Redis failover: stalls over ${survived.length} connections (ms): ${JSON.stringify(stallSummary(survived))}`);
      assert.equal(survived.length, 80);
    } finally {
      await after1.close();
    }
  });
});
