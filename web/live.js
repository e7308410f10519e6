// The live view's data: every 2 s one snapshot of the services, their real servers, the NICs,
// sync and the configuration generation, all from the REST API; rates (per second) come from
// the change of the data plane's monotonic counters between two snapshots, the same counters
// /metrics exports as *_total.

import { ApiError, list, request } from './api.js';

const pollIntervalMs = 2000;

const enc = encodeURIComponent;

/** /readyz: the engine and the generations; its 503 (not caught up yet) carries them too. */
async function readiness() {
  try {
    return await request('GET', '/readyz');
  } catch (err) {
    if (err instanceof ApiError && err.status === 503) return err.problem;
    throw err;
  }
}

async function snapshot() {
  const [services, nics, sync, bgp, health] = await Promise.all([
    list('/api/v1/virtual-services'),
    list('/api/v1/nics'),
    request('GET', '/api/v1/sync'),
    request('GET', '/api/v1/bgp'),
    readiness(),
  ]);
  const servers = Object.fromEntries(await Promise.all(
    services.map(async (s) => [s.name, await list(`/api/v1/virtual-services/${enc(s.name)}/real-servers`)])));
  return { at: performance.now(), services, servers, nics, sync, bgp, health };
}

/** The counters of a snapshot, by a key that names the object and the counter. */
function counters(snap) {
  const out = new Map();
  const add = (prefix, values) => {
    for (const [field, v] of Object.entries(values ?? {})) if (typeof v === 'number') out.set(`${prefix}:${field}`, v);
  };
  for (const s of snap.services) {
    add(`vs:${s.name}`, s.status?.traffic);
    for (const r of snap.servers[s.name] ?? []) add(`rs:${s.name}:${r.name}`, r.status?.traffic);
  }
  for (const n of snap.nics) {
    const c = n.status?.counters ?? {};
    add(`nic:${n.name}`, { rxPackets: c.rxPackets, txPackets: c.txPackets, rxBytes: c.rxBytes, txBytes: c.txBytes });
  }
  return out;
}

/**
 * rate('vs:web:packetsIn') → per second since the previous snapshot; null on the first one,
 * for a new object, or when a counter went backwards (the appliance restarted).
 */
function rates(previous, current) {
  const before = previous ? counters(previous) : new Map();
  const now = counters(current);
  const seconds = previous ? (current.at - previous.at) / 1000 : 0;
  return (key) => {
    const a = before.get(key);
    const b = now.get(key);
    if (a === undefined || b === undefined || b < a || seconds <= 0) return null;
    return (b - a) / seconds;
  };
}

/**
 * Polls until the page closes: onData({ ...snapshot, rate }) after each success, onError(err)
 * after a failure (polling goes on, so a token entered later takes effect). Returns `now()`,
 * which polls at once (after a write, so the view shows it without waiting).
 */
export function startPolling(onData, onError) {
  let previous = null;
  let timer = null;
  let running = null;
  const poll = async () => {
    clearTimeout(timer);
    try {
      const current = await snapshot();
      await onData({ ...current, rate: rates(previous, current) });
      previous = current;
    } catch (err) {
      onError(err);
    }
    timer = setTimeout(now, pollIntervalMs);
  };
  const now = () => {
    // One poll at a time: a request for another during one runs right after it.
    running = (running ?? Promise.resolve()).then(poll);
    const mine = running;
    mine.then(() => { if (running === mine) running = null; });
    return mine;
  };
  now();
  return now;
}

const units = ['', 'k', 'M', 'G', 'T'];

/** 1234567 → "1.23M"; null → "—". */
export function compact(value, suffix = '') {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v === 0 || Math.abs(v) >= 100 || (i === 0 && Number.isInteger(v)) ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${units[i]}${suffix}`;
}
