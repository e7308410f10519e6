// The end-to-end network: client — bridge — lb1/lb2 — bridge — rs1/rs2, each host a network
// namespace, both bridges in one more namespace ("sw"), every link a veth pair created directly
// inside its two namespaces (so nothing is ever named in, or leaks into, the root namespace).
//
//   client eth0 ─── client ┐            ┌ rs1 ─── rs1 eth0
//                          brc (sw)   brs
//   lb1 c0 ───────── lb1c ─┤            ├─ lb1s ─── lb1 s0
//   lb2 c0 ───────── lb2c ─┘            └─ lb2s ─── lb2 s0
//
// With `secondServerNetwork`, lb1 gets a third veth, s1, on a bridge of its own with one more
// real server (rs3) on another network: a second server-side path whose line a test can cut.
//
//   lb1 s1 ───────── lb1s1 ─ brs2 (sw) ─ rs3 ─── rs3 eth0
//
// Namespace names are `l4e-<pid>-<hex>-<role>`: unique per run, and a run that was killed leaves
// namespaces whose PID is dead, which the next build deletes before it starts.
//
// The LB namespaces follow DESIGN.md "Test topology": no address on c0/s0, ip_forward=0, an
// nftables netdev ingress chain with policy drop on both (the LB kernel never answers or resets,
// af_packet still sees every frame). Transmit checksum offload is off on every veth and IPv6 is
// off everywhere, except with `ipv6`: then the client and rs1/rs2 also get the addresses of
// `plan6` (the LB namespaces stay without IPv6, their kernels deaf as before).

import { randomBytes } from 'node:crypto';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { ethtoolOff, ip, netnsAdd, netnsDelete, netnsList, nft, nsRun, nsSpawn, sh, sysctl, type RunOptions, type RunResult } from './netns.js';

export type Role = 'client' | 'lb1' | 'lb2' | 'rs1' | 'rs2' | 'rs3' | 'sw';
export type LbRole = 'lb1' | 'lb2';
export type RsRole = 'rs1' | 'rs2';
const roles: readonly Role[] = ['sw', 'client', 'lb1', 'lb2', 'rs1', 'rs2'];

/** The fixed addressing plan; every address is private and exists only inside the namespaces. */
export const plan = {
  clientAddress: '10.0.1.1',
  clientNetwork: '10.0.1.0/24',
  serverNetwork: '10.0.2.0/24',
  vips: ['10.0.1.10', '10.0.1.11'],
  realServers: { rs1: '10.0.2.11', rs2: '10.0.2.12' } as Record<RsRole, string>,
  localAddresses: ['10.0.2.100', '10.0.2.101'],
  /** The kernel side (exception path, net_tap) of each LB NIC: health probes leave from here. */
  probeAddresses: {
    lb1: { client: '10.0.1.2/24', server: '10.0.2.2/24' },
    lb2: { client: '10.0.1.3/24', server: '10.0.2.3/24' },
  } as Record<LbRole, { client: string; server: string }>,
} as const;

/**
 * The IPv6 plan (TopologyOptions.ipv6), beside the IPv4 one and shaped alike: documentation
 * prefixes, one /64 per side. As in IPv4 there are no routes: the client reaches the VIPs, and
 * the real servers the local addresses, on-link, through the LB's veth on that bridge.
 */
export const plan6 = {
  clientAddress: '2001:db8:1::1',
  clientNetwork: '2001:db8:1::/64',
  serverNetwork: '2001:db8:2::/64',
  vips: ['2001:db8:1::10', '2001:db8:1::11'],
  realServers: { rs1: '2001:db8:2::11', rs2: '2001:db8:2::12' } as Record<RsRole, string>,
  localAddresses: ['2001:db8:2::100', '2001:db8:2::101'],
  /** Each LB's IPv6 probe address (the server NIC's `probeAddress6`): IPv6 health probes leave from it. */
  probeAddresses: { lb1: '2001:db8:2::2/64', lb2: '2001:db8:2::3/64' } as Record<LbRole, string>,
} as const;

/** lb1's optional second server-side path (TopologyOptions.secondServerNetwork). */
export const secondServerSide = {
  /** lb1's interface, the bridge in sw, and the sw end of lb1's veth (set it down to cut the line). */
  lbInterface: 's1',
  bridge: 'brs2',
  switchPort: 'lb1s1',
  network: '10.0.3.0/24',
  realServer: '10.0.3.13',
  probeAddress: '10.0.3.2/24',
  localAddress: '10.0.3.100',
} as const;

