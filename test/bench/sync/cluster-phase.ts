// The cluster part of `npm run bench:sync`: three multi-active nodes behind the lab's router
// (test/e2e/cluster-lab.ts); SYNs at a fixed rate through the router, which spreads them over
// the nodes by ECMP, so each node opens a third of the sessions, publishes their records and
// installs the other two thirds. Returns each node's replication cost (replication-cost.ts).

import type { Appliance } from '../../e2e/appliance.js';
import { startClusterLab } from '../../e2e/cluster-lab.js';
import { clusterPlan, nodeIndex, type ClusterNode } from '../../e2e/cluster-topology.js';
import { ip } from '../../e2e/netns.js';
import { replicationCost, type NodeCost } from './replication-cost.js';
import { dropAtRealServers, sendSynsAlong, synPort } from './syn-load.js';

const nodes: ClusterNode[] = ['lb1', 'lb2', 'lb3'];

/** The SYN service on a node: its own pool of four addresses (the SYNs are never answered, so they need no route back). */
async function addSynService(a: Appliance, node: ClusterNode): Promise<void> {
  const addresses = Array.from({ length: 4 }, (_, i) => `10.9.2.${nodeIndex(node) * 4 + i}`);
  await a.ok('PUT', '/api/v1/local-address-pools/syn-lips', { nic: 'lan', addresses });
  await a.ok('PUT', '/api/v1/virtual-services/syn', {
    address: clusterPlan.vip, port: synPort, protocol: 'tcp', nic: 'lan', localAddressPool: 'syn-lips', scheduler: 'rr', timeouts: { tcpSynRecv: 600 },
  });
  for (const rs of ['rs1', 'rs2'] as const)
    await a.ok('PUT', `/api/v1/virtual-services/syn/real-servers/${rs}`, { address: clusterPlan.realServers[rs], port: synPort });
}

const macOf = async (ns: string, device: string) => (JSON.parse((await ip(['-j', 'link', 'show', 'dev', device], ns)).stdout) as { address: string }[])[0]!.address;

export async function clusterReplication(rate: number, seconds: number, workers: number): Promise<NodeCost[]> {
  const lab = await startClusterLab({ workers });
  try {
    await dropAtRealServers(lab.topo);
    const appliances: Record<string, Appliance> = {};
    for (const node of nodes) {
      appliances[node] = await lab.start(node);
      await addSynService(appliances[node], node);
    }
    await lab.waitVipThrough(nodes);
    const path = { ns: lab.topo.ns.client, device: 'eth0', sourceMac: await macOf(lab.topo.ns.client, 'eth0'), destinationMac: await macOf(lab.topo.ns.router, 'c0') };
    return await replicationCost(appliances, () => sendSynsAlong(path, clusterPlan.vip, 0, rate * seconds, rate));
  } finally {
    await lab.destroy();
  }
}
