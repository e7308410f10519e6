// What the numbers were measured on: CPU, cores, memory, kernel, tool versions, and what else
// was using the machine (load average and the busiest processes), since the VM is shared.

import { cpus, loadavg, release, totalmem } from 'node:os';
import { projectFile } from '../../../lib/project-files.js';
import { tryRun } from '../../e2e/netns.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  versions: Record<string, string>;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverage: number[];
  /** The busiest other processes when the run started (%CPU over one second, command). */
  busiest: string[];
}

/** The first line of a tool's version output, or "missing". */
async function version(cmd: string, args: string[]): Promise<string> {
  const r = await tryRun(cmd, args);
  const text = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim() !== '');
  return r.ok || text ? (text ?? '').trim().slice(0, 80) : 'missing';
}

export async function describeMachine(): Promise<Machine> {
  // top's second frame is the CPU use over the last second (ps would give lifetime averages).
  const top = await tryRun('top', ['-b', '-n', '2', '-d', '1', '-w', '200', '-o', '%CPU']);
  const lastFrame = top.stdout.split(/^\s*PID\s+USER.*$/m).pop() ?? '';
  const busiest = lastFrame
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 12 && Number(f[0]) !== process.pid && Number(f[8]) > 0)
    .slice(0, 5)
    .map((f) => `${f[8]} ${f.slice(11).join(' ')}`);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    versions: {
      // The tree the run built (others commit while it runs: "-dirty" says it had local edits).
      l4lb: await version('git', ['-C', projectFile(), 'describe', '--always', '--dirty']),
      node: process.version,
      dpdk: await version('pkg-config', ['--modversion', 'libdpdk']),
      wrk: await version('wrk', ['-v']),
      iperf3: await version('iperf3', ['-v']),
      haproxy: await version('haproxy', ['-v']),
      nftables: await version('nft', ['-v']),
      nginx: await version('nginx', ['-v']),
    },
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    busiest,
  };
}

export function machineLines(m: Machine): string[] {
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; kernel ${m.kernel}`,
    `- versions: ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join('; ')}`,
    `- load average at start: ${m.loadAverage.join(', ')}; busiest other processes (% CPU): ${m.busiest.join('; ') || 'none'}`,
  ];
}
