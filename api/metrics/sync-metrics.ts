// Session-sync metrics: the bridge's counters and state, read from the engine at scrape time,
// and the lag of every batch received as a histogram.

import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import type { SyncStatus } from '../../engine/engine.js';
import { restatedMetric, type Sample } from './restated-metric.js';

const states = ['disabled', 'connecting', 'synced', 'degraded', 'not-running'] as const;
const roles = ['active', 'backup', 'multi-active'] as const;

export function registerSyncMetrics(app: FastifyInstance, registry: Registry): void {
  const engine = app.engine;
  // One status per scrape, shared by every metric below (it sorts the lag samples).
  let scraped: { at: number; status: SyncStatus } | undefined;
  const status = (): SyncStatus => {
    const now = performance.now();
    if (!scraped || now - scraped.at > 100) scraped = { at: now, status: engine.syncStatus() };
    return scraped.status;
  };

  // Values the bridge keeps: each scrape restates them.
  const counter = (name: string, help: string, labelNames: string[], read: (s: SyncStatus) => Sample[]) =>
    restatedMetric('counter', registry, name, help, labelNames, read, status);
  const gauge = (name: string, help: string, labelNames: string[], read: (s: SyncStatus) => Sample[]) =>
    restatedMetric('gauge', registry, name, help, labelNames, read, status);

  counter('l4lb_sync_records_sent_total', 'Session records published to peers (live and snapshot).', [], (s) => [[{}, s.records.sent]]);
  counter('l4lb_sync_records_received_total', 'Session records received from peers and the stream replay.', [], (s) => [[{}, s.records.received]]);
  counter('l4lb_sync_records_applied_total', 'Peer session records handed to the data plane\'s workers.', [], (s) => [[{}, s.records.applied]]);
  counter('l4lb_sync_records_dropped_total', 'Session records lost, by reason (the bridge\'s and the data plane\'s).', ['reason'], (s) =>
    Object.entries(s.records.dropped).map(([reason, n]): Sample => [{ reason }, n]));
  counter('l4lb_sync_peer_records_received_total', 'Session records received from each peer heard from in the last 5 s (batches refused whole not counted): the fan-out of an all-to-all cluster.', ['peer'], (s) =>
    s.peers.map((p): Sample => [{ peer: p.nodeId }, p.recordsReceived]));
  counter('l4lb_sync_sessions_taken_over_total', 'Sessions from a peer that a packet here made this node\'s own: a failover, or a flow an ECMP change moved here.', [], (s) => [[{}, s.records.takenOver]]);
  counter('l4lb_sync_taken_over_packets_total', 'Packets forwarded for sessions taken over from peers (a dead node\'s, or flows an ECMP change moved here).', [], (s) => [[{}, s.records.takenOverPackets]]);
  gauge('l4lb_sync_peer_sessions', 'Live sessions held as copies from peers, not yet touched by a packet here.', [], (s) => [[{}, s.records.peerSessions]]);
  gauge('l4lb_sync_cluster_ready', 'Multi-active: 1 once this node holds the cluster\'s sessions (it announces its VIPs by BGP only then).', [], (s) =>
    s.clusterReady === undefined ? [] : [[{}, s.clusterReady ? 1 : 0]]);
  counter('l4lb_sync_ring_overflows_total', 'Sync events lost because a worker\'s sync ring was full.', [], (s) => [[{}, s.records.ringOverflows]]);
  counter('l4lb_sync_batches_sent_total', 'Batches published to peers.', [], (s) => [[{}, s.batches.sent]]);
  counter('l4lb_sync_snapshots_sent_total', 'Full snapshots published in answer to peers\' requests.', [], (s) => [[{}, s.snapshots.sent]]);
  counter('l4lb_sync_redis_errors_total', 'Redis connection and command failures.', [], (s) => [[{}, s.redisErrors]]);
  gauge('l4lb_sync_peers', 'Peers heard from in the last 5 s, by whether their sessions can run here.', ['compatible'], (s) => [
    [{ compatible: 'true' }, s.peers.filter((p) => p.compatible).length],
    [{ compatible: 'false' }, s.peers.filter((p) => !p.compatible).length],
  ]);
  gauge('l4lb_sync_state', 'Session-sync state: 1 for the current one, 0 for the others.', ['state'], (s) =>
    states.map((state): Sample => [{ state }, s.state === state ? 1 : 0]));
  gauge('l4lb_sync_node_info', 'This node\'s id in sync, as a label (1 while sync runs).', ['node_id'], (s) => (s.nodeId ? [[{ node_id: s.nodeId }, 1]] : []));
  gauge('l4lb_sync_peer_last_seen_seconds', 'Seconds since each peer was last heard from, with its role, whether its sessions can run here, and why not.', ['peer', 'role', 'compatible', 'reason'], (s) =>
    s.peers.map((p): Sample => [{ peer: p.nodeId, role: p.role, compatible: String(p.compatible), reason: p.reason ?? '' }, p.lastSeenMsAgo / 1000]));
  gauge('l4lb_sync_role', 'The role sync runs: 1 for the current one, 0 for the other (both 0 when not running).', ['role'], (s) =>
    roles.map((role): Sample => [{ role }, s.role === role ? 1 : 0]));

  const lag = new Histogram({
    name: 'l4lb_sync_lag_seconds',
    help: 'Time from a peer sending a batch to this node receiving it.',
    buckets: [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  engine.onSyncLag((ms) => lag.observe(ms / 1000));
}
