// The whole machine's CPU time over a stretch (from /proc/stat), in cores: how much of the two
// vCPUs a workload kept busy, and how much of it was softirq (where the kernel forwards
// packets, for nftables, and where veth delivery lands for everyone). It counts every process
// on the VM, the other engineers' builds included, so it is read beside the load average.

import { readdirSync, readFileSync } from 'node:fs';

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

/** Per thread of a process: nanoseconds on a CPU and waiting runnable for one (schedstat). */
export function threadTimes(pid: number): { at: number; threads: Map<string, { runNs: number; waitNs: number }> } {
  const threads = new Map<string, { runNs: number; waitNs: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      threads.set(tid, { runNs: run ?? 0, waitNs: wait ?? 0 });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return { at: performance.now(), threads };
}

/**
 * The thread that ran most between two readings (the polling worker, for l4lb): the share of the
 * wall time it ran, and the share it was runnable but waiting, preempted by other work.
 */
export function busiestThread(a: ReturnType<typeof threadTimes>, b: ReturnType<typeof threadTimes>): { ran: number; waited: number } {
  const wallNs = (b.at - a.at) * 1e6;
  let best = { ran: 0, waited: 0 };
  for (const [tid, t] of b.threads) {
    const before = a.threads.get(tid) ?? { runNs: 0, waitNs: 0 };
    const ran = (t.runNs - before.runNs) / wallNs;
    if (ran > best.ran) best = { ran, waited: (t.waitNs - before.waitNs) / wallNs };
  }
  return best;
}

/** CPU seconds a process has used so far, all its threads, user and system (/proc/PID/stat). */
export function processCpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces) start at the state, field 3.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;   // utime, stime: fields 14 and 15
}
