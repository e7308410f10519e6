// HTTP traffic through a VIP that watches for failures while faults are played: one node
// process in the client namespace holds a few keep-alive connections, each sending `GET /`
// every `keepAliveIntervalMs`, and opens a new connection (`GET /`, then close) every
// `newIntervalMs`. Every failure is reported with its kind, the real server the connection
// was bound to (nginx answers `/` with its name), and when the attempt started and failed; a
// failed keep-alive connection is opened again 50 ms later. Once a second it reports the
// successes so far. The test labels stretches of time with phases and judges failures by
// the windows in which it expected them. The process ends itself after `lifetimeMs` and when
// the test's end of its stdin closes, so it never outlives the test.

import type { ChildProcess } from 'node:child_process';
import { nsSpawn, stopChild, waitFor } from './netns.js';

export type TrafficKind = 'keepalive' | 'new';

export interface TrafficFailure {
  kind: TrafficKind;
  /** The keep-alive connection's number; absent for new connections. */
  conn?: number;
  /** The real server the connection was bound to, null before its first answer. */
  server: string | null;
  /** Unix milliseconds: when the failed attempt started, and when it was judged failed. */
  start: number;
  end: number;
  error: string;
  /** The phase the test had set when the attempt started. */
  phase: string;
}

export interface TrafficTotals {
  /** Requests answered on keep-alive connections, and new connections that got an answer. */
  keepalive: number;
  new: number;
  /** Answers by real server. */
  servers: Record<string, number>;
}

/** A stretch of time in which failures of a kind (and a server) are expected. */
export interface AllowedWindow {
  why: string;
  from: number;
  to: number;
  kind?: TrafficKind;
  /** Only attempts bound to one of these servers (null: not bound yet, as a new connection's). */
  servers?: (string | null)[];
}

export interface TrafficWatch {
  readonly child: ChildProcess;
  /** Labels the attempts that start from now on. */
  phase(name: string): void;
  readonly failures: readonly TrafficFailure[];
  /** The successes as of the last report (at most a second old). */
  totals(): TrafficTotals;
  /** The server each keep-alive connection is bound to now. */
  bindings(): Record<number, string>;
  /** Waits until `n` more successes of `kind` than now were reported (bounded). */
  waitProgress(kind: TrafficKind, n: number): Promise<void>;
  close(): Promise<void>;
}

export interface TrafficWatchOptions {
  keepAlive?: number;
  keepAliveIntervalMs?: number;
  newIntervalMs?: number;
  /** How long an answer may take before the attempt counts as failed. */
  timeoutMs?: number;
  /** The process exits by itself after this long (a bound, not an expectation). */
  lifetimeMs?: number;
}

