// The bridge through Redis Sentinel, against real processes: a Redis primary, one replica and
// three redis-sentinel (quorum 2, down-after-milliseconds 500) on 127.0.0.1, two bridges on
// fake data planes connected with `redis+sentinel://…/mymaster`. A kill -9 of the primary
// must move both bridges to the promoted replica, resubscribed and resynced, with records
// flowing again. Every wait is bounded; the switch time is printed, never asserted.

import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { RedisLinks } from '../../engine/sync/redis.js';
import { fakeRecord } from './fake-data-plane.js';
import { peerOf, TestNodes, type TestNode } from './nodes.js';
import type { RedisServer } from '../redis-server.js';
import { RedisSentinelGroup, sentinelMissing } from '../redis-sentinel-group.js';
import { waitFor } from './wait.js';
import { waitFor as retry } from '../e2e/netns.js';

const missing = sentinelMissing();
const password = 'pw-sentinel-test';
const synced = (...nodes: TestNode[]) => nodes.every((n) => n.status().state === 'synced');

/** The bridge's two Redis links (private to it: the test looks at where they lead). */
function links(node: TestNode): RedisLinks {
  return (node.bridge as unknown as { links: RedisLinks }).links;
}

/** The server port both of a node's links are connected to, or 0 while either is not ready. */
function serverPort(node: TestNode): number {
  const { commands, subscriber } = links(node);
  const port = (link: Redis) => (link.status === 'ready' ? (link.stream as { remotePort?: number }).remotePort ?? 0 : 0);
  return port(commands) === port(subscriber) ? port(commands) : 0;
}

type Loss = 'kill' | 'hang';

/**
 * Two bridges (a active, b backup) through the group's sentinels; the primary is lost (`kill`:
 * kill -9; `hang`: SIGSTOP, a primary that vanishes without closing a socket, as a host powered
 * off does); both bridges must end on the promoted replica, resubscribed and resynced.
 */
