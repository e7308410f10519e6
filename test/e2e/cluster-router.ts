// The lab's router: bird2 in the router namespace peering by BGP (with BFD) with every LB node,
// installing what they announce into the kernel with `merge paths`, so a prefix announced by
// several nodes becomes one multipath route; the kernel hashes flows over its next hops by
// addresses and ports (fib_multipath_hash_policy=1, set by the topology).

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ip, nsSpawn, stopChild, waitFor } from './netns.js';
import { clusterNodes, clusterPlan, nodeIndex, routerLbInterface } from './cluster-topology.js';

function routerConfig(): string {
  const neighbours = clusterNodes
    .map((node) => `protocol bgp ${node} from lb { neighbor 10.0.5.${nodeIndex(node)} as ${clusterPlan.lbAsn}; }`)
    .join('\n');
  return `router id ${clusterPlan.routerLbSide};
protocol device { scan time 10; }
protocol kernel {
  ipv4 { import none; export all; };
  merge paths yes;
}
protocol bfd {
  interface "${routerLbInterface}" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
template bgp lb {
  local ${clusterPlan.routerLbSide} as ${clusterPlan.routerAsn};
  direct;
  bfd on;
  hold time 9;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export none; };
}
${neighbours}
`;
}

export interface Router {
  /** bird's control socket (for `birdc -s`). */
  readonly socket: string;
  /** The next hops of the kernel's route for `prefix` (empty when there is none), sorted. */
  nextHops(prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

interface KernelRoute {
  dst: string;
  gateway?: string;
  nexthops?: { gateway: string }[];
}

export async function startRouter(ns: string): Promise<Router> {
  const dir = mkdtempSync(join(tmpdir(), 'l4c-router-'));
  const conf = join(dir, 'bird.conf');
  writeFileSync(conf, routerConfig());
  const socket = join(dir, 'bird.ctl');
  const child: ChildProcess = nsSpawn(ns, 'bird', ['-f', '-c', conf, '-s', socket]);
  let output = '';
  const keep = (d: Buffer) => {
    if (output.length < 16384) output += d.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const router: Router = {
    socket,
    nextHops: async (prefix) => {
      const { stdout } = await ip(['-j', 'route', 'show', prefix], ns);
      const route = (JSON.parse(stdout || '[]') as KernelRoute[]).find((r) => r.dst === prefix.replace(/\/32$/, ''));
      if (!route) return [];
      return (route.nexthops?.map((h) => h.gateway) ?? (route.gateway ? [route.gateway] : [])).sort();
    },
    stop: async () => {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitFor('the router bird to start', async () => {
    if (child.exitCode !== null) throw new Error(`bird exited (${child.exitCode}): ${output}`);
    return (await ip(['link', 'show', routerLbInterface], ns)).stdout.length > 0 && child.pid !== undefined;
  });
  return router;
}
