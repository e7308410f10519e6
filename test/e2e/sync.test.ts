// Session sync end to end (docs/sync.md): lb1 active and lb2 backup share one redis; 100 echo
// connections, an HTTP keep-alive connection through a PROXY v2 service and a real MariaDB
// client session run through the VIP; lb1 is killed with SIGKILL and lb2 promoted at once.
// With sync every connection carries on (stall < 1 s each, the feature's definition), the
// same connections with the same ports; without it (the negative control) they all break.
// Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stallSummary, type EchoConnectionReport } from './echo-clients.js';
import { requireRoot, waitFor } from './netns.js';
import { echoRequest } from './servers.js';
import { services, sessionsOf, startSyncLab, vip, waitSessionsFor, waitSyncState, type SyncLab } from './sync-lab.js';
import { brokenOnes, keepPolling, maxStallMs, openLongLived, stalledOnes, type DbIdentity, type LongLived } from './sync-traffic.js';
import { plan } from './topology.js';

const skip = requireRoot();
/** Traffic kept flowing after the promotion before the connections are judged. */
const settleMs = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('failover with session sync keeps every connection', { skip }, () => {
  let lab: SyncLab;
  let traffic: LongLived;
  let baseline: { db: DbIdentity; http: string };

  before(async () => {
    lab = await startSyncLab();
    const lb1 = await lab.startLb('lb1', { enabled: true, role: 'active' });
    const lb2 = await lab.startLb('lb2', { enabled: true, role: 'backup' });
    await waitSyncState(lb1, 'synced');
    await waitSyncState(lb2, 'synced');
    traffic = await openLongLived(lab);
    baseline = { db: await traffic.dbIdentity(), http: await traffic.http.get('/') };
  });

  after(async () => {
    await traffic?.close();
    await lab?.destroy();
  });

  test('before the failover: traffic flows through lb1 and lb2 holds a copy of every session', async () => {
    assert.equal(baseline.http, `${plan.clientAddress}:${traffic.http.localPort}\n`);
    assert.equal(baseline.db.serverSeesPeer.split(':')[0], plan.localAddresses[0]);
    const reports = await traffic.echo.report();
    assert.deepEqual(brokenOnes(reports), []);
    assert.ok(reports.every((r) => r.replies > 0), 'some echo connection has had no reply yet');
    const copies = await waitSessionsFor(lab.lbs.lb2!, 'echo', traffic.echo.localPorts);
    const originals = await sessionsOf(lab.lbs.lb1!, 'echo');
    // The copy is the same session: same local address and port, same real server.
    const key = (s: { client: { port: number }; local: { address: string; port: number }; realServerName: string }) => `${s.client.port} ${s.local.address}:${s.local.port} ${s.realServerName}`;
    const copied = new Set(copies.map(key));
    const uncopied = originals.filter((s) => traffic.echo.localPorts.includes(s.client.port) && !copied.has(key(s)));
    assert.deepEqual(uncopied, []);
    assert.ok(copies.every((s) => s.origin === 'peer') && originals.every((s) => s.origin === 'local'), 'origins');
    await waitSessionsFor(lab.lbs.lb2!, 'web', [traffic.http.localPort]);
    await waitSessionsFor(lab.lbs.lb2!, 'mysql', [baseline.db.clientPort]);
  });

  test('kill -9 lb1, promote lb2: every connection carries on', async () => {
    const http = keepPolling(() => traffic.http.get('/'), 200);
    const db = keepPolling(() => traffic.db.query('SELECT CONNECTION_ID()'), 500);
    const { promoteMs, reapedMs } = await lab.failover('lb1', 'lb2');
    await sleep(settleMs);
    const [httpPolls, dbPolls] = [await http.stop(), await db.stop()];
    const reports = await traffic.echo.report();
    const stalls = stallSummary(reports);
    console.log(`# failover stalls over ${reports.length} echo connections: max ${stalls.max} ms, p99 ${stalls.p99} ms, median ${stalls.median} ms; ` +
      `lb2 promoted ${promoteMs} ms after the kill, lb1 reaped after ${reapedMs} ms; slowest HTTP request ${httpPolls.maxLatencyMs} ms, slowest query ${dbPolls.maxLatencyMs} ms`);

    assert.deepEqual(brokenOnes(reports), []);
    assert.deepEqual(stalledOnes(reports), [], `connections that stalled ${maxStallMs} ms or more`);
    assert.equal(httpPolls.error, undefined);
    assert.equal(dbPolls.error, undefined);
    assert.ok(httpPolls.done > 0 && dbPolls.done > 0);
  });

  test('after the failover: the same HTTP connection, the same MariaDB connection, through lb2', async () => {
    assert.equal(await traffic.http.get('/'), baseline.http);
    const log = traffic.httpLog();
    assert.ok(log.length >= 3, JSON.stringify(log));
    assert.deepEqual(new Set(log.map((l) => l.connection)).size, 1, `nginx saw more than one connection: ${JSON.stringify(log)}`);
    assert.deepEqual(log.map((l) => l.request), log.map((_, i) => i + 1));

    assert.deepEqual(await traffic.dbIdentity(), baseline.db);
    assert.deepEqual(await traffic.db.query('SELECT 6 * 7'), [['42']]);

    const lb2 = lab.lbs.lb2!;
    const held = await sessionsOf(lb2, 'echo');
    const ports = new Set(held.map((s) => s.client.port));
    assert.deepEqual(traffic.echo.localPorts.filter((p) => !ports.has(p)), [], 'lb2 lost echo sessions');
    assert.ok(held.every((s) => s.state === 'established'), JSON.stringify(held.filter((s) => s.state !== 'established')));
    assert.ok(held.every((s) => s.origin === 'local'), 'every echo session has carried packets on lb2');
    assert.equal((await lb2.ok('GET', '/api/v1/sync')).role, 'active');
    // And lb2 takes new connections as the active node.
    assert.equal(await echoRequest(lab.topo.ns.client, 'tcp', vip, services.echo.port, 'fresh'), 'fresh');
  });

  test('lb1 back as a backup gets every session from lb2, and failing back keeps every connection too', async () => {
    const lb1 = await lab.startLb('lb1', { enabled: true, role: 'backup' });
    await waitSyncState(lb1, 'synced');
    await waitSessionsFor(lb1, 'echo', traffic.echo.localPorts);
    await waitSessionsFor(lb1, 'web', [traffic.http.localPort]);
    await waitSessionsFor(lb1, 'mysql', [baseline.db.clientPort]);
    traffic.echo.resetGaps();
    await lab.failover('lb2', 'lb1');
    await sleep(settleMs);
    const reports = await traffic.echo.report();
    const stalls = stallSummary(reports);
    console.log(`# failback stalls over ${reports.length} echo connections: max ${stalls.max} ms, p99 ${stalls.p99} ms, median ${stalls.median} ms`);
    assert.deepEqual(brokenOnes(reports), []);
    assert.deepEqual(stalledOnes(reports), [], `connections that stalled ${maxStallMs} ms or more`);
    assert.equal(await traffic.http.get('/'), baseline.http);
    assert.deepEqual(await traffic.dbIdentity(), baseline.db);
  });
});

