// How applying a change to the data plane scales with the configuration's size (issue 16):
// `size` real servers spread ten to a service, half the services `mh` (a 65537-entry Maglev
// table each) and half `rr`, loaded over HTTP into an appliance whose DPDK engine runs in this
// process. Printed per size: the load's writes, a real-server PATCH (and the engine's share of
// it, timed around DpdkEngine.apply), a health transition (the health checker's call into the
// engine, one server down and up again) and a storm of 1,000 such transitions, each beside
// Node's event-loop delay p99 while it ran — the delay every other request, the sync bridge's
// drain and the health checker wait.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { DpdkEngine } from '../../engine/dataplane/dpdk-engine.js';

export interface Row {
  name: string;
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Event-loop delay p99 while it ran, ms. */
  loopP99Ms: number;
}

type Send = (method: string, path: string, body?: unknown) => Promise<number>;

const serversPerService = 10;

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs `count` steps one after another, timing each and the event loop meanwhile. */
async function timed(name: string, count: number, step: (i: number) => Promise<void> | void): Promise<Row> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const latencies = new Float64Array(count);
  loop.enable();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await step(i);
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    // Let the loop turn, as other work would, so its delay is sampled between steps.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  loop.disable();
  latencies.sort();
  return { name, count, perSecond: count / seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), loopP99Ms: loop.percentile(99) / 1e6 };
}

async function expect(send: Promise<number>, status: number, what: string): Promise<void> {
  const got = await send;
  if (got !== status) throw new Error(`${what}: answered ${got}, expected ${status}`);
}

/** The i-th real server address in 10.2.0.0/15. */
function serverAddress(i: number): string {
  return `10.${2 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

/** Loads `size` real servers in size/10 services and measures writes and health transitions. */
export async function applyScale(size: number, send: Send, engine: DpdkEngine): Promise<Row[]> {
  const services = Math.max(1, Math.floor(size / serversPerService));
  const serviceName = (s: number) => `vs${s}`;
  const load = await timed(`load ${services} services (half mh) and ${size} real servers`, services + size, async (i) => {
    if (i < services) {
      const body = { name: serviceName(i), address: '10.0.1.10', port: 1000 + i, protocol: 'tcp', nic: 'client', localAddressPool: 'lips', scheduler: i % 2 ? 'rr' : 'mh' };
      return expect(send('POST', '/api/v1/virtual-services', body), 201, `create ${serviceName(i)}`);
    }
    const r = i - services;
    const path = `/api/v1/virtual-services/${serviceName(r % services)}/real-servers`;
    return expect(send('POST', path, { name: `rs${r}`, address: serverAddress(r), port: 8080 }), 201, `create rs${r}`);
  });
  const patches = Math.min(size, 2000);
  const applies = engineApplyTimes(engine);
  const patch = await timed(`PATCH a real server's weight (${size} stored)`, patches, (i) => {
    const r = (i * 7919) % size;   // spread over services, mh and rr alike
    return expect(send('PATCH', `/api/v1/virtual-services/${serviceName(r % services)}/real-servers/rs${r}`, { weight: 2 + (i % 50) }), 200, `patch rs${r}`);
  });
  const engineShare = applies.stop(`… of which the engine's apply, inside the transaction`);
  const mhServer = 0;   // rs0 is in vs0, an mh service: its transition rebuilds a Maglev table
  const flip = await timed(`health transition of one server (${size} stored)`, 400, (i) => {
    engine.applyHealth(i % 2 ? new Map() : new Map([[serviceName(mhServer % services), new Set([`rs${mhServer}`])]]));
  });
  // The overlay is a new map each time, as the health monitor builds it.
  let down = new Map<string, Set<string>>();
  const storm = await timed(`health storm: ${Math.min(1000, size)} servers go down one by one`, Math.min(1000, size), (r) => {
    const name = serviceName(r % services);
    down = new Map(down).set(name, new Set([...(down.get(name) ?? []), `rs${r}`]));
    engine.applyHealth(down);
  });
  engine.applyHealth(new Map());
  return [load, patch, engineShare, flip, storm];
}

/** Times every engine.apply() from now until stop(): the data plane's share of a write. */
function engineApplyTimes(engine: DpdkEngine): { stop: (name: string) => Row } {
  const apply = engine.apply;
  const times: number[] = [];
  engine.apply = (...args) => {
    const t0 = process.hrtime.bigint();
    try {
      return apply.apply(engine, args);
    } finally {
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  return {
    stop(name) {
      engine.apply = apply;
      const sorted = Float64Array.from(times).sort();
      return { name, count: sorted.length, perSecond: NaN, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), loopP99Ms: NaN };
    },
  };
}

export function printRows(rows: Row[]): void {
  console.log('| operation | count | per second | p50 ms | p99 ms | event-loop delay p99 ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const cell = (n: number, digits: number) => (Number.isNaN(n) ? '–' : n.toFixed(digits));
  for (const r of rows) console.log(`| ${r.name} | ${r.count} | ${cell(r.perSecond, 0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${cell(r.loopP99Ms, 2)} |`);
}
