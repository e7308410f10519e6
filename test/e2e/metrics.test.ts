// /metrics after real traffic: an appliance with two workers in lb1, a service `web` on two
// nginx servers with an http health check, curls through the VIP. The scrape is read as the
// exposition format (test/prometheus-text.ts) and checked for names, units, label names, the
// configured objects' values, valid histograms, and counters that never go down between two
// scrapes with traffic in between. Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addService, configureNetwork, servicePlan, startAppliance, type Appliance } from './appliance.js';
import { curl } from './clients.js';
import { requireRoot, waitFor } from './netns.js';
import { startNginx, type Server } from './servers.js';
import { buildTopology, plan, type Topology } from './topology.js';
import { parsePrometheusText, seriesKey, type PromFamily, type PromSample } from '../prometheus-text.js';

const skip = requireRoot();
const rs = plan.realServers;
const curls = 20;

// The families l4lb registers itself (api/metrics/: metrics.ts, engine-metrics.ts, health-metrics.ts,
// sync-metrics.ts, bgp-metrics.ts, config-store-metrics.ts): type and label names, `le` of histogram buckets aside. prom-client's
// process and Node.js families (l4lb_process_*, l4lb_nodejs_*) are only held to the naming rules.
const families: Record<string, [type: string, labels: string[]]> = {
  l4lb_http_request_duration_seconds: ['histogram', ['method', 'route', 'status_code']],
  l4lb_config_write_duration_seconds: ['histogram', []],
  l4lb_config_objects: ['gauge', ['kind']],
  l4lb_config_generation: ['gauge', []],
  l4lb_config_applied_generation: ['gauge', []],
  l4lb_config_applies_total: ['counter', ['result']],
  l4lb_engine_info: ['gauge', ['mode']],
  l4lb_config_store_connected: ['gauge', []],
  l4lb_config_store_stale: ['gauge', []],
  l4lb_config_store_applied_revision: ['gauge', []],
  l4lb_config_store_seen_revision: ['gauge', []],
  l4lb_config_store_refused: ['gauge', []],
  l4lb_config_store_unreadable_keys: ['gauge', []],
  l4lb_config_store_events_total: ['counter', ['event']],
  l4lb_config_store_writes_total: ['counter', ['outcome']],
  l4lb_nic_packets_total: ['counter', ['nic', 'direction']],
  l4lb_nic_bytes_total: ['counter', ['nic', 'direction']],
  l4lb_nic_kernel_packets_total: ['counter', ['nic', 'direction']],
  l4lb_nic_arp_packets_total: ['counter', ['nic', 'direction']],
  l4lb_nic_neighbour_discovery_packets_total: ['counter', ['nic', 'direction']],
  l4lb_nic_icmp_echo_replies_total: ['counter', ['nic']],
  l4lb_nic_dropped_packets_total: ['counter', ['nic', 'reason']],
  l4lb_nic_device_missed_packets_total: ['counter', ['nic']],
  l4lb_nic_link_up: ['gauge', ['nic']],
  l4lb_service_connections_total: ['counter', ['service']],
  l4lb_service_packets_total: ['counter', ['service', 'direction']],
  l4lb_service_bytes_total: ['counter', ['service', 'direction']],
  l4lb_service_refused_total: ['counter', ['service', 'reason']],
  l4lb_service_rate_limited_total: ['counter', ['service']],
  l4lb_real_server_connections_total: ['counter', ['service', 'real_server']],
  l4lb_real_server_limited_total: ['counter', ['service', 'real_server']],
  l4lb_real_server_packets_total: ['counter', ['service', 'real_server', 'direction']],
  l4lb_real_server_bytes_total: ['counter', ['service', 'real_server', 'direction']],
  l4lb_real_server_sessions: ['gauge', ['service', 'real_server', 'state']],
  l4lb_sessions: ['gauge', ['worker']],
  l4lb_sessions_expired_total: ['counter', []],
  l4lb_sessions_reset_total: ['counter', []],
  l4lb_client_address_total: ['counter', ['method', 'result']],
  l4lb_worker_redirected_packets_total: ['counter', ['worker', 'direction']],
  l4lb_worker_polls_total: ['counter', ['worker', 'kind']],
  l4lb_worker_burst_duration_seconds: ['histogram', ['worker']],
  l4lb_health_probes_total: ['counter', ['type', 'result']],
  l4lb_health_probe_duration_seconds: ['histogram', ['type']],
  l4lb_health_state_changes_total: ['counter', ['service', 'real_server', 'nic', 'to']],
  l4lb_health_state: ['gauge', ['service', 'real_server', 'nic', 'state']],
  l4lb_service_health: ['gauge', ['service', 'state']],
  l4lb_service_real_servers: ['gauge', ['service', 'health']],
  l4lb_service_failing_nic: ['gauge', ['service', 'nic']],
  l4lb_sync_records_sent_total: ['counter', []],
  l4lb_sync_records_received_total: ['counter', []],
  l4lb_sync_records_applied_total: ['counter', []],
  l4lb_sync_records_dropped_total: ['counter', ['reason']],
  l4lb_sync_ring_overflows_total: ['counter', []],
  l4lb_sync_batches_sent_total: ['counter', []],
  l4lb_sync_snapshots_sent_total: ['counter', []],
  l4lb_sync_redis_errors_total: ['counter', []],
  l4lb_sync_peers: ['gauge', ['compatible']],
  l4lb_sync_state: ['gauge', ['state']],
  l4lb_sync_role: ['gauge', ['role']],
  l4lb_sync_node_info: ['gauge', ['node_id']],
  l4lb_sync_peer_last_seen_seconds: ['gauge', ['peer', 'role', 'compatible', 'reason']],
  l4lb_sync_lag_seconds: ['histogram', []],
  l4lb_sync_peer_records_received_total: ['counter', ['peer']],
  l4lb_sync_sessions_taken_over_total: ['counter', []],
  l4lb_sync_taken_over_packets_total: ['counter', []],
  l4lb_sync_peer_sessions: ['gauge', []],
  l4lb_sync_cluster_ready: ['gauge', []],
  l4lb_bgp_speaker_running: ['gauge', []],
  l4lb_bgp_draining: ['gauge', []],
  l4lb_bgp_neighbor_up: ['gauge', ['neighbor', 'nic', 'state']],
  l4lb_bgp_announced: ['gauge', ['prefix']],
};
const fromPromClient = /^l4lb_(process|nodejs)_/;

