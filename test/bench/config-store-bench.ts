// Configuration-store benchmark: cluster-wide objects in etcd (`--config-store etcd://…`).
// Three appliances in this process (config-store-nodes.ts: three SQLite databases, three
// reconcilers over recording engines, three EtcdConfigStores on one prefix of a three-member
// etcd cluster on 127.0.0.1, three apps driven with inject) and a fourth on SQLite alone.
//
//  1. Propagation: N writes through node A's API, one at a time (each waits until B and C
//     applied it), alternating "create a real server" and "patch its weight"; each is timed
//     from just before the inject to A's answer and to the moment B's and C's engines
//     received it in apply(). Target: p99 under 100 ms.
//  2. Write throughput: sequential writes through A (etcd) beside the same writes through the
//     SQLite-only node (LocalWriter), then the three nodes writing K real servers each at
//     the same time, with the writes that had to retry (another node's write came first).
//
// The engine is off: the data plane's own apply cost is what bench:api measures. Numbers are
// printed, nothing is asserted.
//
// Usage: npm run bench:config [-- --writes 200] [--sequential 500] [--concurrent 100]

import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EtcdCluster, etcdMissing } from '../etcd-cluster.js';
import { service } from '../helpers.js';
import { seedLocal, waitConnected } from '../config-store/etcd-node.js';
import { address, quantiles, startNode, versionKey, wideServerNic, type BenchNode } from './config-store-nodes.js';

const collection = '/api/v1/virtual-services/web/real-servers';
/** How long one write may take to reach another node before the bench gives up. */
const propagationTimeoutMs = 10_000;
const targetMs = 100;

const ms = (v: number) => v.toFixed(2);

/** Write i of a create/patch alternation on real servers `${prefix}${i >> 1}` (addresses from `base`). */
function alternating(prefix: string, base: number, i: number): { method: string; url: string; body: unknown; expect: number } {
  const k = i >> 1;
  if (i % 2 === 0) return { method: 'POST', url: collection, body: { name: `${prefix}${k}`, address: address(base + k), port: 8080 }, expect: 201 };
  // The default weight is 1: every patch changes the object, so every write commits.
  return { method: 'PATCH', url: `${collection}/${prefix}${k}`, body: { weight: 2 + (k % 50) }, expect: 200 };
}

/** Sends one write, failing loudly on an unexpected answer; its resourceVersion. */
async function write(node: BenchNode, w: ReturnType<typeof alternating>): Promise<number> {
  const response = await node.request(w.method, w.url, w.body);
  if (response.statusCode !== w.expect) throw new Error(`node ${node.name}: ${w.method} ${w.url}: ${response.statusCode} ${response.body}`);
  return (response.json() as { resourceVersion: number }).resourceVersion;
}

function row(name: string, values: number[]): string {
  const q = quantiles(values);
  return `| ${name} | ${values.length} | ${ms(q.p50)} | ${ms(q.p99)} | ${ms(q.max)} |`;
}

async function propagation(a: BenchNode, b: BenchNode, c: BenchNode, writes: number): Promise<void> {
  const answered: number[] = [];
  const onB: number[] = [];
  const onC: number[] = [];
  for (let i = 0; i < writes; i++) {
    const w = alternating('p', 0, i);
    const t0 = performance.now();
    const version = await write(a, w);
    answered.push(performance.now() - t0);
    const key = versionKey('real-servers', 'web', `p${i >> 1}`, version);
    const [atB, atC] = await Promise.all([b.engine.whenApplied(key, propagationTimeoutMs), c.engine.whenApplied(key, propagationTimeoutMs)]);
    onB.push(atB - t0);
    onC.push(atC - t0);
  }
  console.log(`\n## Propagation: ${writes} writes through A (create a real server, patch its weight, …), one at a time\n`);
  console.log('| measured from just before the inject to | writes | p50 ms | p99 ms | max ms |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  console.log(row('write answered on A', answered));
  console.log(row('applied on B', onB));
  console.log(row('applied on C', onC));
  const p99 = Math.max(quantiles(onB).p99, quantiles(onC).p99);
  console.log(`\npropagation p99 < ${targetMs} ms: ${p99 < targetMs ? `met (${ms(p99)} ms)` : `missed by ${ms(p99 - targetMs)} ms (${ms(p99)} ms)`}`);
}

/** `count` alternating writes through `node`, one after another: writes/s and per-write latencies. */
async function sequential(node: BenchNode, prefix: string, base: number, count: number): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await write(node, alternating(prefix, base, i));
    latencies.push(performance.now() - t0);
  }
  return { perSecond: count / ((performance.now() - start) / 1000), latencies };
}

async function throughput(a: BenchNode, local: BenchNode, count: number): Promise<void> {
  const etcd = await sequential(a, 's', 10_000, count);
  const sqlite = await sequential(local, 's', 10_000, count);
  console.log(`\n## Sequential write throughput: ${count} writes (create/patch alternating), one at a time\n`);
  console.log('| through | writes/s | p50 ms | p99 ms | max ms |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, r] of [['node A, etcd store (answer after A applied it)', etcd], ['SQLite store alone (LocalWriter)', sqlite]] as const) {
    const q = quantiles(r.latencies);
    console.log(`| ${name} | ${r.perSecond.toFixed(0)} | ${ms(q.p50)} | ${ms(q.p99)} | ${ms(q.max)} |`);
  }
  console.log(`\netcd / SQLite alone: ${(etcd.perSecond / sqlite.perSecond).toFixed(3)}× the writes/s (${(sqlite.perSecond / etcd.perSecond).toFixed(1)}× slower)`);
}

