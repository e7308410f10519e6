// Many long-lived TCP connections to an echo service, all held by one node process in the
// client namespace: each connection writes a short numbered line every `intervalMs` and checks
// that the echo comes back byte for byte, in order. Per connection it records the largest gap
// between two replies (a failover's stall shows there), whether it broke (reset, closed, or an
// echo that is not what was sent), and its local port (which a taken-over session must keep).
// The test asks for a JSON report over stdin at any time. The process ends itself after
// `lifetimeMs` and when the test's end of its stdin closes, so it never outlives the test.

import type { ChildProcess } from 'node:child_process';
import { nsSpawn, stopChild, waitFor } from './netns.js';

export interface EchoConnectionReport {
  localPort: number;
  /** Echo chunks received (several lines may arrive in one after a stall). */
  replies: number;
  /**
   * The largest time between two replies, or since the last reply while an echo is outstanding.
   * It includes up to one send interval: a healthy connection shows about `intervalMs`.
   */
  maxGapMs: number;
  /** How long the oldest unanswered line has waited, 0 when nothing is outstanding. */
  waitingMs: number;
  /** Why the connection ended (an errno code, `closed`, `corrupt`), or null while it is up. */
  broken: string | null;
}

export interface EchoClients {
  readonly child: ChildProcess;
  /** The local (client-side) port of each connection, in opening order. */
  readonly localPorts: number[];
  report(): Promise<EchoConnectionReport[]>;
  /** Starts a new measurement: from now on `maxGapMs` counts only gaps that end after this. */
  resetGaps(): void;
  /** Closes the connections and ends the process. */
  close(): Promise<void>;
}

export interface EchoClientsOptions {
  count?: number;
  intervalMs?: number;
  /** The process exits by itself after this long (a bound, not an expectation). */
  lifetimeMs?: number;
}

const script = `
const [address, port, count, intervalMs, lifetimeMs] = process.argv.slice(1);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
setTimeout(() => process.exit(3), Number(lifetimeMs)).unref();
const conns = [];
function open(i) {
  const c = { localPort: 0, replies: 0, last: 0, maxGapMs: 0, pending: '', pendingSince: 0, broken: null, seq: 0 };
  conns.push(c);
  return new Promise((settle) => {
    const s = require('node:net').connect(Number(port), address);
    c.socket = s;
    s.setNoDelay(true);
    const refuse = setTimeout(() => s.destroy(new Error('connect-timeout')), 5000);
    const end = (why) => { c.broken ??= why; clearTimeout(c.timer); clearTimeout(refuse); settle(); };
    s.on('connect', () => {
      clearTimeout(refuse);
      c.localPort = s.localPort;
      c.last = Date.now();
      const send = () => {
        const line = i + ':' + c.seq++ + '\\n';
        if (!c.pending) c.pendingSince = Date.now();
        c.pending += line;
        s.write(line);
      };
      // Spread the connections over the interval rather than sending in lockstep.
      c.timer = setTimeout(function tick() { send(); c.timer = setTimeout(tick, Number(intervalMs)); }, Math.random() * Number(intervalMs));
      settle();
    });
    s.on('data', (d) => {
      const text = d.toString();
      if (!c.pending.startsWith(text)) { s.destroy(); return end('corrupt'); }
      const now = Date.now();
      c.pending = c.pending.slice(text.length);
      if (c.pending) c.pendingSince = now;
      c.maxGapMs = Math.max(c.maxGapMs, now - c.last);
      c.last = now;
      c.replies++;
    });
    s.on('error', (e) => end(e.code || e.message));
    s.on('close', () => end('closed'));
  });
}
function report() {
  const now = Date.now();
  return conns.map((c) => {
    const waitingMs = c.pending && !c.broken ? now - c.pendingSince : 0;
    const openGap = c.pending && !c.broken ? now - c.last : 0;
    return { localPort: c.localPort, replies: c.replies, maxGapMs: Math.max(c.maxGapMs, openGap), waitingMs, broken: c.broken };
  });
}
Promise.all(Array.from({ length: Number(count) }, (_, i) => open(i))).then(() => out({ ready: report() }));
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'report') out({ report: report() });
  if (l === 'reset-gaps') for (const c of conns) c.maxGapMs = 0;
  if (l === 'close') { const r = report(); for (const c of conns) c.socket.destroy(); out({ report: r }); process.exit(0); }
});
process.stdin.on('end', () => process.exit(0));
`;

/** Opens `count` connections from namespace `ns` to address:port; rejects unless all connect. */
export async function startEchoClients(ns: string, address: string, port: number, options: EchoClientsOptions = {}): Promise<EchoClients> {
  const { count = 100, intervalMs = 100, lifetimeMs = 600_000 } = options;
  const child = nsSpawn(ns, process.execPath, ['-e', script, address, String(port), String(count), String(intervalMs), String(lifetimeMs)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: Record<string, EchoConnectionReport[]>[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const p of parts) messages.push(JSON.parse(p) as Record<string, EchoConnectionReport[]>);
  });
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const next = (key: 'ready' | 'report') =>
    waitFor(`the echo clients' ${key}`, async () => {
      const m = messages.shift();
      if (m?.[key]) return m[key];
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`echo clients exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
      return undefined;
    }, 200, 50);

  let ready: EchoConnectionReport[];
  try {
    ready = await next('ready');
    const failed = ready.filter((c) => c.broken);
    if (failed.length) throw new Error(`${failed.length} of ${count} echo connections failed to open: ${[...new Set(failed.map((c) => c.broken))].join(', ')}`);
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
  return {
    child,
    localPorts: ready.map((c) => c.localPort),
    report: () => {
      child.stdin!.write('report\n');
      return next('report');
    },
    resetGaps: () => child.stdin!.write('reset-gaps\n'),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.end('close\n');
      await stopChild(child, 'SIGTERM');
    },
  };
}

/** The largest, 99th-percentile and median `maxGapMs` over connections (nearest rank). */
export function stallSummary(reports: readonly EchoConnectionReport[]): { max: number; p99: number; median: number } {
  const gaps = reports.map((r) => r.maxGapMs).sort((a, b) => a - b);
  const rank = (q: number) => gaps[Math.min(gaps.length - 1, Math.max(0, Math.ceil(q * gaps.length) - 1))] ?? NaN;
  return { max: gaps[gaps.length - 1] ?? NaN, p99: rank(0.99), median: rank(0.5) };
}