const script = `
const [address, port, keepAlive, kaInterval, newInterval, timeoutMs, lifetimeMs] = process.argv.slice(1).map((v, i) => i ? Number(v) : v);
const net = require('node:net');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
setTimeout(() => process.exit(3), lifetimeMs).unref();
const totals = { keepalive: 0, new: 0, servers: {} };
const answered = (kind, server) => { totals[kind]++; totals.servers[server] = (totals.servers[server] || 0) + 1; };
const request = 'GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n';
// One response of nginx's return directive: headers, then content-length bytes of body.
function takeResponse(c) {
  const end = c.buffer.indexOf('\\r\\n\\r\\n');
  if (end < 0) return undefined;
  const length = Number(/content-length: *(\\d+)/i.exec(c.buffer.slice(0, end))?.[1] ?? 0);
  if (c.buffer.length < end + 4 + length) return undefined;
  const body = c.buffer.slice(end + 4, end + 4 + length).trim();
  c.buffer = c.buffer.slice(end + 4 + length);
  return body;
}
function keepAliveConn(id) {
  // start: when the attempt in flight began (connecting, or a request sent); null while idle.
  const c = { server: null, buffer: '', start: Date.now(), timer: undefined, done: false };
  const socket = net.connect(port, address);
  socket.setNoDelay(true);
  const fail = (error) => {
    if (c.done) return;
    c.done = true;
    clearTimeout(c.timer);
    socket.destroy();
    const end = Date.now();
    out({ fail: { kind: 'keepalive', conn: id, server: c.server, start: c.start ?? end, end, error } });
    // A short pause bounds the retries while every server refuses.
    setTimeout(() => keepAliveConn(id), 50);
  };
  const send = () => {
    c.start = Date.now();
    socket.write(request);
    c.timer = setTimeout(() => fail('timeout'), timeoutMs);
  };
  c.timer = setTimeout(() => fail('connect-timeout'), timeoutMs);
  socket.on('connect', () => { clearTimeout(c.timer); send(); });
  socket.on('data', (d) => {
    c.buffer += d.toString('latin1');
    const body = takeResponse(c);
    if (body === undefined) return;
    clearTimeout(c.timer);
    if (body !== c.server) out({ bound: { conn: id, server: body } });
    c.server = body;
    answered('keepalive', body);
    c.start = null;
    c.timer = setTimeout(send, kaInterval);
  });
  socket.on('error', (e) => fail(e.code || e.message));
  socket.on('close', () => fail('closed'));
}
let inFlight = 0;
function newConn() {
  const start = Date.now();
  // Attempts never pile up: more than the timeout allows in flight means the watcher is stuck.
  if (inFlight > timeoutMs / newInterval + 2) return out({ fail: { kind: 'new', server: null, start, end: start, error: 'backlog' } });
  inFlight++;
  const c = { buffer: '', done: false };
  const socket = net.connect(port, address);
  const end = (error, server) => {
    if (c.done) return;
    c.done = true;
    inFlight--;
    clearTimeout(timer);
    socket.destroy();
    if (error) out({ fail: { kind: 'new', server: server ?? null, start, end: Date.now(), error } });
    else answered('new', server);
  };
  const timer = setTimeout(() => end('timeout'), timeoutMs);
  socket.on('connect', () => socket.write('GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n'));
  socket.on('data', (d) => {
    c.buffer += d.toString('latin1');
    const body = takeResponse(c);
    if (body !== undefined) end(undefined, body);
  });
  socket.on('error', (e) => end(e.code || e.message));
  socket.on('close', () => end('closed'));
}
for (let i = 0; i < keepAlive; i++) keepAliveConn(i);
setInterval(newConn, newInterval);
setInterval(() => out({ totals }), 1000);
process.stdin.on('end', () => { out({ totals }); process.exit(0); }).resume();
`;

/** Starts watching address:port from the client namespace `ns`. */
export function startTrafficWatch(ns: string, address: string, port: number, options: TrafficWatchOptions = {}): TrafficWatch {
  const { keepAlive = 4, keepAliveIntervalMs = 100, newIntervalMs = 200, timeoutMs = 2000, lifetimeMs = 600_000 } = options;
  const args = [address, port, keepAlive, keepAliveIntervalMs, newIntervalMs, timeoutMs, lifetimeMs].map(String);
  const child = nsSpawn(ns, process.execPath, ['-e', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const phases: { name: string; since: number }[] = [{ name: 'start', since: 0 }];
  const failures: TrafficFailure[] = [];
  const bound: Record<number, string> = {};
  let totals: TrafficTotals = { keepalive: 0, new: 0, servers: {} };
  const phaseAt = (t: number) => [...phases].reverse().find((p) => p.since <= t)!.name;
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = JSON.parse(line) as { fail?: Omit<TrafficFailure, 'phase'>; bound?: { conn: number; server: string }; totals?: TrafficTotals };
      if (m.fail) failures.push({ ...m.fail, phase: phaseAt(m.fail.start) });
      if (m.bound) bound[m.bound.conn] = m.bound.server;
      if (m.totals) totals = m.totals;
    }
  });
  return {
    child,
    phase: (name) => phases.push({ name, since: Date.now() }),
    failures,
    totals: () => totals,
    bindings: () => ({ ...bound }),
    waitProgress: async (kind, n) => {
      const target = totals[kind] + n;
      await waitFor(`${n} more ${kind} answers`, async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the traffic watcher exited (${child.exitCode ?? child.signalCode})`);
        return totals[kind] >= target;
      }, Math.ceil((n * Math.max(keepAliveIntervalMs, newIntervalMs) + 5000) / 100), 100);
    },
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.end();
      await stopChild(child, 'SIGTERM');
    },
  };
}

/** The failures no window explains: what a fault must never cause. */
export function unexplained(failures: readonly TrafficFailure[], windows: readonly AllowedWindow[]): TrafficFailure[] {
  return failures.filter(
    (f) => !windows.some((w) => f.start >= w.from && f.start <= w.to && (w.kind === undefined || w.kind === f.kind) && (w.servers === undefined || w.servers.includes(f.server))),
  );
}

/** Failures counted by kind and error, e.g. `{ "new ECONNREFUSED": 3 }`. */
export function failureCounts(failures: readonly TrafficFailure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of failures) counts[`${f.kind} ${f.error}`] = (counts[`${f.kind} ${f.error}`] ?? 0) + 1;
  return counts;
}
