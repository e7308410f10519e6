// A bounded SYN flood from the client namespace (test/e2e/syn-flood.py, python3 with a raw
// socket: nothing to install beyond scripts/setup.sh's python3). The made-up clients are hosts
// of the client network that no namespace owns, so the SYN-ACKs find nobody and every SYN
// leaves a half-open session behind.

import { projectFile } from '../../lib/project-files.js';
import type { Topology } from './topology.js';
import { plan } from './topology.js';

export interface SynFloodOptions {
  address: string;
  port: number;
  count: number;
  /** SYNs per second. */
  rate: number;
  /** Hard bound on the run, whatever count and rate say. */
  maxSeconds: number;
}

export interface SynFloodResult {
  sent: number;
  seconds: number;
}

/** Made-up sources: hosts 64–254 of the client network (the plan uses only the low ones). */
const sources = { first: 64, last: 254 } as const;

export async function synFlood(topo: Topology, o: SynFloodOptions): Promise<SynFloodResult> {
  const args = [
    projectFile('test/e2e/syn-flood.py'),
    '--dst', o.address, '--dport', String(o.port), '--count', String(o.count), '--rate', String(o.rate),
    '--max-seconds', String(o.maxSeconds), '--src-net', plan.clientNetwork, '--src-first', String(sources.first), '--src-last', String(sources.last),
  ];
  const { stdout } = await topo.run('client', 'python3', args, { timeoutMs: (o.maxSeconds + 10) * 1000 });
  return JSON.parse(stdout) as SynFloodResult;
}
