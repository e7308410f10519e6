// The multi-active lab running: the topology of cluster-topology.ts, one Redis every node
// reaches by a socket path, the router's bird, real servers (TCP echo on 7 and 9, nginx with a
// PROXY-protocol listener on 8080), and appliances configured alike except for what is each
// node's own: its NIC's probe address, its local address, its node id. With `etcd`, the
// cluster-wide objects (services, real servers) live in a three-member etcd in the router
// namespace: each node is given only its own objects, and the test creates the services
// through one node (clusterObjectWrites).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppliance, type Appliance } from './appliance.js';
import { buildClusterTopology, clusterPlan, lbInterface, type ClusterNode, type ClusterTopology } from './cluster-topology.js';
import { startRouter, type Router } from './cluster-router.js';
import { stopChild, waitFor } from './netns.js';
import { RedisServer } from '../redis-server.js';
import { RedisSentinelGroup } from '../redis-sentinel-group.js';
import { EtcdCluster } from '../etcd-cluster.js';
import { startEcho, startNginx } from './servers.js';

/** The lab's services, all on the one VIP. */
export const clusterServices = {
  /** Plain TCP echo. */
  echo: { port: 7, serverPort: 7, clientAddress: 'none', sync: true },
  /** Echo behind TOA (the echo server ignores the option; a second one would break nothing, a lost session would). */
  toa: { port: 9, serverPort: 9, clientAddress: 'toa', sync: true },
  /** nginx's PROXY-protocol listener behind a PROXY v2 service: a header sent twice is a 400. */
  web: { port: 8080, serverPort: 8080, clientAddress: 'proxy-protocol-v2', sync: true },
  /** Echo with sync off: the negative control (its sessions live on one node only). */
  nosync: { port: 17, serverPort: 7, clientAddress: 'none', sync: false },
} as const;
export type ClusterService = keyof typeof clusterServices;

/** Data-plane workers of every node unless told otherwise: more than one, so owners matter. */
export const defaultWorkers = 2;

export interface ClusterLab {
  readonly topo: ClusterTopology;
  readonly router: Router;
  /** The sync bus every node is configured with. */
  readonly redisUrl: string;
  /** With `sentinel`: the Redis primary, replica and sentinels in the router namespace. */
  readonly sentinel?: RedisSentinelGroup;
  /** With `etcd`: the three members in the router namespace holding the cluster-wide objects. */
  readonly etcd?: EtcdCluster;
  /** With `etcd`: the `--config-store` every node runs with. */
  readonly configStore?: string;
  readonly nodes: Partial<Record<ClusterNode, Appliance>>;
  /** Starts `node` (on the database it had, if it ran before) and configures it when new. */
  start(node: ClusterNode): Promise<Appliance>;
  /** SIGKILL, as in a crash; its database stays for a restart. */
  kill(node: ClusterNode): Promise<void>;
  /** The Unix socket of `node`'s API (it stays across restarts). */
  apiSocket(node: ClusterNode): string;
  /** Waits until the router's route for the VIP goes through exactly these nodes. */
  waitVipThrough(nodes: readonly ClusterNode[]): Promise<void>;
  destroy(): Promise<void>;
}

const probeOf = (node: ClusterNode) => clusterPlan.probeAddress(node).split('/')[0]!;

/** The lab's Sentinel group asks for it (Redis refuses other hosts without one: protected mode). */
const sentinelPassword = 'lab-only-password';

/** The PUTs that create `services` (all unless told) and their real servers rs1 and rs2, in order. */
export function clusterObjectWrites(services: readonly ClusterService[] = Object.keys(clusterServices) as ClusterService[]): { path: string; body: object }[] {
  return services.flatMap((name) => {
    const s = clusterServices[name];
    return [
      {
        path: `/api/v1/virtual-services/${name}`,
        body: { address: clusterPlan.vip, port: s.port, protocol: 'tcp', nic: 'lan', localAddressPool: 'lips', scheduler: 'rr', clientAddress: s.clientAddress, sync: s.sync },
      },
      ...(['rs1', 'rs2'] as const).map((rs) => ({
        path: `/api/v1/virtual-services/${name}/real-servers/${rs}`,
        body: { address: clusterPlan.realServers[rs], port: s.serverPort },
      })),
    ];
  });
}

