// The soak (issue 9, item 6): traffic, configuration churn and faults together for a chosen
// time against one appliance (the fault test's bench, test/e2e/fault-lab.ts), printing a line
// every interval and a summary at the end whose verdict is about memory: an appliance that
// runs for weeks must not grow. Samples go to bench-out/soak-<timestamp>.json.
// Run as root through scripts/soak.sh [--minutes N].

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectFile } from '../../lib/project-files.js';
import { services, startFaultLab } from '../e2e/fault-lab.js';
import { waitFor } from '../e2e/netns.js';
import { waitSyncState } from '../e2e/sync-lab.js';
import { startTrafficWatch, unexplained, type AllowedWindow } from '../e2e/traffic-watch.js';
import { churn } from './churn.js';
import { playFaults } from './faults.js';
import { formatSample, sample, type Sample } from './sampler.js';

/** Growth of the appliance's resident memory still called flat (see `settledGrowth`). */
const flatGrowthPercent = 10;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'interval-s': { type: 'string', default: '30' },
    'fault-every-s': { type: 'string', default: '20' },
    'churn-ms': { type: 'string', default: '250' },
  },
});
const minutes = Number(values.minutes);
const intervalMs = Number(values['interval-s']) * 1000;
if (!(minutes > 0 && minutes <= 24 * 60) || !(intervalMs >= 1000)) {
  console.error('usage: soak [--minutes N (0–1440]] [--interval-s S (≥ 1)] [--fault-every-s S] [--churn-ms MS]');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('soak: needs root (network namespaces, nftables)');
  process.exit(1);
}

const growth = (first: number, last: number) => Math.round(((last - first) / first) * 1000) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Growth from the median of the first third of the samples to the median of the last third:
 * a garbage collection moves a single sample by ±20 % (measured), a leak moves the medians.
 */
function settledGrowth(rss: number[]): number {
  const third = Math.max(1, Math.floor(rss.length / 3));
  return growth(median(rss.slice(0, third)), median(rss.slice(-third)));
}

async function main(): Promise<void> {
  const lab = await startFaultLab();
  let deadline = Date.now() + minutes * 60_000;
  const stop = () => (deadline = Date.now());
  process.once('SIGINT', stop).once('SIGTERM', stop);
  const redis = lab.redis.client();
  // ioredis logs reconnection errors itself when nothing listens: a Redis fault is expected.
  redis.on('error', () => undefined);
  const watch = startTrafficWatch(lab.topo.ns.client, services.web.vip, services.web.port, { lifetimeMs: minutes * 60_000 + 120_000 });
  const windows: AllowedWindow[] = [];
  const samples: Sample[] = [];
  try {
    for (const rs of ['rs1', 'rs2']) await lab.waitHealth('web', rs, 'server', 'up');
    await waitSyncState(lab.lb, 'synced');
    await watch.waitProgress('new', 5);
    const startedAt = Date.now();
    const until = () => Date.now() >= deadline;
    console.log(`soak: ${minutes} min, a sample every ${intervalMs / 1000} s; appliance PID ${lab.lb.child.pid}, session table ${lab.capacity}`);
    const churning = churn(lab.lb, Number(values['churn-ms']), until);
    const faulting = playFaults(lab, Number(values['fault-every-s']) * 1000, until, windows);
    const sampling = (async () => {
      for (let next = startedAt; ; ) {
        samples.push(await sample(lab, watch, redis, startedAt));
        console.log(formatSample(samples.at(-1)!));
        next += intervalMs;
        if (next > deadline) return;
        await waitFor('the next sample', async () => until() || Date.now() >= next, Math.ceil(intervalMs / 200) + 10, 200);
      }
    })();
    const [churned, played] = await Promise.all([churning, faulting, sampling]);
    samples.push(await sample(lab, watch, redis, startedAt));
    console.log(formatSample(samples.at(-1)!));

    const first = samples[0]!;
    const last = samples.at(-1)!;
    const rssGrowth = growth(first.rssKb, last.rssKb);
    const rssSettled = settledGrowth(samples.map((s) => s.rssKb));
    const surprises = unexplained(watch.failures, windows);
    const faultErrors = played.filter((f) => f.error);
    const summary = {
      minutes,
      served: last.served,
      trafficErrors: last.errors,
      unexplainedTrafficErrors: surprises.length,
      churn: churned,
      faults: played,
      appliance: { pid: lab.lb.child.pid, stillRunning: lab.lb.child.exitCode === null },
      rssKb: { first: first.rssKb, last: last.rssKb, max: Math.max(...samples.map((s) => s.rssKb)), growthPercent: rssGrowth, thirdsGrowthPercent: rssSettled },
      heapUsedBytes: { first: first.heapUsedBytes, last: last.heapUsedBytes, growthPercent: growth(first.heapUsedBytes, last.heapUsedBytes) },
      verdict: rssSettled < flatGrowthPercent ? 'flat' : 'growing',
    };
    const faultCounts = played.reduce<Record<string, number>>((c, f) => ({ ...c, [f.fault]: (c[f.fault] ?? 0) + 1 }), {});
    console.log(`\nsoak summary: ${summary.served} served; traffic errors ${JSON.stringify(summary.trafficErrors)} (${surprises.length} outside a fault's window)`);
    console.log(`  config writes ${churned.writes}, refused ${JSON.stringify(churned.errors)}; faults ${JSON.stringify(faultCounts)}, not recovered ${faultErrors.length}${faultErrors.length ? `: ${faultErrors.map((f) => `${f.fault}: ${f.error}`).join('; ')}` : ''}`);
    console.log(`  appliance RSS ${(first.rssKb / 1024).toFixed(1)} → ${(last.rssKb / 1024).toFixed(1)} MB (${rssGrowth} %; first third's median to last third's ${rssSettled} %), heap ${(first.heapUsedBytes / 1048576).toFixed(1)} → ${(last.heapUsedBytes / 1048576).toFixed(1)} MB; verdict: ${summary.verdict} (flat: under ${flatGrowthPercent} %)`);
    const out = projectFile('bench-out', `soak-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify({ summary, samples, unexplained: surprises }, null, 2));
    console.log(`  samples: ${out}`);
  } finally {
    redis.disconnect();
    await watch.close();
    await lab.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
