// What the soak records every interval: traffic served and failed, the appliance's memory
// (its resident set from /proc: it runs in a namespace but is a process of this host; the
// Node heap from its own metrics), live sessions, and Redis's memory.

import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { FaultLab } from '../e2e/fault-lab.js';
import { failureCounts, type TrafficWatch } from '../e2e/traffic-watch.js';

export interface Sample {
  elapsedS: number;
  /** Keep-alive requests answered plus new connections that completed, since the start. */
  served: number;
  /** Traffic failures by kind and error, since the start. */
  errors: Record<string, number>;
  rssKb: number;
  heapUsedBytes: number;
  sessions: number;
  /** null while Redis is away (a fault may be under way). */
  redisUsedBytes: number | null;
}

export function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

async function redisUsedBytes(redis: Redis): Promise<number | null> {
  try {
    const info = await redis.info('memory');
    return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
  } catch {
    return null;
  }
}

export async function sample(lab: FaultLab, watch: TrafficWatch, redis: Redis, startedAt: number): Promise<Sample> {
  const m = await lab.metrics();
  const totals = watch.totals();
  return {
    elapsedS: Math.round((Date.now() - startedAt) / 1000),
    served: totals.keepalive + totals.new,
    errors: failureCounts(watch.failures),
    rssKb: rssKb(lab.lb.child.pid!),
    heapUsedBytes: m('l4lb_nodejs_heap_size_used_bytes'),
    sessions: m('l4lb_sessions'),
    redisUsedBytes: await redisUsedBytes(redis),
  };
}

export function formatSample(s: Sample): string {
  const errors = Object.entries(s.errors).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const mb = (bytes: number | null) => (bytes === null ? '-' : (bytes / 1048576).toFixed(1));
  return `${String(s.elapsedS).padStart(5)} s  served ${s.served}  sessions ${s.sessions}  rss ${(s.rssKb / 1024).toFixed(1)} MB  heap ${mb(s.heapUsedBytes)} MB  redis ${mb(s.redisUsedBytes)} MB  errors ${errors}`;
}
