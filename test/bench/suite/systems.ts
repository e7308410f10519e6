// The systems under test, each started on the lab, measured, and stopped before the next one
// starts (a busy-polling l4lb left running would take a core from the others):
//   l4lb, l4lb-xdp   the appliance in lb1 (af_packet or af_xdp ports), VIP plan.vips[0]
//   nftables         the kernel in lb2: DNAT with numgen round robin, SNAT to a local address
//   haproxy          HAProxy in lb2, mode tcp, balance roundrobin, from a local address of its own
//   direct           no load balancer: the client talks to rs1 (the ceiling)
// Port 80 is balanced round robin; the iperf3 port by client address, because iperf3's data
// connections must reach the server that holds its control connection.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addService, configureNetwork, startAppliance, type ServicePlan } from '../../e2e/appliance.js';
import { ip, nft, nsRun, nsSpawn, sh, stopChild, sysctl, tryRun, waitFor } from '../../e2e/netns.js';
import { lbInterfaces, plan } from '../../e2e/topology.js';
import { busiestThread, threadTimes } from './cpu.js';
import { clientServerSideAddress, httpPort, iperfPort, type Lab } from './lab.js';

export interface Running {
  /** Where the client sends its traffic (a VIP, or rs1 for direct). */
  readonly address: string;
  /** What the table says about how it ran (ports, threads, settings). */
  readonly settings: string;
  /** What the system itself counted while it ran (drops, misses), for the report; optional. */
  observe?(): Promise<string>;
  stop(): Promise<void>;
}

export interface System {
  readonly name: string;
  /** Starts it; throws a SkipError when this machine cannot run it. */
  start(lab: Lab): Promise<Running>;
}

/** A system this machine cannot run, with the reason to print. */
export class SkipError extends Error {}

export interface L4lbOptions {
  ports: 'af_packet' | 'af_xdp';
  idle: 'busy' | 'adaptive';
  workers: number;
  /** A nice value for every thread of the appliance (negative: ahead of the VM's other work). */
  nice?: number;
}

/** The parts of a NIC's status (openapi.yaml Nic.status) the report quotes. */
interface NicStatus {
  counters?: { rxPackets?: number; drops?: Record<string, number> };
  deviceCounters?: { rxMissed?: number; txErrors?: number };
}

const [lbVip, kernelVip] = plan.vips;
const [lbLocalAddress, kernelLocalAddress] = plan.localAddresses;
/**
 * HAProxy's source address, apart from the nftables SNAT address: a real server keeps TIME_WAIT
 * for 60 s per (local address, port), and a SYN from the same pair with another sender's
 * timestamps is dropped by PAWS, which would charge one system a 1 s SYN retry for the last one.
 */
const haproxySourceAddress = '10.0.2.102';
const servers = { rs1: { address: plan.realServers.rs1 }, rs2: { address: plan.realServers.rs2 } };

async function waitForwarding(lab: Lab, address: string, what: string): Promise<void> {
  await waitFor(`${what} to forward to the real servers`, async () => lab.reaches(address), 50, 200);
}

/** setpriority works per thread on Linux: renice each of the process's threads. */
async function reniceThreads(pid: number, nice: number): Promise<void> {
  for (const tid of readdirSync(`/proc/${pid}/task`)) await sh('renice', ['-n', String(nice), '-p', tid]);
}

