// An open-loop HTTP client at a fixed rate, run inside the client namespace by workloads.ts:
// a new TCP connection per request (`Connection: close`), started on a schedule whatever the
// answers do, and each latency counted from its scheduled start to the end of the answer, so a
// stall shows as latency instead of silently lowering the rate (coordinated omission).
// Prints one JSON line: {"sent", "ok", "failed", "late", "p50Ms", "p99Ms", "maxMs"}.
//
// Usage: node paced-client.js ADDRESS PORT RATE SECONDS

import { connect } from 'node:net';
import { quantile } from './report.js';

const [address, portText, rateText, secondsText] = process.argv.slice(2);
const port = Number(portText);
const rate = Number(rateText);
const seconds = Number(secondsText);
if (!address || !(port > 0) || !(rate > 0 && rate <= 20000) || !(seconds > 0 && seconds <= 120)) {
  console.error('usage: paced-client ADDRESS PORT RATE(1..20000) SECONDS(1..120)');
  process.exit(2);
}

const timeoutMs = 2000;
/** Beyond this many open requests the generator, not the system, is the bottleneck: skip and count. */
const maxInFlight = 2000;
const request = `GET / HTTP/1.1\r\nHost: ${address}\r\nConnection: close\r\n\r\n`;

const latencies: number[] = [];
let sent = 0;
let failed = 0;
let late = 0;
let inFlight = 0;

function launch(scheduledAt: number): void {
  sent++;
  inFlight++;
  let done = false;
  const finish = (ok: boolean) => {
    if (done) return;
    done = true;
    inFlight--;
    if (ok) latencies.push(performance.now() - scheduledAt);
    else failed++;
  };
  const socket = connect({ host: address!, port }, () => socket.write(request));
  let answer = '';
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timeout')));
  socket.on('data', (d: Buffer) => {
    if (answer.length < 64) answer += d.toString('latin1');
  });
  socket.on('end', () => {
    finish(answer.startsWith('HTTP/1.1 200'));
    socket.destroy();
  });
  socket.on('error', () => finish(false));
  socket.on('close', () => finish(false));
}

const start = performance.now();
const intervalMs = 1000 / rate;
const total = Math.round(rate * seconds);
let next = 0;
const timer = setInterval(() => {
  const now = performance.now();
  // Every request whose time has come, each with its own scheduled start.
  while (next < total && start + next * intervalMs <= now) {
    const at = start + next * intervalMs;
    next++;
    if (inFlight >= maxInFlight) late++;
    else launch(at);
  }
  if (next >= total) clearInterval(timer);
}, 1);

const deadline = start + seconds * 1000 + timeoutMs + 1000;
const waiter = setInterval(() => {
  if ((next >= total && inFlight === 0) || performance.now() > deadline) {
    clearInterval(waiter);
    const sorted = latencies.sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? quantile(sorted, q) : NaN);
    console.log(JSON.stringify({ sent, ok: sorted.length, failed: failed + inFlight, late, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) }));
    process.exit(0);
  }
}, 50);