// Two ways to have no copies: sync off on both (then lb2 is no backup: it would forward beside
// lb1 and answer ARP for the same VIP, so it starts only when lb1 is dead), and sync on with
// every service's own `sync` off (lb2 is a real, silent backup that was told nothing).
const negativeControls = [
  { name: 'sync disabled on both', lb2StartsAfterKill: true, sync: { enabled: false, servicesSynced: true } },
  { name: 'services not synced', lb2StartsAfterKill: false, sync: { enabled: true, servicesSynced: false } },
] as const;

for (const control of negativeControls) {
  describe(`negative control (${control.name}): the same failover breaks every connection`, { skip }, () => {
    let lab: SyncLab;
    let traffic: LongLived;

    before(async () => {
      lab = await startSyncLab();
      await lab.startLb('lb1', { ...control.sync, role: 'active' });
      if (!control.lb2StartsAfterKill) await lab.startLb('lb2', { ...control.sync, role: 'backup' });
      traffic = await openLongLived(lab);
    });

    after(async () => {
      await traffic?.close();
      await lab?.destroy();
    });

    test('connections flow through lb1 before', async () => {
      const reports = await traffic.echo.report();
      assert.deepEqual(brokenOnes(reports), []);
      assert.ok(reports.every((r) => r.replies > 0));
      if (lab.lbs.lb2) assert.deepEqual(await sessionsOf(lab.lbs.lb2, 'echo'), []);
    });

    test('kill -9 lb1, promote lb2: no connection gets another echo (reset or silence)', async () => {
      if (control.lb2StartsAfterKill) {
        await lab.kill('lb1');
        await lab.startLb('lb2', { ...control.sync, role: 'backup' });
        await lab.promote('lb2');
      } else {
        await lab.failover('lb1', 'lb2');
      }
      // Broken: reset or closed, or its oldest line unanswered for longer than TCP's first
      // retransmissions take (they reach lb2, which knows nothing of the connection).
      const dead = (r: EchoConnectionReport) => r.broken !== null || r.waitingMs > 3 * maxStallMs;
      let last: EchoConnectionReport[] = [];
      await waitFor('every echo connection to be broken', async () => {
        last = await traffic.echo.report();
        if (!last.every(dead)) throw new Error(`alive: ${last.filter((r) => !dead(r)).map((r) => `${r.localPort} (waiting ${r.waitingMs} ms)`).join(', ')}`);
        return true;
      }, 100, 200);
      const reset = last.filter((r) => r.broken).length;
      console.log(`# without copies: ${reset} of ${last.length} echo connections reset or closed, ${last.length - reset} silent`);
      await assert.rejects(traffic.http.get('/', 3000));
      await assert.rejects(traffic.db.query('SELECT CONNECTION_ID()', 3000));
    });
  });
}