function counter(node: BenchNode, name: 'writesRetried' | 'writesContended' | 'writesCommitted'): number {
  return node.etcd!.status().counters?.[name] ?? 0;
}

async function concurrent(nodes: BenchNode[], perNode: number): Promise<void> {
  const names = ['writesCommitted', 'writesRetried', 'writesContended'] as const;
  const before = names.map((n) => nodes.reduce((sum, node) => sum + counter(node, n), 0));
  let conflicts = 0;
  const start = performance.now();
  let created = 0;
  // Each writer's last created real server, as a version key.
  const lastKeys = await Promise.all(
    nodes.map(async (node, n) => {
      let last: string | undefined;
      for (let j = 0; j < perNode; j++) {
        const name = `c-${node.name}-${j}`;
        const response = await node.request('POST', collection, { name, address: address(20_000 + n * 5_000 + j), port: 8080 });
        if (response.statusCode === 409) conflicts++;
        else if (response.statusCode !== 201) throw new Error(`node ${node.name}: concurrent create ${j}: ${response.statusCode} ${response.body}`);
        else {
          created++;
          last = versionKey('real-servers', 'web', name, (response.json() as { resourceVersion: number }).resourceVersion);
        }
      }
      return last;
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const [committed, retried, contended] = names.map((n, i) => nodes.reduce((sum, node) => sum + counter(node, n), 0) - before[i]);
  // Every node ends up holding every write: wait (bounded) for the last of each writer everywhere.
  const convergeStart = performance.now();
  await Promise.all(lastKeys.flatMap((key) => (key ? nodes.map((node) => node.engine.whenApplied(key, propagationTimeoutMs)) : [])));
  console.log(`\n## Concurrent writers: nodes ${nodes.map((n) => n.name).join(', ')} each create ${perNode} real servers, one at a time, all three at once (Promise.all)\n`);
  console.log(`| writes | created | writes/s (all nodes) | committed | retried (another write came first) | contended (409 after every attempt) | 409 answers |`);
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(`| ${nodes.length * perNode} | ${created} | ${(created / seconds).toFixed(0)} | ${committed} | ${retried} | ${contended} | ${conflicts} |`);
  console.log(`\nevery node applied every writer's last write ${ms(performance.now() - convergeStart)} ms after the writers finished`);
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown (git rev-parse failed)';
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      writes: { type: 'string', default: '200' },
      sequential: { type: 'string', default: '500' },
      concurrent: { type: 'string', default: '100' },
    },
  });
  const [writes, sequentialWrites, perNode] = [values.writes, values.sequential, values.concurrent].map(Number);
  for (const [flag, n] of [['--writes', writes], ['--sequential', sequentialWrites], ['--concurrent', perNode]] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 20_000) throw new Error(`${flag}: expected an integer from 1 to 20000, got ${String(n)}`);
  }
  console.log(
    `# bench:config — etcd configuration store: propagation between three nodes and write throughput ` +
      `(engine off: the data plane's own apply cost is measured by bench:api); commit ${gitCommit()}, ${cpus().length} CPUs, Node ${process.version}`,
  );
  const missing = etcdMissing();
  if (missing) {
    console.log(`etcd cannot run here: ${missing}; nothing was measured`);
    return 1;
  }
  let cluster: EtcdCluster | undefined;
  const nodes: BenchNode[] = [];
  try {
    const booted = performance.now();
    cluster = await EtcdCluster.start({ members: 3 });
    const etcd = { endpoints: cluster.endpoints, prefix: `/l4lb-bench-${process.pid}/` };
    console.log(`etcd: 3 members on ${cluster.endpoints.join(' ')}, up in ${(performance.now() - booted).toFixed(0)} ms; prefix ${etcd.prefix}`);
    for (const name of ['A', 'B', 'C']) nodes.push(await startNode(name, etcd));
    const local = await startNode('sqlite');
    nodes.push(local);
    const [a, b, c] = nodes;
    for (const node of nodes) if (node.etcd) await waitConnected(node.etcd);
    for (const node of nodes) await seedLocal(node, wideServerNic);
    // The virtual service is cluster-wide: created once through A, it reaches B and C through etcd.
    const vs = { ...service, healthCheck: undefined };
    const created = await a.request('POST', '/api/v1/virtual-services', vs);
    if (created.statusCode !== 201) throw new Error(`node A: create virtual service: ${created.statusCode} ${created.body}`);
    const vsKey = versionKey('virtual-services', '', 'web', (created.json() as { resourceVersion: number }).resourceVersion);
    await Promise.all([b, c].map((n) => n.engine.whenApplied(vsKey, propagationTimeoutMs)));
    const local201 = await local.request('POST', '/api/v1/virtual-services', vs);
    if (local201.statusCode !== 201) throw new Error(`SQLite node: create virtual service: ${local201.statusCode} ${local201.body}`);

    await propagation(a, b, c, writes);
    await throughput(a, local, sequentialWrites);
    await concurrent([a, b, c], perNode);
    return 0;
  } finally {
    for (const node of nodes) await node.close().catch((err) => console.error(`closing node ${node.name}: ${(err as Error).message}`));
    await cluster?.close();
  }
}

process.exitCode = await main();
