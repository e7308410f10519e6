// API write benchmark: creates and then updates N real servers over real HTTP (keep-alive,
// one request at a time, as a provisioning tool does) on a fresh file database, for N = 1k
// and 10k, and prints writes per second with p50/p99 latency. The baseline, measured in the
// same run on the same server, is GET /healthz: the cost of HTTP and Fastify alone, so the
// ratio shows what validation, the store (fsync'd SQLite) and the engine add per write.
//
// With `--engine dpdk` (root) every write is also applied to a running data plane on
// af_packet ports over two veths the bench makes, as in production; the default `off`
// measures the API and store alone.
//
// With the data plane it then measures how applying a change scales (apply-scale.ts).
//
// Usage: npm run bench:api [-- --sizes 1000,10000] [--engine off|dpdk] [--scale-sizes 100,1000,10000]

import { execFileSync, spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../api/app.js';
import { DpdkEngine } from '../../engine/dataplane/dpdk-engine.js';
import type { Engine } from '../../engine/engine.js';
import { HealthMonitor } from '../../engine/health/monitor.js';
import { OffEngine } from '../../engine/off-engine.js';
import { Reconciler } from '../../engine/reconciler.js';
import { openDb } from '../../store/db.js';
import { Store } from '../../store/store.js';
import { clientNic, pool, serverNic, service } from '../helpers.js';
import { applyScale, printRows } from './apply-scale.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function send(port: number, method: string, path: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = payload === undefined ? {} : { 'content-type': 'application/json' };
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface Result {
  name: string;
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `count` requests one after another; any unexpected status aborts the benchmark. */
async function measure(name: string, count: number, expect: number, next: (i: number) => Promise<number>): Promise<Result> {
  const latencies = new Float64Array(count);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const status = await next(i);
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    if (status !== expect) throw new Error(`${name}: request ${i} answered ${status}, expected ${expect}`);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort();
  const at = (q: number) => latencies[Math.min(count - 1, Math.floor(q * count))];
  return { name, count, perSecond: count / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** The i-th real server address in 10.2.0.0/15. */
function address(i: number): string {
  return `10.${2 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

function createEngine(mode: string): Engine {
  if (mode === 'off') return new OffEngine();
  if (mode === 'dpdk') return new DpdkEngine({ workers: 1, idle: 'adaptive', sessionsPerWorker: 65536, protectManagement: null });
  throw new Error(`--engine ${mode}: expected off or dpdk`);
}

const ports = ['l4bench0', 'l4bench1'];

/** Adds the bench's veth pairs (first removing any a killed run left behind), or removes them. */
function veths(op: 'add' | 'del'): void {
  for (const name of ports) {
    if (op === 'add') spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
    execFileSync('ip', op === 'add' ? ['link', 'add', name, 'up', 'type', 'veth', 'peer', 'name', `${name}p`] : ['link', 'del', name], { stdio: 'ignore' });
  }
}

interface Appliance {
  send: (method: string, path: string, body?: unknown) => Promise<number>;
  engine: Engine;
}

/** An appliance on a fresh file database with two NICs, a pool and service `web`, for `body`. */
async function withAppliance<T>(mode: string, body: (a: Appliance) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-bench-'));
  const store = new Store(openDb(join(dir, 'bench.db')));
  const engine = createEngine(mode);
  const reconciler = new Reconciler(store, engine);
  // As `l4lb serve` runs it with a data plane: the health checker follows every write.
  const health = mode === 'dpdk' ? new HealthMonitor(store, engine, { runIp: async () => {} }) : undefined;
  reconciler.start();
  health?.start({ info() {}, warn() {}, error() {} });
  const app = await buildApp({ store, reconciler, ...(health ? { health } : {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const appliance = { send: (method: string, path: string, payload?: unknown) => send(port, method, path, payload), engine };
  try {
    // Real servers get addresses in 10.2.0.0/16 and 10.3.0.0/16, reached by the server NIC.
    // With the data plane, the NICs are af_packet ports on veths (no exception path).
    const dpdk = mode === 'dpdk';
    const client = dpdk ? { name: 'client', device: `net_af_packet0,iface=${ports[0]}`, networks: clientNic.networks } : clientNic;
    const wide = { ...(dpdk ? { name: 'server', device: `net_af_packet1,iface=${ports[1]}` } : serverNic), networks: ['10.0.2.0/24', '10.2.0.0/15'] };
    for (const [path, payload] of [['/api/v1/nics', client], ['/api/v1/nics', wide], ['/api/v1/local-address-pools', pool], ['/api/v1/virtual-services', { ...service, healthCheck: undefined }]] as const) {
      const status = await appliance.send('POST', path, payload);
      if (status !== 201) throw new Error(`setup ${path}: ${status}`);
    }
    return await body(appliance);
  } finally {
    await app.close();
    await health?.close();
    await engine.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runSize(size: number, mode: string): Promise<Result[]> {
  return withAppliance(mode, async ({ send }) => {
    const collection = '/api/v1/virtual-services/web/real-servers';
    const baseline = await measure(`GET /healthz (baseline)`, size, 200, () => send('GET', '/healthz'));
    const create = await measure(`create ${size} real servers, one by one`, size, 201, (i) =>
      send('POST', collection, { name: `rs${i}`, address: address(i), port: 8080 }),
    );
    const update = await measure(`update each of ${size} real servers`, size, 200, (i) =>
      send('PATCH', `${collection}/rs${i}`, { weight: 1 + (i % 100) }),
    );
    return [baseline, create, update];
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000,10000' },
      engine: { type: 'string', default: 'off' },
      'scale-sizes': { type: 'string', default: '100,1000,10000' },
    },
  });
  const sizes = values.sizes!.split(',').map(Number);
  console.log(`engine: ${values.engine}`);
  console.log('| operation | requests | requests/s | p50 ms | p99 ms | time per request vs baseline |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  if (values.engine === 'dpdk') veths('add');
  try {
    for (const size of sizes) {
      const [baseline, ...writes] = await runSize(size, values.engine!);
      for (const r of [baseline, ...writes]) {
        const ratio = (baseline.perSecond / r.perSecond).toFixed(1);
        console.log(`| ${r.name} | ${r.count} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${ratio}× |`);
      }
    }
    if (values.engine === 'dpdk') {
      console.log('\nApplying to the data plane as the configuration grows (10 real servers a service, half the services mh):\n');
      const rows = [];
      for (const size of values['scale-sizes']!.split(',').map(Number)) {
        rows.push(...(await withAppliance('dpdk', ({ send, engine }) => applyScale(size, send, engine as DpdkEngine))));
      }
      printRows(rows);
    }
  } finally {
    if (values.engine === 'dpdk') veths('del');
    agent.destroy();
  }
}

await main();