export function l4lb(name: string, o: L4lbOptions): System {
  return {
    name,
    start: async (lab) => {
      const driver = o.ports === 'af_packet' ? 'net_af_packet' : 'net_af_xdp';
      const sp: ServicePlan = {
        lb: 'lb1',
        vip: lbVip!,
        localAddress: lbLocalAddress!,
        probe: plan.probeAddresses.lb1,
        vdev: (side) => `${driver}${side === 'client' ? 0 : 1},iface=${lbInterfaces[side]}`,
      };
      let schedBefore: ReturnType<typeof threadTimes> | undefined;
      const appliance = await startAppliance(lab.topo.ns.lb1, ['--idle', o.idle, '--workers', String(o.workers), '--sessions', '262144']);
      try {
        try {
          await configureNetwork(appliance, sp);
        } catch (err) {
          if (o.ports === 'af_xdp') throw new SkipError(`the appliance refused af_xdp ports on the veths: ${(err as Error).message.slice(0, 300)}`);
          throw err;
        }
        if (o.nice !== undefined) await reniceThreads(appliance.child.pid!, o.nice);
        await addService(appliance, sp, 'web', httpPort, 'tcp', 'rr', servers);
        await addService(appliance, sp, 'iperf', iperfPort, 'tcp', 'sh', servers);
        await waitForwarding(lab, lbVip!, name);
        schedBefore = threadTimes(appliance.child.pid!);
      } catch (err) {
        const log = appliance.log();
        await appliance.stop('SIGKILL');
        if (err instanceof SkipError) throw err;
        throw new Error(`${name}: ${(err as Error).message}\n${log.slice(-2000)}`);
      }
      return {
        address: lbVip!,
        settings: `${o.ports} ports on the veths, ${o.workers} worker, --idle ${o.idle}${o.nice === undefined ? '' : `, every thread at nice ${o.nice}`}`,
        observe: async () => {
          const parts: string[] = [];
          for (const nic of ['client', 'server']) {
            const status = (await appliance.ok('GET', `/api/v1/nics/${nic}`)).status as NicStatus;
            const counts = { ...status.counters?.drops, rxMissed: status.deviceCounters?.rxMissed, txErrors: status.deviceCounters?.txErrors };
            const nonzero = Object.entries(counts).filter(([, n]) => typeof n === 'number' && n > 0);
            parts.push(`${nic} NIC ${status.counters?.rxPackets ?? 0} frames in, drops ${nonzero.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
          }
          if (schedBefore) {
            const worker = busiestThread(schedBefore, threadTimes(appliance.child.pid!));
            parts.push(`busiest thread (the worker) on a CPU ${(worker.ran * 100).toFixed(0)} % of the round, runnable but waiting for one ${(worker.waited * 100).toFixed(0)} %`);
          }
          return parts.join('; ');
        },
        stop: () => appliance.stop(),
      };
    },
  };
}

/** Gives lb2's kernel the addresses and forwarding the e2e harness keeps it from having. */
async function kernelLb(lab: Lab): Promise<void> {
  const ns = lab.topo.ns.lb2;
  const { stdout } = await ip(['-j', 'addr', 'show', 'dev', lbInterfaces.client], ns);
  if (stdout.includes(kernelVip!)) return;
  // The harness's ingress drop chains keep lb2 deaf for l4lb; a kernel LB must hear.
  await tryRun('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'netdev', 'l4lb_e2e']);
  await ip(['addr', 'add', plan.probeAddresses.lb2.client, 'dev', lbInterfaces.client], ns);
  await ip(['addr', 'add', `${kernelVip}/32`, 'dev', lbInterfaces.client], ns);
  await ip(['addr', 'add', plan.probeAddresses.lb2.server, 'dev', lbInterfaces.server], ns);
  await ip(['addr', 'add', `${kernelLocalAddress}/32`, 'dev', lbInterfaces.server], ns);
  await ip(['addr', 'add', `${haproxySourceAddress}/32`, 'dev', lbInterfaces.server], ns);
  await sysctl(ns, 'net.ipv4.ip_forward', 1);
}

export const nftables: System = {
  name: 'nftables',
  start: async (lab) => {
    await kernelLb(lab);
    const ns = lab.topo.ns.lb2;
    const rs = `{ 0 : ${plan.realServers.rs1}, 1 : ${plan.realServers.rs2} }`;
    await nft(ns, `table ip l4lb_bench {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr ${kernelVip} tcp dport ${httpPort} dnat to numgen inc mod 2 map ${rs}
    ip daddr ${kernelVip} tcp dport ${iperfPort} dnat to jhash ip saddr mod 2 map ${rs}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ct status dnat oifname "${lbInterfaces.server}" snat to ${kernelLocalAddress}
  }
}
`);
    // conntrack keeps TIME_WAIT 120 s by default, so SNAT runs out of local ports after 64k
    // short connections in two minutes; 7 s is l4lb's (and DPVS's) TIME_WAIT. (The key exists
    // once the ruleset above has loaded conntrack.)
    await sysctl(ns, 'net.netfilter.nf_conntrack_tcp_timeout_time_wait', 7);
    await waitForwarding(lab, kernelVip!, 'nftables');
    return {
      address: kernelVip!,
      settings: 'nftables DNAT (numgen inc mod 2) + SNAT, conntrack TIME_WAIT 7 s, forwarding in softirq',
      stop: async () => {
        await nsRun(ns, 'nft', ['delete', 'table', 'ip', 'l4lb_bench']);
      },
    };
  },
};

function haproxyConfig(): string {
  const backend = (name: string, port: number, balance: string) => `backend ${name}
  balance ${balance}
  source ${haproxySourceAddress}
  server rs1 ${plan.realServers.rs1}:${port}
  server rs2 ${plan.realServers.rs2}:${port}
`;
  return `# written by test/bench/suite/systems.ts for one run
global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend web
  bind ${kernelVip}:${httpPort}
  default_backend web
frontend iperf
  bind ${kernelVip}:${iperfPort}
  default_backend iperf
${backend('web', httpPort, 'roundrobin')}${backend('iperf', iperfPort, 'source')}`;
}

export const haproxy: System = {
  name: 'haproxy',
  start: async (lab) => {
    await kernelLb(lab);
    const dir = mkdtempSync(join(tmpdir(), 'l4lb-bench-haproxy-'));
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig());
    const child = nsSpawn(lab.topo.ns.lb2, 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    const stop = async () => {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await waitForwarding(lab, kernelVip!, 'haproxy');
    } catch (err) {
      await stop();
      throw new Error(`haproxy: ${(err as Error).message}\n${stderr}`);
    }
    return { address: kernelVip!, settings: `HAProxy mode tcp, 1 thread, balance roundrobin, source ${haproxySourceAddress}`, stop };
  },
};

export const direct: System = {
  name: 'direct',
  start: async (lab) => {
    await waitForwarding(lab, plan.realServers.rs1, 'rs1');
    return { address: plan.realServers.rs1, settings: `client ${clientServerSideAddress} → rs1 over one bridge, no load balancer`, stop: async () => undefined };
  },
};

/** Every system by name, in the order a repeat measures them. */
export function allSystems(workers: number): System[] {
  return [
    l4lb('l4lb', { ports: 'af_packet', idle: 'busy', workers }),
    l4lb('l4lb-xdp', { ports: 'af_xdp', idle: 'busy', workers }),
    l4lb('l4lb-adaptive', { ports: 'af_packet', idle: 'adaptive', workers }),
    l4lb('l4lb-nice', { ports: 'af_packet', idle: 'busy', workers, nice: -10 }),
    nftables,
    haproxy,
    direct,
  ];
}