const labelNames = (s: PromSample) => Object.keys(s.labels).filter((k) => !(k === 'le' && s.name.endsWith('_bucket'))).sort();

// A histogram family's series grouped by their labels (le aside).
function histograms(family: PromFamily): Map<string, { buckets: [number, number][]; sum?: number; count?: number }> {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const key = JSON.stringify(labelNames(s).map((k) => [k, s.labels[k]]));
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name.endsWith('_bucket')) group.buckets.push([Number(s.labels.le === '+Inf' ? Infinity : s.labels.le), s.value]);
    else if (s.name.endsWith('_sum')) group.sum = s.value;
    else group.count = s.value;
  }
  return groups;
}

describe('/metrics after real traffic (two workers)', { skip }, () => {
  let topo: Topology;
  let lb: Appliance;
  const servers: Server[] = [];
  let first: Map<string, PromFamily>;

  const scrape = async () => parsePrometheusText((await lb.ok('GET', '/metrics')) as string);
  const value = (scraped: Map<string, PromFamily>, name: string, labels: Record<string, string>) =>
    scraped.get(name.replace(/_(bucket|sum|count)$/, ''))?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const traffic = async (n: number) => {
    for (let i = 0; i < n; i++) assert.match((await curl(topo, `http://${plan.vips[0]}/`)).trim(), /^rs[12]$/);
  };

  before(async () => {
    topo = await buildTopology();
    for (const name of ['rs1', 'rs2'] as const) servers.push(await startNginx(topo.ns[name], rs[name], { name }));
    lb = await startAppliance(topo.ns.lb1, ['--workers', '2']);
    const lbPlan = servicePlan(topo, 'lb1', 0);
    await configureNetwork(lb, lbPlan);
    await lb.ok('PUT', '/api/v1/health-checks/http', { type: 'http', intervalMs: 200, timeoutMs: 200, rise: 1, fall: 2, http: { path: '/', expectBody: 'rs' } });
    await addService(lb, lbPlan, 'web', 80, 'tcp', 'rr', { rs1: { address: rs.rs1 }, rs2: { address: rs.rs2 } });
    await lb.ok('PATCH', '/api/v1/virtual-services/web', { healthCheck: 'http' });
    await waitFor('both real servers up', async () => {
      const list = await lb.ok('GET', '/api/v1/virtual-services/web/real-servers');
      return list.items.every((s: any) => s.status.health?.server?.state === 'up');
    });
    await traffic(curls);
    // The engine's counters are read at most every 100 ms (dpdk-engine.ts): wait for a scrape
    // that shows every connection, and a burst on each worker.
    first = await waitFor('a scrape with every connection and bursts on both workers', async () => {
      const scraped = await scrape();
      const bursts = ['0', '1'].map((worker) => value(scraped, 'l4lb_worker_burst_duration_seconds_count', { worker }) ?? 0);
      return (value(scraped, 'l4lb_service_connections_total', { service: 'web' }) ?? 0) >= curls && bursts.every((n) => n > 0) && scraped;
    });
  });

  after(async () => {
    if (lb) await lb.stop();
    for (const s of servers) await s.stop();
    await topo?.destroy();
  });

  test('every family is l4lb_ prefixed, has HELP and TYPE, and carries its unit in its name', () => {
    for (const family of first.values()) {
      assert.match(family.name, /^l4lb_[a-z0-9_]+$/);
      assert.notEqual(family.help, '', family.name);
      if (family.type === 'counter') assert.match(family.name, /_total$/, family.name);
      else if (!fromPromClient.test(family.name)) assert.doesNotMatch(family.name, /_total$/, `${family.name} is a ${family.type}`);
      assert.doesNotMatch(family.name, /_(ms|us|ns|milliseconds|microseconds|nanoseconds|kb|mb|kilobytes|megabytes|bits)(_|$)/, family.name);
      if (/duration|lag/.test(family.name)) assert.match(family.name, /_seconds$/, family.name);
      if (/bytes/.test(family.name)) assert.match(family.name, /_bytes(_total)?$/, family.name);
    }
  });

  test('the families l4lb registers are all served, with exactly their label names', () => {
    const served = [...first.keys()].filter((name) => !fromPromClient.test(name)).sort();
    assert.deepEqual(served, Object.keys(families).sort());
    for (const [name, [type, labels]] of Object.entries(families)) {
      const family = first.get(name)!;
      assert.equal(family.type, type, name);
      for (const s of family.samples) assert.deepEqual(labelNames(s), [...labels].sort(), `${seriesKey(s)}`);
    }
  });

  test('the configured objects appear with what the traffic did', () => {
    const connections = value(first, 'l4lb_service_connections_total', { service: 'web' }) ?? 0;
    assert.ok(connections >= curls, `web: ${connections} connections after ${curls} curls`);
    const perServer = ['rs1', 'rs2'].map((real_server) => value(first, 'l4lb_real_server_connections_total', { service: 'web', real_server }) ?? 0);
    assert.ok(perServer.every((n) => n > 0), `connections per real server: ${perServer}`);
    assert.equal(perServer[0]! + perServer[1]!, connections);
    for (const nic of ['client', 'server']) {
      assert.ok((value(first, 'l4lb_nic_packets_total', { nic, direction: 'in' }) ?? 0) > 0, `${nic} received nothing`);
      assert.equal(value(first, 'l4lb_nic_link_up', { nic }), 1, nic);
    }
    assert.ok((value(first, 'l4lb_service_bytes_total', { service: 'web', direction: 'out' }) ?? 0) > 0);
    for (const real_server of ['rs1', 'rs2'])
      assert.equal(value(first, 'l4lb_health_state', { service: 'web', real_server, nic: 'server', state: 'up' }), 1, real_server);
    assert.ok((value(first, 'l4lb_health_probes_total', { type: 'http', result: 'success' }) ?? 0) > 0);
    assert.equal(value(first, 'l4lb_service_health', { service: 'web', state: 'healthy' }), 1);
    assert.equal(value(first, 'l4lb_service_real_servers', { service: 'web', health: 'up' }), 2);
    assert.equal(value(first, 'l4lb_engine_info', { mode: 'dpdk' }), 1);
    assert.equal(value(first, 'l4lb_config_objects', { kind: 'virtual-services' }), 1);
    assert.deepEqual(first.get('l4lb_sessions')!.samples.map((s) => s.labels.worker).sort(), ['0', '1']);
  });

  test('every histogram has non-decreasing cumulative buckets up to +Inf, equal to its count', () => {
    for (const family of [...first.values()].filter((f) => f.type === 'histogram'))
      for (const [labels, h] of histograms(family)) {
        const where = `${family.name} ${labels}`;
        const bounds = h.buckets.map(([le]) => le);
        assert.deepEqual(bounds, [...bounds].sort((a, b) => a - b), where);
        assert.equal(bounds.at(-1), Infinity, where);
        for (let i = 1; i < h.buckets.length; i++) assert.ok(h.buckets[i]![1] >= h.buckets[i - 1]![1], where);
        assert.equal(h.buckets.at(-1)![1], h.count, where);
        assert.ok(h.sum !== undefined && h.sum >= 0, where);
      }
    const bursts = histograms(first.get('l4lb_worker_burst_duration_seconds')!);
    assert.equal(bursts.size, 2);
    for (const h of bursts.values()) {
      assert.ok(h.count! > 0 && h.sum! > 0, JSON.stringify(h));
      assert.equal(h.buckets.length, 14, 'bounds 256 ns to 1 ms doubling, and +Inf');
    }
  });

  test('counters never go down between two scrapes with traffic in between', async () => {
    await traffic(curls / 2);
    const connections = value(first, 'l4lb_service_connections_total', { service: 'web' })!;
    const second = await waitFor('the new connections counted', async () => {
      const scraped = await scrape();
      return (value(scraped, 'l4lb_service_connections_total', { service: 'web' }) ?? 0) >= connections + curls / 2 && scraped;
    });
    const samples = (scraped: Map<string, PromFamily>) =>
      new Map([...scraped.values()].filter((f) => f.type === 'counter' || f.type === 'histogram').flatMap((f) => f.samples.map((s) => [seriesKey(s), s.value] as const)));
    const earlier = samples(first);
    const later = samples(second);
    assert.ok(earlier.size > 100, `only ${earlier.size} counter samples`);
    for (const [key, was] of earlier) {
      assert.ok(later.has(key), `${key} gone from the second scrape`);
      assert.ok(later.get(key)! >= was, `${key} went down: ${was} → ${later.get(key)}`);
    }
  });
});
