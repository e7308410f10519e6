// Session sync when things other than the active appliance fail (docs/sync.md, DESIGN.md
// "Session sync"): every appliance crashes and fresh ones rebuild the sessions from the Redis
// stream; a backup that joins after the connections opened gets them in a snapshot; Redis dies
// and comes back while forwarding goes on. Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stallSummary, type EchoClients } from './echo-clients.js';
import { requireRoot } from './netns.js';
import { startSyncLab, waitSessionsFor, waitSyncState, type SyncLab } from './sync-lab.js';
import { brokenOnes, maxStallMs, openEchoClients, stalledOnes, waitAllAnswering } from './sync-traffic.js';
import { plan } from './topology.js';

const skip = requireRoot();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Kills lb1, promotes lb2 and judges the connections by the criterion. */
async function failoverKeeps(lab: SyncLab, echo: EchoClients[], what: string): Promise<void> {
  for (const e of echo) e.resetGaps();
  const { promoteMs, reapedMs } = await lab.failover('lb1', 'lb2');
  await sleep(3000);
  const reports = (await Promise.all(echo.map((e) => e.report()))).flat();
  const s = stallSummary(reports);
  console.log(`# ${what}: failover stalls over ${reports.length} echo connections: max ${s.max} ms, p99 ${s.p99} ms, median ${s.median} ms (promoted ${promoteMs} ms after the kill, lb1 reaped after ${reapedMs} ms)`);
  assert.deepEqual(brokenOnes(reports), []);
  assert.deepEqual(stalledOnes(reports), [], `connections that stalled ${maxStallMs} ms or more`);
}

describe('every appliance crashes: fresh ones replay the sessions from the Redis stream', { skip }, () => {
  let lab: SyncLab;
  let echo: EchoClients;

  before(async () => {
    lab = await startSyncLab();
    await lab.startLb('lb1', { enabled: true, role: 'active' });
    await lab.startLb('lb2', { enabled: true, role: 'backup' });
    await waitSyncState(lab.lbs.lb1!, 'synced');
    echo = await openEchoClients(lab, { count: 20 });
    // lb2's copies prove the records were published (and so are in the stream).
    await waitSessionsFor(lab.lbs.lb2!, 'echo', echo.localPorts);
  });

  after(async () => {
    await echo?.close();
    await lab?.destroy();
  });

  test('both killed, both started fresh as backups: each holds the open sessions; promoted, lb1 carries them', async () => {
    await lab.kill('lb1');
    await lab.kill('lb2');
    const lastSeen = await echo.report();
    assert.deepEqual(brokenOnes(lastSeen), []);
    // New databases, no snapshot to ask for (no node is alive): only the stream has them.
    for (const lb of ['lb1', 'lb2'] as const) {
      const a = await lab.startLb(lb, { enabled: true, role: 'backup' });
      const held = await waitSessionsFor(a, 'echo', echo.localPorts);
      const mine = held.filter((s) => echo.localPorts.includes(s.client.port));
      assert.ok(mine.every((s) => s.state === 'established' && s.local.address === plan.localAddresses[0]), JSON.stringify(mine));
    }
    await lab.promote('lb1');
    // Both were down for seconds: TCP's retransmission back-off decides when traffic resumes.
    const resumed = await waitAllAnswering(echo, lastSeen);
    assert.deepEqual(brokenOnes(resumed), []);
  });
});

describe('a backup that joins after the connections opened gets a snapshot', { skip }, () => {
  let lab: SyncLab;
  let echo: EchoClients;

  before(async () => {
    lab = await startSyncLab();
    await lab.startLb('lb1', { enabled: true, role: 'active' });
    await waitSyncState(lab.lbs.lb1!, 'synced');
    echo = await openEchoClients(lab);
  });

  after(async () => {
    await echo?.close();
    await lab?.destroy();
  });

  test('lb2 started later (stream replay off) lists every open session, and can take over', async () => {
    await sleep(1000);
    // Replay off: the sessions can come only from the active node's snapshot.
    const lb2 = await lab.startLb('lb2', { enabled: true, role: 'backup', replay: false });
    await waitSyncState(lb2, 'synced');
    const held = await waitSessionsFor(lb2, 'echo', echo.localPorts);
    assert.ok(held.every((s) => s.state === 'established'), JSON.stringify(held.filter((s) => s.state !== 'established')));
    await failoverKeeps(lab, [echo], 'late joiner');
  });
});

describe('Redis dies and comes back: forwarding never stops, sync resumes', { skip }, () => {
  let lab: SyncLab;
  const echo: EchoClients[] = [];

  before(async () => {
    lab = await startSyncLab();
    await lab.startLb('lb1', { enabled: true, role: 'active' });
    await lab.startLb('lb2', { enabled: true, role: 'backup' });
    await waitSyncState(lab.lbs.lb1!, 'synced');
    await waitSyncState(lab.lbs.lb2!, 'synced');
    echo.push(await openEchoClients(lab));
    await waitSessionsFor(lab.lbs.lb2!, 'echo', echo[0]!.localPorts);
  });

  after(async () => {
    for (const e of echo) await e.close();
    await lab?.destroy();
  });

  test('redis killed: both say degraded, and every connection goes on without a stall', async () => {
    await lab.redis.stop('SIGKILL');
    await waitSyncState(lab.lbs.lb1!, 'degraded');
    await waitSyncState(lab.lbs.lb2!, 'degraded');
    // New connections open while Redis is down: lb1 forwards them (and cannot copy them yet).
    echo.push(await openEchoClients(lab, { count: 10 }));
    await sleep(2000);
    const reports = (await Promise.all(echo.map((e) => e.report()))).flat();
    assert.deepEqual(brokenOnes(reports), []);
    assert.deepEqual(stalledOnes(reports), []);
  });

  test('redis back on the same socket: both synced again, lb2 gets the sessions opened meanwhile and after', async () => {
    await lab.redis.start();
    await waitSyncState(lab.lbs.lb1!, 'synced');
    await waitSyncState(lab.lbs.lb2!, 'synced');
    echo.push(await openEchoClients(lab, { count: 10 }));
    const lb2 = lab.lbs.lb2!;
    await waitSessionsFor(lb2, 'echo', echo[2]!.localPorts);
    // Opened while Redis was down: they reach lb2 through the full resync after it returned.
    await waitSessionsFor(lb2, 'echo', echo[1]!.localPorts);
    await waitSessionsFor(lb2, 'echo', echo[0]!.localPorts);
  });

  test('and a failover after all that keeps every connection', async () => {
    await failoverKeeps(lab, echo, 'after the Redis restart');
  });
});
