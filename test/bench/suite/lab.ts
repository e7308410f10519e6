// The benchmark's network, built once per run: the end-to-end topology (test/e2e/topology.ts)
// with nginx and an iperf3 server in rs1 and rs2, plus one addition, a second client interface
// on the server bridge, so "direct" reaches rs1 through one bridge and no load balancer.

import type { ChildProcess } from 'node:child_process';
import { ethtoolOff, ip, nsRun, nsSpawn, stopChild, sysctl, waitFor } from '../../e2e/netns.js';
import { startNginx, type Server } from '../../e2e/servers.js';
import { bridges, buildTopology, plan, type RsRole, type Topology } from '../../e2e/topology.js';

export const httpPort = 80;
export const iperfPort = 5201;
/** The client's address on the server bridge (free in the plan: .2/.3 are probes, .11/.12 servers). */
export const clientServerSideAddress = '10.0.2.1';

export interface Lab {
  readonly topo: Topology;
  /** `GET /` from the client; true when the answer is one of the real servers' names. */
  reaches(address: string): Promise<boolean>;
  close(): Promise<void>;
}

/** iperf3 -s bound to one address; ready once its port listens. */
async function startIperf(topo: Topology, rs: RsRole): Promise<ChildProcess> {
  const child = nsSpawn(topo.ns[rs], 'iperf3', ['-s', '-B', plan.realServers[rs], '-p', String(iperfPort)]);
  await waitFor(`iperf3 -s in ${rs}`, async () => {
    if (child.exitCode !== null) throw new Error(`iperf3 -s in ${rs} exited (${child.exitCode})`);
    const { stdout } = await nsRun(topo.ns[rs], 'ss', ['-Hltn', `sport = :${iperfPort}`]);
    return stdout.trim() !== '';
  });
  return child;
}

/** A veth from the client namespace to the server bridge, as topology.ts makes its links. */
async function addClientServerSide(topo: Topology): Promise<void> {
  await ip(['link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'clients', 'netns', topo.ns.sw], topo.ns.client);
  await ethtoolOff(topo.ns.client, 'eth1', 'tx');
  await ethtoolOff(topo.ns.sw, 'clients', 'tx');
  await ip(['link', 'set', 'clients', 'master', bridges.server, 'up'], topo.ns.sw);
  await ip(['addr', 'add', `${clientServerSideAddress}/24`, 'dev', 'eth1'], topo.ns.client);
  await ip(['link', 'set', 'eth1', 'up'], topo.ns.client);
}

export async function buildLab(): Promise<Lab> {
  const topo = await buildTopology();
  const servers: Server[] = [];
  const iperfs: ChildProcess[] = [];
  const close = async () => {
    for (const child of iperfs) await stopChild(child).catch(() => undefined);
    for (const server of servers) await server.stop().catch(() => undefined);
    await topo.destroy();
  };
  try {
    await addClientServerSide(topo);
    // Many short connections: every ephemeral port, not the default 28k of them.
    await sysctl(topo.ns.client, 'net.ipv4.ip_local_port_range', '1024 65000');
    for (const rs of ['rs1', 'rs2'] as const) {
      await sysctl(topo.ns[rs], 'net.core.somaxconn', 4096);
      servers.push(await startNginx(topo.ns[rs], plan.realServers[rs], { name: rs, bigBytes: 4096 }));
      iperfs.push(await startIperf(topo, rs));
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return {
    topo,
    reaches: async (address) => {
      const r = await nsRun(topo.ns.client, 'curl', ['-s', '--max-time', '1', `http://${address}:${httpPort}/`], { timeoutMs: 3000 }).catch(() => undefined);
      return r !== undefined && /^rs[12]\n$/.test(r.stdout);
    },
    close,
  };
}
