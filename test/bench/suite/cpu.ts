// The whole machine's CPU time over a stretch (from /proc/stat), in cores: how much of the two
// vCPUs a workload kept busy, and how much of it was softirq (where the kernel forwards
// packets, for nftables, and where veth delivery lands for everyone). It counts every process
// on the VM, the other engineers' builds included, so it is read beside the load average.

import { readFileSync } from 'node:fs';

export interface CpuTimes {
  /** Jiffies per state, summed over every CPU: user nice system idle iowait irq softirq steal. */
  readonly fields: readonly number[];
  readonly at: number;
}

export interface CpuUse {
  /** Cores busy on average (non-idle, non-iowait time / wall time). */
  busyCores: number;
  softirqCores: number;
}

export function readCpu(): CpuTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  return { fields: line.trim().split(/\s+/).slice(1, 9).map(Number), at: performance.now() };
}

/** Cores used between two readings (USER_HZ is 100 on Linux). */
export function cpuBetween(a: CpuTimes, b: CpuTimes): CpuUse {
  const d = b.fields.map((v, i) => v - (a.fields[i] ?? 0));
  const seconds = (b.at - a.at) / 1000;
  const jiffies = 100 * seconds;
  const idle = (d[3] ?? 0) + (d[4] ?? 0);
  const total = d.reduce((x, y) => x + y, 0);
  return { busyCores: (total - idle) / jiffies, softirqCores: (d[6] ?? 0) / jiffies };
}
