// Configuration-store metrics: with etcd, whether this node follows it, the revisions it has
// seen and applied, a revision it refused, and its writes (committed, retried after another
// writer came first, given up, or refused because etcd was away). Nothing with SQLite alone.

import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ConfigStoreStatus } from '../../store/etcd/etcd-config-store.js';
import { restatedMetric, type Sample } from './restated-metric.js';

export function registerConfigStoreMetrics(app: FastifyInstance, registry: Registry): void {
  const status = (): ConfigStoreStatus | undefined => {
    const s = app.configStore();
    return s.backend === 'etcd' ? s : undefined;
  };
  const gauge = (name: string, help: string, read: (s: ConfigStoreStatus) => number) =>
    restatedMetric('gauge', registry, name, help, [], (s): Sample[] => [[{}, read(s)]], status);
  gauge('l4lb_config_store_connected', '1 while this node follows etcd (watch running, quorum read in the last second or two).', (s) => (s.connected ? 1 : 0));
  gauge('l4lb_config_store_stale', '1 while reads may be behind the cluster: etcd unreachable, or a revision refused here.', (s) => (s.stale ? 1 : 0));
  gauge('l4lb_config_store_applied_revision', 'The etcd revision this node applied.', (s) => s.appliedRevision ?? 0);
  gauge('l4lb_config_store_seen_revision', 'The newest etcd revision this node has read.', (s) => s.seenRevision ?? 0);
  gauge('l4lb_config_store_refused', '1 while this node cannot apply the cluster configuration (its local objects do not fit).', (s) => (s.refusal ? 1 : 0));
  gauge('l4lb_config_store_unreadable_keys', 'Keys under the prefix this node ignores (not an object it accepts).', (s) => s.unreadableKeys?.length ?? 0);
  restatedMetric('counter', registry, 'l4lb_config_store_events_total', 'What this node did with the cluster configuration: applied, refused, full reloads (start, compaction), watch starts.', ['event'], (s): Sample[] => [
    [{ event: 'applied' }, s.counters?.applied ?? 0],
    [{ event: 'refused' }, s.counters?.refused ?? 0],
    [{ event: 'full_reload' }, s.counters?.fullReloads ?? 0],
    [{ event: 'watch_start' }, s.counters?.watchStarts ?? 0],
  ], status);
  restatedMetric('counter', registry, 'l4lb_config_store_writes_total', 'Writes of cluster-wide objects through this node, by outcome.', ['outcome'], (s): Sample[] => [
    [{ outcome: 'committed' }, s.counters?.writesCommitted ?? 0],
    [{ outcome: 'retried' }, s.counters?.writesRetried ?? 0],
    [{ outcome: 'contended' }, s.counters?.writesContended ?? 0],
    [{ outcome: 'unavailable' }, s.counters?.writesUnavailable ?? 0],
  ], status);
}
