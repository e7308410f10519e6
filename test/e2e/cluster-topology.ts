// The multi-active lab (docs/cluster.md): a router between the clients, the load balancers and
// the real servers, learning the VIP and the local addresses from the LB nodes by BGP (bird2)
// and spreading clients over the nodes by ECMP with an L4 hash. Every LB node is one-armed: one
// NIC on the LB network, the router as its gateway, its VIPs and local addresses in no NIC
// network (routed to it, never ARPed for). Replies from the servers to local addresses go
// through the router, so a dead node's are routed by the covering prefix to the survivors.
//
//   client eth0 ──── c0 ┐
//                      router ── l0 ─ brl (sw) ─┬─ lb1 n0  (probe 10.0.5.1, tap)
//   rs1 eth0 ─┐         │                       ├─ lb2 n0
//   rs2 eth0 ─┴ brs (sw) ─ s0                   ├─ lb3 n0
//                                               └─ lb4 n0  (joins later in the tests)
//
// Names are `l4c-<pid>-<hex>-<role>`, swept like the other lab's when their run is dead.

import { randomBytes } from 'node:crypto';
import { ip, netnsAdd, netnsDelete, nsRun, sysctl, type RunOptions, type RunResult } from './netns.js';
import { baseNamespace, deafLb, link, sweepLeftovers } from './topology.js';

export const clusterNodes = ['lb1', 'lb2', 'lb3', 'lb4'] as const;
export type ClusterNode = (typeof clusterNodes)[number];
type ClusterRole = 'sw' | 'router' | 'client' | 'rs1' | 'rs2' | ClusterNode;
const roles: readonly ClusterRole[] = ['sw', 'router', 'client', 'rs1', 'rs2', ...clusterNodes];

/** The fixed addressing plan; every address exists only inside the namespaces. */
export const clusterPlan = {
  clientAddress: '10.0.1.1',
  routerClientSide: '10.0.1.254',
  lbNetwork: '10.0.5.0/24',
  routerLbSide: '10.0.5.254',
  serverNetwork: '10.0.2.0/24',
  routerServerSide: '10.0.2.254',
  realServers: { rs1: '10.0.2.11', rs2: '10.0.2.12' },
  vip: '10.9.0.10',
  /** One local address per node, all inside the covering prefix every node announces. */
  coveringPrefix: '10.9.1.0/24',
  localAddress: (node: ClusterNode) => `10.9.1.${nodeIndex(node)}`,
  /** The NIC's kernel side: BGP and BFD to the router, health probes. */
  probeAddress: (node: ClusterNode) => `10.0.5.${nodeIndex(node)}/24`,
  routerAsn: 65000,
  lbAsn: 65001,
} as const;

export const nodeIndex = (node: ClusterNode): number => clusterNodes.indexOf(node) + 1;
/** The LB node's one interface (a DPDK `net_af_packet` vdev on it). */
export const lbInterface = 'n0';
/** The router's interface on the LB network (its BFD runs there). */
export const routerLbInterface = 'l0';

export interface ClusterTopology {
  readonly prefix: string;
  readonly ns: Readonly<Record<ClusterRole, string>>;
  run(role: ClusterRole, cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  destroy(): Promise<void>;
}

/** Builds the lab's namespaces and links (no router daemon, no appliance yet). */
export async function buildClusterTopology(): Promise<ClusterTopology> {
  await sweepLeftovers();
  const prefix = `l4c-${process.pid}-${randomBytes(3).toString('hex')}`;
  const ns = Object.fromEntries(roles.map((r) => [r, `${prefix}-${r}`])) as Record<ClusterRole, string>;
  const topo: ClusterTopology = {
    prefix,
    ns,
    run: (role, cmd, args, options) => nsRun(ns[role], cmd, args, options),
    destroy: async () => {
      const errors: unknown[] = [];
      for (const r of roles) await netnsDelete(ns[r]).catch((err) => errors.push(err));
      if (errors.length) throw new AggregateError(errors, `teardown of ${prefix} failed`);
    },
  };
  try {
    for (const r of roles) {
      await netnsAdd(ns[r]);
      await baseNamespace(ns[r]);
    }
    const address = (role: ClusterRole, ifc: string, cidr: string) => ip(['addr', 'add', cidr, 'dev', ifc], ns[role]);
    const up = (role: ClusterRole, ifc: string) => ip(['link', 'set', ifc, 'up'], ns[role]);

    for (const br of ['brl', 'brs']) {
      await ip(['link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'], ns.sw);
      await ip(['link', 'set', br, 'up'], ns.sw);
    }
    const port = async (swIf: string, br: string, host: ClusterRole, hostIf: string) => {
      await link(ns.sw, swIf, ns[host], hostIf);
      await ip(['link', 'set', swIf, 'master', br, 'up'], ns.sw);
    };

    // The router: forwards, hashes flows over equal-cost paths by their ports too.
    await sysctl(ns.router, 'net.ipv4.ip_forward', 1);
    await sysctl(ns.router, 'net.ipv4.fib_multipath_hash_policy', 1);
    await sysctl(ns.router, 'net.ipv4.conf.all.rp_filter', 0);
    await link(ns.client, 'eth0', ns.router, 'c0');
    await address('client', 'eth0', `${clusterPlan.clientAddress}/24`);
    await address('router', 'c0', `${clusterPlan.routerClientSide}/24`);
    await up('client', 'eth0');
    await up('router', 'c0');
    await ip(['route', 'add', 'default', 'via', clusterPlan.routerClientSide], ns.client);

    await port('router', 'brl', 'router', routerLbInterface);
    await address('router', routerLbInterface, `${clusterPlan.routerLbSide}/24`);
    await up('router', routerLbInterface);
    await port('routers', 'brs', 'router', 's0');
    await address('router', 's0', `${clusterPlan.routerServerSide}/24`);
    await up('router', 's0');

    for (const rs of ['rs1', 'rs2'] as const) {
      await port(rs, 'brs', rs, 'eth0');
      await address(rs, 'eth0', `${clusterPlan.realServers[rs]}/24`);
      await up(rs, 'eth0');
      await ip(['route', 'add', 'default', 'via', clusterPlan.routerServerSide], ns[rs]);
    }

    for (const node of clusterNodes) {
      await port(node, 'brl', node, lbInterface);
      await deafLb(ns[node], [lbInterface]);
      await up(node, lbInterface);
    }
    return topo;
  } catch (err) {
    await topo.destroy().catch(() => undefined);
    throw err;
  }
}
