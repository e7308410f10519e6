import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../api/app.js';
import { OffEngine } from '../../engine/off-engine.js';
import { Reconciler } from '../../engine/reconciler.js';
import type { SyncStatus } from '../../engine/sync/stats.js';
import { openDb } from '../../store/db.js';
import { Store } from '../../store/store.js';
import { json, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

test('GET /api/v1/sync shows the bridge status; /metrics has the sync metrics', async () => {
  const t = await testApp();
  try {
    const off = json(await t.request('GET', '/api/v1/sync')).status;
    assert.equal(off.state, 'disabled');
    assert.deepEqual(off.peers, []);

    await t.request('PUT', '/api/v1/sync', { enabled: true, redisUrl: 'unix:///run/redis.sock', redisPassword: 'pw-secret', role: 'backup' });
    const response = await t.request('GET', '/api/v1/sync');
    assert.ok(!response.body.includes('pw-secret'));
    const status = json(response).status;
    // The engine is off: there is no data plane to sync.
    assert.equal(status.state, 'not-running');
    assert.deepEqual(status.peers, []);
    assert.deepEqual(status.records, { sent: 0, received: 0, applied: 0, installed: 0, updated: 0, closed: 0, peerSessions: 0, takenOver: 0, takenOverPackets: 0, ringOverflows: 0, dropped: {} });
    assert.deepEqual(status.batches, { sent: 0, received: 0 });
    assert.deepEqual(status.snapshots, { sent: 0, requested: 0, received: 0 });
    assert.deepEqual(status.lag, { p50Ms: null, p99Ms: null, lastMs: null });
    assert.equal(status.redisErrors, 0);

    const metrics = (await t.request('GET', '/metrics')).body;
    for (const line of [
      'l4lb_sync_records_sent_total 0',
      'l4lb_sync_records_received_total 0',
      'l4lb_sync_records_applied_total 0',
      'l4lb_sync_ring_overflows_total 0',
      'l4lb_sync_batches_sent_total 0',
      'l4lb_sync_snapshots_sent_total 0',
      'l4lb_sync_redis_errors_total 0',
      'l4lb_sync_lag_seconds_count 0',
      'l4lb_sync_peers{compatible="true"} 0',
      'l4lb_sync_state{state="not-running"} 1',
      'l4lb_sync_state{state="synced"} 0',
      'l4lb_sync_role{role="active"} 0',
    ])
      assert.ok(metrics.includes(`\n${line}\n`), `${line} in /metrics`);
    assert.match(metrics, /# TYPE l4lb_sync_records_dropped_total counter/);
  } finally {
    await t.close();
  }
});

test('a Redis URL the bridge could not use is refused', async () => {
  const t = await testApp();
  try {
    assertProblem(await t.request('PUT', '/api/v1/sync', { enabled: true, redisUrl: 'redis://10.0.0.5/db1' }), 422, '/body/redisUrl', "database 'db1'");
    assertProblem(await t.request('PATCH', '/api/v1/sync', { redisUrl: 'unix://relative/sock' }), 422, '/body/redisUrl', 'unix:///absolute');
  } finally {
    await t.close();
  }
});

test('/metrics names this node and each peer, with its role, compatibility and reason, as the panel shows them', async () => {
  const store = new Store(openDb(':memory:'));
  const engine = new (class extends OffEngine {
    override syncStatus(): SyncStatus {
      return {
        ...super.syncStatus(),
        state: 'synced',
        role: 'active',
        nodeId: 'lb1',
        peers: [
          { nodeId: 'lb2', role: 'backup', lastSeenMsAgo: 250, compatible: true, recordsReceived: 12 },
          { nodeId: 'lb3', role: 'unknown', lastSeenMsAgo: 1500, compatible: false, reason: 'workers 4, here 2', recordsReceived: 0 },
        ],
      };
    }
  })();
  const reconciler = new Reconciler(store, engine);
  reconciler.start();
  const app = await buildApp({ store, reconciler });
  try {
    const metrics = (await app.inject({ url: '/metrics' })).body;
    for (const line of [
      'l4lb_engine_info{mode="off"} 1',
      'l4lb_sync_node_info{node_id="lb1"} 1',
      'l4lb_sync_peer_last_seen_seconds{peer="lb2",role="backup",compatible="true",reason=""} 0.25',
      'l4lb_sync_peer_last_seen_seconds{peer="lb3",role="unknown",compatible="false",reason="workers 4, here 2"} 1.5',
    ])
      assert.ok(metrics.includes(`\n${line}\n`), `${line} in /metrics`);
  } finally {
    await app.close();
    store.close();
  }
});
