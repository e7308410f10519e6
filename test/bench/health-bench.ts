// Health-check benchmark: N targets on loopback addresses (127.0.1.x, servers in a child
// process so their CPU is not counted), each probed once per second for S seconds by the
// checker with its real tcp and http probes, and the CPU this process spent per thousand
// probes per second (process.cpuUsage). The baseline, measured in the same run against the
// same servers, is the same rate of bare TCP connects from one loop with no scheduler, state
// or timeouts: the ratio is what the checker's bookkeeping and the probes' judging add.
//
// Usage: npm run bench:health [-- --targets 2000] [--seconds 5]

import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { HealthChecker, type CheckTarget } from '../../engine/health/checker.js';
import { probeHttp } from '../../engine/health/probes/http.js';
import { probeTcp } from '../../engine/health/probes/tcp.js';
import type { ProbeEndpoint } from '../../engine/health/probes/endpoint.js';
import { Scheduler, systemClock } from '../../engine/health/scheduler.js';

const maxTargets = 5000;
const maxSeconds = 20;
const addresses = 100;
const port = 18080;
const intervalMs = 1000;

const { values } = parseArgs({ options: { targets: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '5' } } });
const targets = Math.min(maxTargets, Math.max(1, Number(values.targets)));
const seconds = Math.min(maxSeconds, Math.max(1, Number(values.seconds)));

// Accepts on every address; answers anything that looks like an HTTP request, and closes when the peer does.
const serverScript = `
const net = require('node:net');
const reply = 'HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n';
let listening = 0;
for (let i = 1; i <= ${addresses}; i++) {
  net.createServer((c) => {
    c.on('data', (d) => { if (d.includes('\\r\\n\\r\\n')) c.end(reply); });
    c.on('end', () => c.end());
    c.on('error', () => c.destroy());
  }).listen({ host: '127.0.1.' + i, port: ${port}, backlog: 4096 }, () => { if (++listening === ${addresses}) process.stdout.write('ready\\n'); });
}
process.stdin.on('end', () => process.exit(0)).resume();
`;

function startServers(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', serverScript], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`the servers exited (${code})`)));
  });
}

interface Target extends CheckTarget {
  endpoint: ProbeEndpoint;
}

function endpoints(): ProbeEndpoint[] {
  return Array.from({ length: targets }, (_, i) => ({ address: `127.0.1.${(i % addresses) + 1}`, port, source: '127.0.0.1', header: undefined }));
}

interface Result {
  probes: number;
  failures: number;
  /** Failures by reason, the most frequent first (a saturated machine shows here). */
  reasons: [string, number][];
  wallS: number;
  cpuS: number;
}

/** Runs `start` for a warm-up second (random offsets settle), then measures `seconds`. */
async function measure(start: (count: (error?: string) => void) => () => void): Promise<Result> {
  let probes = 0;
  let failures = 0;
  const reasons = new Map<string, number>();
  let counting = false;
  const stop = start((error) => {
    if (!counting) return;
    probes++;
    if (error === undefined) return;
    failures++;
    reasons.set(error, (reasons.get(error) ?? 0) + 1);
  });
  await new Promise((r) => setTimeout(r, intervalMs));
  counting = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - t0) / 1000;
  counting = false;
  stop();
  await new Promise((r) => setTimeout(r, 500)); // let closing sockets drain before the next phase
  const sorted = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return { probes, failures, reasons: sorted, wallS, cpuS: (cpu.user + cpu.system) / 1e6 };
}

function checker(type: 'tcp' | 'http') {
  return (count: (error?: string) => void) => {
    const http = { path: '/', host: undefined, expectStatus: [200], expectBody: 'ok' };
    const c = new HealthChecker<Target>(
      (t, finish) => (type === 'tcp' ? probeTcp(t.endpoint, finish) : probeHttp(t.endpoint, http, finish)),
      new Scheduler(systemClock),
      { probed: (_t, outcome) => count(outcome.error) },
    );
    c.set(endpoints().map((endpoint, i) => ({ id: String(i), endpoint, intervalMs, timeoutMs: 900, rise: 2, fall: 3 })));
    return () => c.close();
  };
}

/** The same connects per second, launched in slices from one interval timer, counted on connect and reset as the tcp probe does. */
function bareConnects(count: (error?: string) => void): () => void {
  const all = endpoints();
  const slices = 100;
  let next = 0;
  const timer = setInterval(() => {
    const end = next + Math.ceil(all.length / slices);
    for (; next < end && next < all.length; next++) {
      const e = all[next];
      const socket = connect({ host: e.address, port: e.port, localAddress: e.source });
      socket.once('connect', () => {
        count();
        socket.resetAndDestroy();
      });
      socket.once('error', (err) => count(err.message));
    }
    if (next >= all.length) next = 0;
  }, intervalMs / slices);
  return () => clearInterval(timer);
}

function report(name: string, r: Result): number {
  const rate = r.probes / r.wallS;
  const core = r.cpuS / r.wallS;
  const perThousand = (core * 100) / (rate / 1000);
  const failed = r.failures ? `, ${r.failures} failed (${r.reasons.map(([why, n]) => `${n}× ${why}`).join('; ')})` : '';
  console.log(`${name.padEnd(26)} ${rate.toFixed(0).padStart(6)} probes/s  ${(core * 100).toFixed(1).padStart(5)} % of a core  ${perThousand.toFixed(2).padStart(6)} % of a core per 1000 probes/s${failed}`);
  return perThousand;
}

async function main(): Promise<void> {
  const servers = await startServers();
  try {
    console.log(`${targets} targets on ${addresses} loopback addresses, one probe each per ${intervalMs} ms, ${seconds} s measured per line`);
    const baseline = report('baseline: bare TCP connects', await measure(bareConnects));
    const tcp = report('checker: tcp', await measure(checker('tcp')));
    const http = report('checker: http', await measure(checker('http')));
    console.log(`checker cost beside the baseline: tcp ×${(tcp / baseline).toFixed(2)}, http ×${(http / baseline).toFixed(2)}`);
  } finally {
    servers.stdin!.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