/** The node's own objects; the cluster-wide ones too unless they live in etcd. */
async function configure(a: Appliance, node: ClusterNode, redisUrl: string, redisPassword: string | undefined, clusterObjects: boolean): Promise<void> {
  await a.ok('PUT', '/api/v1/nics/lan', {
    device: `net_af_packet0,iface=${lbInterface}`,
    networks: [clusterPlan.lbNetwork],
    gateway: clusterPlan.routerLbSide,
    probeAddress: clusterPlan.probeAddress(node),
  });
  await a.ok('PUT', '/api/v1/local-address-pools/lips', { nic: 'lan', addresses: [clusterPlan.localAddress(node)] });
  if (clusterObjects) for (const { path, body } of clusterObjectWrites()) await a.ok('PUT', path, body);
  await a.ok('PUT', '/api/v1/sync', { enabled: true, redisUrl, ...(redisPassword ? { redisPassword } : {}), role: 'multi-active', nodeId: node });
  await a.ok('PUT', '/api/v1/bgp', {
    enabled: true,
    asn: clusterPlan.lbAsn,
    neighbors: [{ address: clusterPlan.routerLbSide, asn: clusterPlan.routerAsn, nic: 'lan', bfd: true, holdTimeSeconds: 9 }],
    coveringPrefixes: [clusterPlan.coveringPrefix],
  });
}

export interface ClusterLabOptions {
  workers?: number;
  /**
   * The sync bus through Redis Sentinel: a primary, a replica and three sentinels in the
   * router namespace on its LB-side address, which the nodes reach from their NICs' kernel
   * side (as their BGP sessions do). Otherwise one Redis on a socket path.
   */
  sentinel?: boolean;
  /**
   * The cluster-wide objects in etcd: three members in the router namespace on its LB-side
   * address (ports 2379, 2389, 2399), every node run with `--config-store etcd://…/l4lb`, and
   * no service configured: the test creates them through one node.
   */
  etcd?: boolean;
}

export async function startClusterLab(options: ClusterLabOptions = {}): Promise<ClusterLab> {
  const workers = options.workers ?? defaultWorkers;
  const topo = await buildClusterTopology();
  const stoppers: (() => Promise<void>)[] = [];
  const nodes: Partial<Record<ClusterNode, Appliance>> = {};
  const dirs = new Map<ClusterNode, string>();
  const destroy = async () => {
    for (const a of Object.values(nodes)) await a.stop('SIGKILL');
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    await topo.destroy();
  };
  try {
    let redisUrl: string;
    let sentinel: RedisSentinelGroup | undefined;
    if (options.sentinel) {
      sentinel = new RedisSentinelGroup({ ns: topo.ns.router, host: clusterPlan.routerLbSide, name: 'l4lb', password: sentinelPassword, sentinelPassword });
      stoppers.push(() => sentinel!.close());
      await sentinel.start();
      redisUrl = sentinel.url;
    } else {
      const redis = new RedisServer({ ns: topo.ns.sw });
      await redis.start();
      stoppers.push(() => redis.close());
      redisUrl = redis.url;
    }
    let etcd: EtcdCluster | undefined;
    let configStore: string | undefined;
    if (options.etcd) {
      etcd = await EtcdCluster.start({ members: 3, ns: topo.ns.router, host: clusterPlan.routerLbSide });
      stoppers.push(() => etcd!.close());
      configStore = `etcd://${etcd.endpoints.join(',')}/l4lb`;
    }
    const args = ['--workers', String(workers), ...(configStore ? ['--config-store', configStore] : [])];
    const router = await startRouter(topo.ns.router);
    stoppers.push(() => router.stop());
    for (const rs of ['rs1', 'rs2'] as const) {
      const address = clusterPlan.realServers[rs];
      for (const port of [7, 9]) {
        const echo = await startEcho(topo.ns[rs], 'tcp', address, port);
        stoppers.push(() => echo.stop());
      }
      const nginx = await startNginx(topo.ns[rs], address, { name: rs, proxyProtocolPort: clusterServices.web.serverPort });
      stoppers.push(() => nginx.stop());
    }
    const lab: ClusterLab = {
      topo,
      router,
      redisUrl,
      ...(sentinel ? { sentinel } : {}),
      ...(etcd ? { etcd, configStore } : {}),
      nodes,
      start: async (node) => {
        const known = dirs.get(node);
        const dir = known ?? mkdtempSync(join(tmpdir(), `l4c-${node}-`));
        dirs.set(node, dir);
        const a = await startAppliance(topo.ns[node], args, dir);
        nodes[node] = a;
        if (!known) await configure(a, node, redisUrl, sentinel ? sentinelPassword : undefined, !etcd);
        return a;
      },
      apiSocket: (node) => join(dirs.get(node) ?? '', 'api.sock'),
      kill: async (node) => {
        const a = nodes[node]!;
        delete nodes[node];
        await stopChild(a.child, 'SIGKILL');
      },
      waitVipThrough: async (expected) => {
        const want = expected.map(probeOf).sort().join(',');
        let seen = '';
        await waitFor(`the VIP routed through ${expected.join(', ')} (last seen: ${seen || 'none'})`, async () => {
          seen = (await router.nextHops(`${clusterPlan.vip}/32`)).join(',');
          return seen === want;
        }, 300, 100);
      },
      destroy,
    };
    return lab;
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  }
}
