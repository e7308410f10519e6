// The multi-active lab by hand (README, "A cluster lab"): builds the lab of cluster.test.ts,
// starts three nodes, prints how to reach everything, and takes commands on stdin until `quit`
// (or Ctrl-C), then removes every namespace and process it made. Needs root.
//
//   bash scripts/cluster-lab.sh           services configured on every node
//   bash scripts/cluster-lab.sh --etcd    services in a three-member etcd: create them through any node

import { createInterface } from 'node:readline';
import { clusterObjectWrites, startClusterLab, type ClusterLab } from './cluster-lab.js';
import { clusterNodes, clusterPlan, type ClusterNode } from './cluster-topology.js';

const help = `commands: status | kill NODE | start NODE | drain NODE | undrain NODE | quit   (NODE: ${clusterNodes.join(', ')})`;

async function status(lab: ClusterLab): Promise<void> {
  console.log(`router: ${clusterPlan.vip}/32 via ${(await lab.router.nextHops(`${clusterPlan.vip}/32`)).join(', ') || 'nothing'}`);
  for (const node of clusterNodes) {
    const a = lab.nodes[node];
    if (!a) continue;
    const sync = (await a.ok('GET', '/api/v1/sync')).status;
    const bgp = (await a.ok('GET', '/api/v1/bgp')).status;
    const own = (await a.ok('GET', '/api/v1/sessions?limit=10000')).items.filter((s: { origin: string }) => s.origin === 'local').length;
    console.log(`${node} pid ${a.child.pid}: sync ${sync.state}${sync.clusterReady ? ', cluster-ready' : ''}, ${own} own sessions, ${sync.records.peerSessions} copies, ` +
      `bgp ${bgp.neighbors.map((n: { state: string }) => n.state).join('/')}, announcing ${bgp.announced.join(' ') || 'nothing'}`);
  }
}

async function run(lab: ClusterLab, line: string): Promise<boolean> {
  const [command, arg] = line.trim().split(/\s+/);
  const node = clusterNodes.find((n) => n === arg) as ClusterNode | undefined;
  if (command === 'quit') return false;
  if (command === 'status') await status(lab);
  else if (command === 'kill' && node && lab.nodes[node]) await lab.kill(node);
  else if (command === 'start' && node && !lab.nodes[node]) await lab.start(node);
  else if ((command === 'drain' || command === 'undrain') && node && lab.nodes[node]) await lab.nodes[node]!.ok('PATCH', '/api/v1/bgp', { drain: command === 'drain' });
  else if (command) console.log(help);
  return true;
}

async function main(): Promise<void> {
  const etcd = process.argv.includes('--etcd');
  console.log(`building the lab: namespaces, router (bird2), redis, ${etcd ? 'etcd, ' : ''}real servers, three nodes…`);
  const lab = await startClusterLab({ etcd });
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    console.log('removing the lab…');
    await lab.destroy();
    process.exit(0);
  };
  process.on('SIGINT', () => void close());
  process.on('SIGTERM', () => void close());
  try {
    for (const node of ['lb1', 'lb2', 'lb3'] as const) await lab.start(node);
    if (etcd) {
      console.log(`nodes on ${lab.configStore}; creating the services and their real servers through lb1 alone:`);
      for (const { path, body } of clusterObjectWrites()) {
        console.log(`  curl --unix-socket ${lab.apiSocket('lb1')} -X PUT http://l${path} -H 'content-type: application/json' -d '${JSON.stringify(body)}'`);
        await lab.nodes.lb1!.ok('PUT', path, body);
      }
    }
    await lab.waitVipThrough(['lb1', 'lb2', 'lb3']);
  } catch (err) {
    console.error(err);
    return close();
  }
  const { ns } = lab.topo;
  console.log(`
The VIP ${clusterPlan.vip} is routed by ECMP over lb1, lb2 and lb3.
  a client:          ip netns exec ${ns.client} curl -s http://${clusterPlan.vip}:8080/
  a long connection: ip netns exec ${ns.client} nc ${clusterPlan.vip} 7     (type lines; they echo)
  the router:        ip netns exec ${ns.router} ip route show ${clusterPlan.vip}
                     ip netns exec ${ns.router} birdc -s ${lab.router.socket} show protocols
  a node's API:      curl --unix-socket ${lab.apiSocket('lb1')} http://l/api/v1/sync
${help}`);
  const input = createInterface({ input: process.stdin, prompt: 'lab> ' });
  input.prompt();
  for await (const line of input) {
    try {
      if (!(await run(lab, line))) break;
    } catch (err) {
      console.log((err as Error).message);
    }
    input.prompt();
  }
  await close();
}

void main();
