// npm run bench:sync — how fast sessions replicate, how late, and what a failover costs an
// open connection, with Redis Pub/Sub alone measured beside it on the same redis in the same
// run. Two appliances (lb1 active, lb2 backup, --workers each) share one redis in the sync
// test lab (test/e2e/sync-lab.ts); trafgen opens sessions on lb1 (syn-load.ts).
//
//   1. baseline   Redis alone: records/s through Pub/Sub in bridge-sized batches; lag at the
//                 fixed rate in 1 ms batches (redis-baseline.ts)
//   2. live       a burst of SYNs as fast as trafgen goes: sessions lb1 opened and lb2 holds,
//                 per second from the first SYN until lb2's count stops growing
//   3. lag        SYNs at the fixed rate: lb2's l4lb_sync_lag_seconds over the phase
//   4. snapshot   a fresh lb2 joins: lb1's whole table crosses as a snapshot; sessions/s
//   5. failover   100 echo connections, kill -9 lb1, promote lb2: each connection's stall
//   6. cluster    three multi-active nodes behind the cluster lab's router (cluster-phase.ts),
//                 SYNs at the fixed rate spread by ECMP: records each node publishes and
//                 installs per second, and its CPU per 100k records/s, beside the pair's
//                 figures from phase 3 (replication-cost.ts)
//
// Usage (root): npm run bench:sync [-- --sessions N] [--rate R] [--seconds S] [--workers W] [--out FILE]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Appliance } from '../../e2e/appliance.js';
import { startEchoClients, stallSummary } from '../../e2e/echo-clients.js';
import { requireRoot, waitFor } from '../../e2e/netns.js';
import { services, startSyncLab, vip, waitSyncState, type SyncLab } from '../../e2e/sync-lab.js';
import { plan } from '../../e2e/topology.js';
import { describeMachine } from '../suite/machine.js';
import { histogramBuckets, histogramQuantile, sampleSum } from './quantiles.js';
import { clusterReplication } from './cluster-phase.js';
import { redisCeiling, redisLag } from './redis-baseline.js';
import { replicationCost, type NodeCost } from './replication-cost.js';
import { dropAtRealServers, sendSyns, synPort } from './syn-load.js';

interface Row {
  metric: string;
  l4lb: number;
  baseline?: number;
  unit: string;
  target?: string;
  note?: string;
}

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '50000' },
    seconds: { type: 'string', default: '5' },
    workers: { type: 'string', default: '1' },
    out: { type: 'string', default: 'var/bench/sync.json' },
  },
});
const sessions = Number(args.sessions);
const rate = Number(args.rate);
const seconds = Number(args.seconds);
// One worker each by default: two appliances of two busy-polling workers would oversubscribe
// this 2-vCPU machine four times before Redis, trafgen and the kernel get a cycle.
const workers = Number(args.workers);

const scrape = async (a: Appliance): Promise<string> => (await a.api('GET', '/metrics')).body as string;
const held = async (a: Appliance): Promise<number> => sampleSum(await scrape(a), 'l4lb_sessions');

/**
 * The bench's own service on both appliances: SYN-only flows kept for the whole run, from a
 * pool of their own (8 local addresses: 516k ports) so the lab's services keep theirs.
 */
async function addSynService(a: Appliance): Promise<void> {
  const addresses = Array.from({ length: 8 }, (_, i) => `10.0.2.${150 + i}`);
  await a.ok('PUT', '/api/v1/local-address-pools/syn-lips', { nic: 'server', addresses });
  await a.ok('PUT', '/api/v1/virtual-services/syn', {
    address: vip, port: synPort, protocol: 'tcp', nic: 'client', localAddressPool: 'syn-lips', scheduler: 'rr',
    timeouts: { tcpSynRecv: 600 },
  });
  for (const rs of ['rs1', 'rs2'] as const)
    await a.ok('PUT', `/api/v1/virtual-services/syn/real-servers/${rs}`, { address: plan.realServers[rs], port: synPort });
}

interface Settled {
  count: number;
  /** performance.now() when the count last grew. */
  at: number;
}

/**
 * Watches the session counts of `appliances` together (every 50 ms) until each holds `want`
 * or none has grown for 2 s; returns each one's count and when it last grew.
 */