export interface TopologyOptions {
  /** Adds lb1's veth s1 on bridge brs2 and real server rs3 (10.0.3.13) behind it. */
  secondServerNetwork?: boolean;
  /** Gives the client and rs1/rs2 their `plan6` addresses besides the IPv4 ones. */
  ipv6?: boolean;
}

/** Interface names inside each LB namespace, for DPDK `net_af_packetN,iface=<name>` vdevs. */
export const lbInterfaces = { client: 'c0', server: 's0' } as const;
/** The single interface of client and real-server namespaces. */
export const hostInterface = 'eth0';
/** Bridge names inside the sw namespace. */
export const bridges = { client: 'brc', server: 'brs' } as const;

export interface Topology {
  /** `l4e-<pid>-<hex>`, the prefix of every namespace of this run. */
  readonly prefix: string;
  /** The namespace name of each role (rs3 only with `secondServerNetwork`). */
  readonly ns: Readonly<Record<Role, string>>;
  /** `net_af_packet` vdev strings for an LB: `net_af_packet<index>,iface=<if>`. */
  vdev(side: 'client' | 'server', index: number): string;
  /** Runs a command to completion inside a role's namespace (checked, with a timeout). */
  run(role: Role, cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-running command inside a role's namespace; stop it by its PID. */
  spawnIn(role: Role, cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** The MAC address of an interface in a role's namespace. */
  mac(role: Role, iface: string): Promise<string>;
  /** Deletes every namespace of this run (idempotent; never throws for an already-gone one). */
  destroy(): Promise<void>;
}

const prefixPattern = /^l4[ec]-(\d+)-[0-9a-f]+-/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the namespaces of earlier runs whose test process is gone (a killed run), after ending
 * the servers that run left inside them (by PID, from `ip netns pids`: only processes living in a
 * namespace this harness named, which only this harness starts anything in).
 */
export async function sweepLeftovers(): Promise<string[]> {
  const gone: string[] = [];
  for (const ns of await netnsList()) {
    const m = prefixPattern.exec(ns);
    if (m && !alive(Number(m[1]))) {
      const pids = (await sh('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await netnsDelete(ns);
      gone.push(ns);
    }
  }
  return gone;
}

/** Namespaces whose names start with `prefix` (used to prove teardown left nothing). */
export async function namespacesWithPrefix(prefix: string): Promise<string[]> {
  return (await netnsList()).filter((ns) => ns.startsWith(`${prefix}-`));
}

/** Loopback up and IPv6 off: the state every namespace of a lab starts from. */
export async function baseNamespace(ns: string): Promise<void> {
  await ip(['link', 'set', 'lo', 'up'], ns);
  await sysctl(ns, 'net.ipv6.conf.all.disable_ipv6', 1);
  await sysctl(ns, 'net.ipv6.conf.default.disable_ipv6', 1);
  await sysctl(ns, 'net.ipv6.conf.lo.disable_ipv6', 1);
}

/**
 * Turns IPv6 on for a host's interface and gives it `cidr`, quietly: no duplicate address
 * detection (an address usable at once, no probes on the wire), no router solicitations or
 * advertisements. The sysctls come first: re-enabling IPv6 is what starts DAD and RS.
 */
export async function enableIpv6(ns: string, iface: string, cidr: string): Promise<void> {
  for (const scope of ['all', 'default', iface]) {
    await sysctl(ns, `net.ipv6.conf.${scope}.accept_dad`, 0);
    await sysctl(ns, `net.ipv6.conf.${scope}.accept_ra`, 0);
    await sysctl(ns, `net.ipv6.conf.${scope}.router_solicitations`, 0);
  }
  for (const scope of ['all', 'default', 'lo', iface]) await sysctl(ns, `net.ipv6.conf.${scope}.disable_ipv6`, 0);
  await ip(['addr', 'add', cidr, 'dev', iface, 'nodad'], ns);
}

/** A veth pair created straight inside two namespaces, tx checksum offload (and TSO) off on both. */
export async function link(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
  await ip(['link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB], nsA);
  for (const [ns, ifc] of [[nsA, ifA], [nsB, ifB]] as const) {
    await ethtoolOff(ns, ifc, 'tx');
    // IPv6 was disabled for new interfaces through `default`; repeat per device for certainty.
    await sysctl(ns, `net.ipv6.conf.${ifc}.disable_ipv6`, 1);
  }
}

/** Makes an LB namespace deaf: it sees frames on its veths (af_packet) but its kernel never replies. */
export async function deafLb(ns: string, interfaces: readonly string[]): Promise<void> {
  await sysctl(ns, 'net.ipv4.ip_forward', 0);
  const chains = interfaces
    .map((ifc) => `  chain ingress_${ifc} {\n    type filter hook ingress device "${ifc}" priority 0; policy drop;\n  }`)
    .join('\n');
  await nft(ns, `table netdev l4lb_e2e {\n${chains}\n}\n`);
}

/** Builds the whole topology. On any failure it deletes what it made and rethrows. */
export async function buildTopology(options: TopologyOptions = {}): Promise<Topology> {
  await sweepLeftovers();
  const prefix = `l4e-${process.pid}-${randomBytes(3).toString('hex')}`;
  const built: readonly Role[] = options.secondServerNetwork ? [...roles, 'rs3'] : roles;
  const ns = Object.fromEntries(built.map((r) => [r, `${prefix}-${r}`])) as Record<Role, string>;

  const topo: Topology = {
    prefix,
    ns,
    vdev: (side, index) => `net_af_packet${index},iface=${lbInterfaces[side]}`,
    run: (role, cmd, args, options) => nsRun(ns[role], cmd, args, options),
    spawnIn: (role, cmd, args, options) => nsSpawn(ns[role], cmd, args, options),
    mac: async (role, iface) => {
      const { stdout } = await ip(['-j', 'link', 'show', 'dev', iface], ns[role]);
      return (JSON.parse(stdout) as { address: string }[])[0]!.address;
    },
    destroy: async () => {
      const errors: unknown[] = [];
      for (const r of built) await netnsDelete(ns[r]).catch((err) => errors.push(err));
      if (errors.length) throw new AggregateError(errors, `teardown of ${prefix} failed`);
    },
  };

  try {
    for (const r of built) {
      await netnsAdd(ns[r]);
      await baseNamespace(ns[r]);
    }

    // The switch: plain bridges, no STP (ports forward at once), no addresses.
    const allBridges = [...Object.values(bridges), ...(options.secondServerNetwork ? [secondServerSide.bridge] : [])];
    for (const br of allBridges) {
      await ip(['link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'], ns.sw);
      await ip(['link', 'set', br, 'up'], ns.sw);
    }
    const port = async (swIf: string, br: string, host: Role, hostIf: string): Promise<void> => {
      await link(ns.sw, swIf, ns[host], hostIf);
      await ip(['link', 'set', swIf, 'master', br, 'up'], ns.sw);
    };
    const up = (host: Role, hostIf: string) => ip(['link', 'set', hostIf, 'up'], ns[host]);

    await port('client', bridges.client, 'client', hostInterface);
    await ip(['addr', 'add', `${plan.clientAddress}/24`, 'dev', hostInterface], ns.client);
    if (options.ipv6) await enableIpv6(ns.client, hostInterface, `${plan6.clientAddress}/64`);
    await up('client', hostInterface);

    for (const rs of ['rs1', 'rs2'] as const) {
      await port(rs, bridges.server, rs, hostInterface);
      await ip(['addr', 'add', `${plan.realServers[rs]}/24`, 'dev', hostInterface], ns[rs]);
      if (options.ipv6) await enableIpv6(ns[rs], hostInterface, `${plan6.realServers[rs]}/64`);
      await up(rs, hostInterface);
    }

    if (options.secondServerNetwork) {
      await port('rs3', secondServerSide.bridge, 'rs3', hostInterface);
      await ip(['addr', 'add', `${secondServerSide.realServer}/24`, 'dev', hostInterface], ns.rs3);
      await up('rs3', hostInterface);
    }

    for (const lb of ['lb1', 'lb2'] as const) {
      const interfaces: string[] = [lbInterfaces.client, lbInterfaces.server];
      // The drop chains attach to existing devices, and must be in place before the link is up.
      await port(`${lb}c`, bridges.client, lb, lbInterfaces.client);
      await port(`${lb}s`, bridges.server, lb, lbInterfaces.server);
      if (lb === 'lb1' && options.secondServerNetwork) {
        await port(secondServerSide.switchPort, secondServerSide.bridge, lb, secondServerSide.lbInterface);
        interfaces.push(secondServerSide.lbInterface);
      }
      await deafLb(ns[lb], interfaces);
      for (const ifc of interfaces) await up(lb, ifc);
    }
    return topo;
  } catch (err) {
    await topo.destroy().catch(() => undefined);
    throw err;
  }
}