async function failover(t: TestContext, group: RedisSentinelGroup, nodes: TestNodes, loss: Loss): Promise<void> {
  t.diagnostic(`primary ${group.primaryPort}, replica ${group.replicaPort}, ${group.url}`);
  const a = nodes.start('a', 'active', { password });
  a.plane.sessions = [fakeRecord(7001), fakeRecord(7002)];
  const b = nodes.start('b', 'backup', { password });
  try {
    await waitFor('both synced', () => synced(a, b));
    assert.equal(serverPort(a), group.primaryPort);
    assert.equal(serverPort(b), group.primaryPort);
    await waitFor('the joining snapshot', () => b.plane.portsFrom(a.number).length >= 2);
    a.plane.emit(1001);
    await waitFor('a live record', () => b.plane.portsFrom(a.number).includes(1001));

    const snapshotsSent = a.status().snapshots.sent;
    const requested = b.status().snapshots.requested;
    const snapshotsReceived = b.status().snapshots.received;

    // When the sentinels announce the new primary, for the record.
    const watcher = group.sentinelSubscriber(group.sentinelPorts[1]!);
    let switchedAt = 0;
    watcher.on('message', (channel: string) => {
      if (channel === '+switch-master' && !switchedAt) switchedAt = Date.now();
    });
    await watcher.subscribe('+switch-master');

    // From the kill on, a emits a record every 10 ms: the first one b receives marks the
    // moment delivery resumed (the ones drained while Redis was away are dropped).
    const killedAt = Date.now();
    if (loss === 'kill') await group.killPrimary();
    else group.pausePrimary();
    let next = 20000;
    const ticker = setInterval(() => a.plane.emit(next++), 10);
    let resumedMs: number;
    try {
      await waitFor('a degraded', () => a.status().state === 'degraded', 20_000);
      await waitFor('delivery resumed after the failover', () => b.plane.portsFrom(a.number).some((p) => p >= 20000), 30_000);
      resumedMs = Date.now() - killedAt;
    } finally {
      clearInterval(ticker);
      watcher.disconnect();
    }
    const switched = switchedAt ? `${switchedAt - killedAt} ms to +switch-master, ` : '';
    console.log(`sentinel failover (${loss === 'kill' ? 'kill -9 of' : 'SIGSTOP to'} the primary): to the first record delivered again: ${resumedMs} ms (${switched}down-after-milliseconds 500)`);

    await waitFor('both synced again', () => synced(a, b), 10_000);
    for (const port of group.sentinelPorts) {
      await retry(`sentinel ${port} to name the replica primary`, async () => (await group.primaryAccordingTo(port)) === group.replicaPort, 100, 100);
    }
    assert.equal(serverPort(a), group.replicaPort, "a's links lead to the new primary");
    assert.equal(serverPort(b), group.replicaPort, "b's links lead to the new primary");
    const dropped = a.status().records.dropped;
    t.diagnostic(`records drained while away: dropped ${JSON.stringify(dropped)}; redis errors a=${a.status().redisErrors} b=${b.status().redisErrors}`);

    // The resync: the active published a snapshot, the backup asked for one and received it.
    await waitFor('the active published a snapshot', () => a.status().snapshots.sent > snapshotsSent, 10_000);
    await waitFor('the backup asked for one', () => b.status().snapshots.requested > requested, 10_000);
    await waitFor('the backup received it', () => b.status().snapshots.received > snapshotsReceived, 10_000);
    // One outage each, seen as close then ready: the links were not dropped a second time
    // when +switch-master came after they had found the new primary.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const node of [a, b]) {
      assert.deepEqual(node.stateChanges, [
        'synced: joined Redis',
        'degraded: the connection to Redis was lost; records are dropped until it is back',
        'synced: Redis is back; resyncing',
      ]);
    }
    assert.ok(links(a).switchWatch!.switches >= 1, 'the switch was heard');

    // Both subscribers are on the new primary, each on the two channels.
    const primary = group.client(group.replicaPort);
    try {
      const list = await primary.client('LIST');
      const subscribers = String(list).split('\n').filter((line) => / sub=2 /.test(line));
      assert.equal(subscribers.length, 2, String(list));
    } finally {
      primary.disconnect();
    }

    // Records flow both ways, and the hellos go on.
    a.plane.emit(3001);
    b.plane.emit(4001);
    await waitFor("a's record at b", () => b.plane.portsFrom(a.number).includes(3001), 10_000);
    await waitFor("b's record at a", () => a.plane.portsFrom(b.number).includes(4001), 10_000);
    await waitFor('b heard again', () => (peerOf(a, 'b')?.lastSeenMsAgo ?? Infinity) < 1500, 10_000);
  } catch (err) {
    t.diagnostic(`a: ${a.stateChanges.join(' | ')}; b: ${b.stateChanges.join(' | ')}; a lastError: ${a.status().lastError}`);
    t.diagnostic(group.logs());
    throw err;
  }
}

describe('sync bridge through Redis Sentinel', { skip: missing }, () => {
  const groups: RedisSentinelGroup[] = [];
  const nodeSets: TestNodes[] = [];

  after(async () => {
    for (const nodes of nodeSets) nodes.closeAll();
    for (const group of groups) await group.close();
  });

  // Each test has a group of its own: after a failover the group has no replica left.
  async function setUp(): Promise<{ group: RedisSentinelGroup; nodes: TestNodes }> {
    // Redis and the sentinels both ask for the password (the sentinels take redisPassword too).
    const group = new RedisSentinelGroup({ password, sentinelPassword: password, downAfterMs: 500, failoverTimeoutMs: 3000 });
    groups.push(group);
    await group.start();
    // TestNodes reads nothing of its server but `url`.
    const nodes = new TestNodes({ url: group.url } as unknown as RedisServer);
    nodeSets.push(nodes);
    return { group, nodes };
  }

  test('kill -9 of the primary: both bridges move to the promoted replica, resubscribed and resynced', async (t) => {
    const { group, nodes } = await setUp();
    await failover(t, group, nodes, 'kill');
  });

  test('a primary that hangs (SIGSTOP, no socket closes): the +switch-master watch moves both bridges', async (t) => {
    const { group, nodes } = await setUp();
    await failover(t, group, nodes, 'hang');
  });
});