async function whenSettled(appliances: Appliance[], want: number, since: number): Promise<Settled[]> {
  const last = appliances.map(() => ({ count: -1, at: since }));
  for (let quiet = 0; quiet < 40 && last.some((l) => l.count < want); ) {
    const counts = await Promise.all(appliances.map(held));
    const grew = counts.map((count, i) => count > last[i].count);
    counts.forEach((count, i) => grew[i] && (last[i] = { count, at: performance.now() }));
    quiet = grew.some(Boolean) ? 0 : quiet + 1;
    await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}

async function startPair(lab: SyncLab): Promise<{ lb1: Appliance; lb2: Appliance }> {
  const lb1 = await lab.startLb('lb1', { enabled: true, role: 'active', configureMore: addSynService });
  const lb2 = await lab.startLb('lb2', { enabled: true, role: 'backup', configureMore: addSynService });
  await waitSyncState(lb1, 'synced');
  await waitSyncState(lb2, 'synced');
  return { lb1, lb2 };
}

/** The pair's replication cost during phase 3, for phase 6 to compare with. */
const pairCost: NodeCost[] = [];

async function run(lab: SyncLab): Promise<Row[]> {
  const rows: Row[] = [];
  await dropAtRealServers(lab.topo);
  const { lb1, lb2 } = await startPair(lab);

  console.log('baseline: Redis Pub/Sub alone');
  const ceiling = await redisCeiling(lab.redis.socket, 2000, 512);
  const quietLag = await redisLag(lab.redis.socket, rate, seconds);

  console.log(`live: ${sessions} SYNs as fast as trafgen sends`);
  const before = await held(lb2);
  const t0 = performance.now();
  const [syn, [opened, replicated]] = await Promise.all([
    sendSyns(lab.topo, 'lb1', vip, 0, sessions),
    whenSettled([lb1, lb2], before + sessions, performance.now()),
  ]);
  const liveRate = (replicated.count - before) / ((replicated.at - t0) / 1000);
  console.log(`  trafgen ${Math.round(syn.sent / syn.seconds)}/s, lb1 holds ${opened.count}, lb2 ${replicated.count}`);
  rows.push({ metric: 'sessions replicated per second, live (engine → Redis → peer engine)', l4lb: liveRate, baseline: ceiling, unit: '/s', target: '≥ 500000' });
  rows.push({ metric: 'sessions opened per second on the active (trafgen-bound)', l4lb: (opened.count - before) / ((opened.at - t0) / 1000), unit: '/s' });

  // The baseline's lag is measured again during this phase, beside the appliances: on two
  // vCPUs every hop waits for a CPU, and the Redis-alone pair shows what the machine adds.
  console.log(`lag: ${rate} SYNs/s for ${seconds} s`);
  const lagBefore = histogramBuckets(await scrape(lb2), 'l4lb_sync_lag_seconds');
  const expected = (await held(lb2)) + rate * seconds;
  let loadedLag = { p50Ms: NaN, p99Ms: NaN };
  pairCost.push(...(await replicationCost({ lb1, lb2 }, async () => {
    [, loadedLag] = await Promise.all([sendSyns(lab.topo, 'lb1', vip, 1, rate * seconds, rate), redisLag(lab.redis.socket, rate, seconds)]);
  })));
  await whenSettled([lb2], expected, performance.now());
  const lagAfter = histogramBuckets(await scrape(lb2), 'l4lb_sync_lag_seconds');
  rows.push({ metric: `replication lag p50 at ${rate}/s (≤ bucket bound; Redis alone under the same load)`, l4lb: histogramQuantile(lagBefore, lagAfter, 0.5) * 1000, baseline: loadedLag.p50Ms, unit: 'ms' });
  rows.push({ metric: `replication lag p99 at ${rate}/s (≤ bucket bound; Redis alone under the same load)`, l4lb: histogramQuantile(lagBefore, lagAfter, 0.99) * 1000, baseline: loadedLag.p99Ms, unit: 'ms', target: '< 5' });
  rows.push({ metric: 'Redis alone on a quiet machine, lag p50 / p99', l4lb: NaN, baseline: quietLag.p99Ms, unit: 'ms', note: `p50 ${quietLag.p50Ms.toFixed(2)} ms` });

  console.log('snapshot: a fresh backup joins');
  const total = await held(lb1);
  await lab.kill('lb2');
  // Replay off: the sessions can only come as the active's snapshot, asked for when sync starts.
  const fresh = await lab.startLb('lb2', { enabled: true, role: 'backup', replay: false, configureMore: addSynService });
  const t1 = performance.now();
  const [joined] = await whenSettled([fresh], total, t1);
  const got = (await fresh.ok('GET', '/api/v1/sync')).status.records;
  console.log(`  ${joined.count} of ${total} after ${Math.round(joined.at - t1)} ms; installed ${got.installed}, dropped ${JSON.stringify(got.dropped)}`);
  rows.push({ metric: `sessions replicated per second, snapshot of ${total} (from the backup's sync start)`, l4lb: joined.count / ((joined.at - t1) / 1000), baseline: ceiling, unit: '/s' });

  console.log('failover: 100 echo connections, kill -9 lb1, promote lb2');
  const clients = await startEchoClients(lab.topo.ns.client, vip, services.echo.port, { count: 100, intervalMs: 100, lifetimeMs: 120_000 });
  try {
    await waitFor('echo sessions on the backup', async () => (await held(fresh)) >= total + 100, 100, 100);
    await new Promise((r) => setTimeout(r, 1000));
    await lab.failover('lb1', 'lb2');
    await new Promise((r) => setTimeout(r, 3000));
    const reports = await clients.report();
    const stall = stallSummary(reports);
    const broken = reports.filter((r) => r.broken).length;
    rows.push({ metric: 'failover stall per connection, median (100 echo connections)', l4lb: stall.median, unit: 'ms' });
    rows.push({ metric: 'failover stall per connection, p99', l4lb: stall.p99, unit: 'ms', target: '< 1000' });
    rows.push({ metric: 'failover stall per connection, max', l4lb: stall.max, unit: 'ms' });
    rows.push({ metric: 'connections broken by the failover', l4lb: broken, unit: '', target: '0' });
  } finally {
    await clients.close();
  }
  return rows;
}

/** Phase 6: the cluster's mean per node beside the active/backup pair's figure. */
async function clusterRows(): Promise<Row[]> {
  console.log(`cluster: three multi-active nodes, ${rate} SYNs/s for ${seconds} s through the router`);
  const cluster = await clusterReplication(rate, seconds, workers);
  for (const c of [...pairCost, ...cluster]) console.log(`  ${c.node}: sends ${Math.round(c.sentPerSecond)}/s, installs ${Math.round(c.installedPerSecond)}/s, ${c.coresPer100k.toFixed(2)} cores per 100k records/s`);
  const mean = (costs: NodeCost[], f: (c: NodeCost) => number) => costs.reduce((s, c) => s + f(c), 0) / costs.length;
  const [active, backup] = pairCost;
  return [
    { metric: 'records/s each node publishes (cluster: mean of 3; pair: the active)', l4lb: mean(cluster, (c) => c.sentPerSecond), baseline: active?.sentPerSecond, unit: '/s' },
    { metric: 'records/s each node installs (cluster: mean of 3; pair: the backup)', l4lb: mean(cluster, (c) => c.installedPerSecond), baseline: backup?.installedPerSecond, unit: '/s' },
    { metric: 'appliance CPU per 100k records/s sent or installed (cluster: mean; pair: mean of both)', l4lb: mean(cluster, (c) => c.coresPer100k), baseline: mean(pairCost, (c) => c.coresPer100k), unit: 'cores' },
  ];
}

function print(rows: Row[], baselineName = 'Redis alone'): void {
  const fmt = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2));
  console.log(`\n| metric | l4lb | ${baselineName} | ratio | target |\n|---|---:|---:|---:|---|`);
  for (const r of rows) {
    const ratio = r.baseline && !Number.isNaN(r.l4lb) ? (r.l4lb / r.baseline).toFixed(2) : '–';
    console.log(`| ${r.metric} | ${fmt(r.l4lb)} ${r.unit} | ${r.baseline === undefined ? '–' : `${fmt(r.baseline)} ${r.unit}`} | ${ratio} | ${r.target ?? r.note ?? ''} |`);
  }
}

async function main(): Promise<void> {
  const why = requireRoot();
  if (why) throw new Error(why);
  const machine = await describeMachine();
  const lab = await startSyncLab(workers);
  let rows: Row[];
  try {
    rows = await run(lab);
  } finally {
    await lab.destroy();
  }
  const cluster = await clusterRows();
  print(rows);
  print(cluster, 'active/backup pair');
  const out = resolve(args.out!);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine, settings: { sessions, rate, seconds, workers }, rows: [...rows, ...cluster] }, null, 2));
  console.log(`\n${machine.cpu}, ${machine.cores} cores; JSON: ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
