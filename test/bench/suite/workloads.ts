// The workloads, each run from the client namespace against one address, bounded in time:
//   cps         wrk, one small request per connection (`Connection: close`): connections per second
//   rps         wrk on keep-alive connections: requests per second
//   throughput  iperf3 with a few parallel long flows: Gbit/s received
//   latency     paced-client.ts at a fixed rate below saturation: p50 and p99 in ms
// Each returns its figures and the errors the tool reported, so a figure bought with failed
// requests is visible in the report.

import { projectFile } from '../../../lib/project-files.js';
import type { Lab } from './lab.js';
import { httpPort, iperfPort } from './lab.js';
import type { Metric } from './report.js';

export interface WorkloadSettings {
  seconds: number;
  /** wrk connections (cps and rps). */
  connections: number;
  /** Connections per second offered by the latency workload. */
  rate: number;
  /** Parallel iperf3 flows. */
  flows: number;
}

export interface Measurement {
  metric: Metric;
  value: number;
  /** Requests or connections that failed (0 for iperf3, which fails as a whole). */
  errors: number;
}

export interface Workload {
  readonly name: string;
  run(lab: Lab, address: string, s: WorkloadSettings): Promise<Measurement[]>;
}

const slackMs = 20_000;

/** Requests/sec and the error counts from wrk's text output. */
export function parseWrk(output: string): { perSecond: number; errors: number } {
  const perSecond = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!perSecond) throw new Error(`wrk printed no Requests/sec:\n${output}`);
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  // wrk counts a server's close after a `Connection: close` answer as a read "error"; only
  // connect, write and timeout errors mean lost work.
  if (socket) errors += Number(socket[1]) + Number(socket[3]) + Number(socket[4]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (non2xx) errors += Number(non2xx[1]);
  return { perSecond: Number(perSecond[1]), errors };
}

async function wrk(lab: Lab, address: string, s: WorkloadSettings, close: boolean): Promise<{ perSecond: number; errors: number }> {
  const args = ['-t1', `-c${s.connections}`, `-d${s.seconds}s`, '--timeout', '2s'];
  if (close) args.push('-H', 'Connection: close');
  const { stdout } = await lab.topo.run('client', 'wrk', [...args, `http://${address}:${httpPort}/`], { timeoutMs: s.seconds * 1000 + slackMs });
  return parseWrk(stdout);
}

export const connectionsPerSecond: Workload = {
  name: 'cps',
  run: async (lab, address, s) => {
    const r = await wrk(lab, address, s, true);
    return [{ metric: 'cps', value: r.perSecond, errors: r.errors }];
  },
};

export const requestsPerSecond: Workload = {
  name: 'rps',
  run: async (lab, address, s) => {
    const r = await wrk(lab, address, s, false);
    return [{ metric: 'rps', value: r.perSecond, errors: r.errors }];
  },
};

interface IperfResult {
  end?: { sum_received?: { bits_per_second?: number } };
  error?: string;
}

export const throughput: Workload = {
  name: 'throughput',
  run: async (lab, address, s) => {
    const args = ['-c', address, '-p', String(iperfPort), '-P', String(s.flows), '-t', String(s.seconds), '-J'];
    const { stdout } = await lab.topo.run('client', 'iperf3', args, { timeoutMs: s.seconds * 1000 + slackMs });
    const r = JSON.parse(stdout) as IperfResult;
    const bps = r.end?.sum_received?.bits_per_second;
    if (r.error || bps === undefined) throw new Error(`iperf3 to ${address}: ${r.error ?? 'no sum_received'}`);
    return [{ metric: 'throughput', value: bps / 1e9, errors: 0 }];
  },
};

interface PacedResult {
  sent: number;
  ok: number;
  failed: number;
  late: number;
  p50Ms: number;
  p99Ms: number;
}

export const latency: Workload = {
  name: 'latency',
  run: async (lab, address, s) => {
    const script = projectFile('dist/test/bench/suite/paced-client.js');
    const { stdout } = await lab.topo.run('client', process.execPath, [script, address, String(httpPort), String(s.rate), String(s.seconds)], {
      timeoutMs: s.seconds * 1000 + slackMs,
    });
    const r = JSON.parse(stdout) as PacedResult;
    const errors = r.failed + r.late;
    return [
      { metric: 'p50', value: r.p50Ms, errors },
      { metric: 'p99', value: r.p99Ms, errors },
    ];
  },
};

export const allWorkloads: readonly Workload[] = [connectionsPerSecond, requestsPerSecond, throughput, latency];
