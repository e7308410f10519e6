// New sessions at a chosen rate for the sync benchmark: trafgen (netsniff-ng) in the client
// namespace sends TCP SYNs straight to the active appliance's client-side MAC, each from a
// new (address, port) of the client network, so every SYN opens one session and writes one
// sync record. The real servers drop them (nftables), so nothing else moves: what the
// benchmark then sees replicated is the session opening alone.
//
// Sources: a block of 50 addresses of the client network (10.0.1.100–149, 150–199 or 200–249)
// × ports 1024–65535, advancing together (lcm: 1.6 M distinct flows); each run of the
// benchmark takes its own block, since trafgen starts every run from the same values.

import { nft, nsRun } from '../../e2e/netns.js';
import { hostInterface, lbInterfaces, type Topology } from '../../e2e/topology.js';

export const synPort = 9000;
export type SourceBlock = 0 | 1 | 2;

/** The trafgen packet description: one SYN whose source address and port advance per frame. */
export function synConfig(destinationMac: string, sourceMac: string, vip: string, block: SourceBlock): string {
  const first = 100 + 50 * block;
  return `{
  eth(da=${destinationMac}, sa=${sourceMac}),
  ipv4(sa=10.0.1.${first}, da=${vip}, ttl=64, sa[3]=dinc(${first}, ${first + 49})),
  tcp(sp=dinc(1024, 65535), dp=${synPort}, seq=drnd(), syn, win=65535)
}`;
}

/** Makes the real servers drop SYNs to the benchmark's port (no answers, no resets); either lab. */
export async function dropAtRealServers(topo: { ns: Record<'rs1' | 'rs2', string> }): Promise<void> {
  for (const rs of ['rs1', 'rs2'] as const)
    await nft(topo.ns[rs], `table inet l4lb_bench {\n  chain syn_sink {\n    type filter hook input priority 0;\n    tcp dport ${synPort} drop\n  }\n}\n`);
}

export interface SynRun {
  sent: number;
  seconds: number;
}

/** Where trafgen sends from: a namespace and its interface, and the next hop's MAC. */
export interface SynPath {
  ns: string;
  device: string;
  sourceMac: string;
  destinationMac: string;
}

/**
 * Sends `count` SYNs of new flows from source `block` towards `vip` along `path`, at `rate` per
 * second (undefined: as fast as trafgen goes on one CPU). Bounded by `count` and a timeout.
 */
export async function sendSynsAlong(path: SynPath, vip: string, block: SourceBlock, count: number, rate?: number): Promise<SynRun> {
  const config = synConfig(path.destinationMac, path.sourceMac, vip, block);
  const args = ['--dev', path.device, '--conf', '-', '--cpus', '1', '--num', String(count), '--no-sock-mem', '--notouch-irq', '--no-cpu-stats'];
  if (rate) args.push('--rate', `${rate}pps`);
  const timeoutMs = 10_000 + (rate ? (count / rate) * 2000 : count / 20);
  const start = process.hrtime.bigint();
  await nsRun(path.ns, 'trafgen', args, { input: config, timeoutMs });
  return { sent: count, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/** sendSynsAlong from the sync lab's client straight to `lb`'s client-side interface. */
export async function sendSyns(topo: Topology, lb: 'lb1' | 'lb2', vip: string, block: SourceBlock, count: number, rate?: number): Promise<SynRun> {
  const path = { ns: topo.ns.client, device: hostInterface, sourceMac: await topo.mac('client', hostInterface), destinationMac: await topo.mac(lb, lbInterfaces.client) };
  return sendSynsAlong(path, vip, block, count, rate);
}
