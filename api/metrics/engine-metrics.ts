// The data plane's counters as Prometheus metrics, read from the engine at scrape time (the
// engine sums its per-worker counters). Names follow node_exporter's IPVS collector where
// the meaning is the same (connections, incoming/outgoing packets and bytes, active and
// inactive backend connections), with l4lb_ prefixes and units in the names.

import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { EngineCounters } from '../../engine/engine.js';
import { restatedHistogram } from './restated-histogram.js';
import { restatedMetric, type Labels, type Sample } from './restated-metric.js';

const directions = (inValue: number, outValue: number, labels: Labels): Sample[] => [
  [{ ...labels, direction: 'in' }, inValue],
  [{ ...labels, direction: 'out' }, outValue],
];

export function registerEngineMetrics(app: FastifyInstance, registry: Registry): void {
  const status = () => app.engine.counters();
  const counter = (name: string, help: string, labels: string[], read: (s: EngineCounters) => Sample[]) =>
    restatedMetric('counter', registry, name, help, labels, read, status);
  const gauge = (name: string, help: string, labels: string[], read: (s: EngineCounters) => Sample[]) =>
    restatedMetric('gauge', registry, name, help, labels, read, status);

  const nics = (s: EngineCounters) => s.nics;
  counter('l4lb_nic_packets_total', 'Frames received (in) and sent (out) by the data plane on a NIC.', ['nic', 'direction'], (s) =>
    nics(s).flatMap((n) => directions(n.counters.rxPackets, n.counters.txPackets, { nic: n.name })));
  counter('l4lb_nic_bytes_total', 'Bytes received (in) and sent (out) by the data plane on a NIC.', ['nic', 'direction'], (s) =>
    nics(s).flatMap((n) => directions(n.counters.rxBytes, n.counters.txBytes, { nic: n.name })));
  counter('l4lb_nic_kernel_packets_total', 'Frames passed to (in) and from (out) the NIC\'s kernel exception interface.', ['nic', 'direction'], (s) =>
    nics(s).flatMap((n) => directions(n.counters.toKernel, n.counters.fromKernel, { nic: n.name })));
  counter('l4lb_nic_arp_packets_total', 'ARP frames received (in) and sent (out).', ['nic', 'direction'], (s) =>
    nics(s).flatMap((n) => directions(n.counters.arpIn, n.counters.arpOut, { nic: n.name })));
  counter('l4lb_nic_neighbour_discovery_packets_total', 'IPv6 neighbour solicitations and advertisements received (in) and sent (out).', ['nic', 'direction'], (s) =>
    nics(s).flatMap((n) => directions(n.counters.ndIn, n.counters.ndOut, { nic: n.name })));
  counter('l4lb_nic_icmp_echo_replies_total', 'ICMP echo replies sent for VIPs.', ['nic'], (s) => nics(s).map((n) => [{ nic: n.name }, n.counters.icmpEcho]));
  counter('l4lb_nic_dropped_packets_total', 'Frames dropped by the data plane, by reason.', ['nic', 'reason'], (s) =>
    nics(s).flatMap((n) => Object.entries(n.counters.drops).map(([reason, v]): Sample => [{ nic: n.name, reason }, v])));
  counter('l4lb_nic_device_missed_packets_total', 'Frames the device dropped before the data plane saw them.', ['nic'], (s) => nics(s).map((n) => [{ nic: n.name }, n.device.rxMissed]));
  gauge('l4lb_nic_link_up', '1 when the NIC\'s link is up.', ['nic'], (s) => nics(s).map((n) => [{ nic: n.name }, n.linkUp ? 1 : 0]));

  counter('l4lb_service_connections_total', 'Sessions created for a virtual service.', ['service'], (s) => s.services.map((v) => [{ service: v.name }, v.newSessions]));
  counter('l4lb_service_packets_total', 'Packets of a virtual service: in from clients, out from real servers.', ['service', 'direction'], (s) =>
    s.services.flatMap((v) => directions(v.packetsIn, v.packetsOut, { service: v.name })));
  counter('l4lb_service_bytes_total', 'Bytes of a virtual service: in from clients, out from real servers.', ['service', 'direction'], (s) =>
    s.services.flatMap((v) => directions(v.bytesIn, v.bytesOut, { service: v.name })));
  counter('l4lb_service_refused_total', 'New flows of a virtual service dropped by its accessControl: denied (a deny entry matched), not_allowed (an allow list and no entry matched).', ['service', 'reason'], (s) =>
    s.services.flatMap((v) => Object.entries(v.refused ?? {}).map(([reason, n]): Sample => [{ service: v.name, reason }, n])));

  counter('l4lb_service_rate_limited_total', 'New connections of a virtual service dropped by its clientRateLimit.', ['service'], (s) =>
    s.services.map((v) => [{ service: v.name }, v.rateLimited ?? 0]));

  const servers = (s: EngineCounters) => s.services.flatMap((v) => v.realServers.map((r) => ({ service: v.name, r })));
  counter('l4lb_real_server_connections_total', 'Sessions sent to a real server.', ['service', 'real_server'], (s) =>
    servers(s).map(({ service, r }) => [{ service, real_server: r.name }, r.newSessions]));
  counter('l4lb_real_server_packets_total', 'Packets of a real server\'s sessions: in from clients, out from the server.', ['service', 'real_server', 'direction'], (s) =>
    servers(s).flatMap(({ service, r }) => directions(r.packetsIn, r.packetsOut, { service, real_server: r.name })));
  counter('l4lb_real_server_bytes_total', 'Bytes of a real server\'s sessions: in from clients, out from the server.', ['service', 'real_server', 'direction'], (s) =>
    servers(s).flatMap(({ service, r }) => directions(r.bytesIn, r.bytesOut, { service, real_server: r.name })));
  counter('l4lb_real_server_limited_total', 'Times a new session passed a real server over at its maxConnections.', ['service', 'real_server'], (s) =>
    servers(s).map(({ service, r }) => [{ service, real_server: r.name }, r.limited]));
  gauge('l4lb_real_server_sessions', 'Live sessions of a real server: active (TCP established, UDP) and inactive.', ['service', 'real_server', 'state'], (s) =>
    servers(s).flatMap(({ service, r }): Sample[] => [
      [{ service, real_server: r.name, state: 'active' }, r.activeSessions],
      [{ service, real_server: r.name, state: 'inactive' }, r.inactiveSessions],
    ]));

  gauge('l4lb_sessions', 'Live sessions in the data plane, by worker.', ['worker'], (s) => s.workers.map((w) => [{ worker: String(w.id) }, w.sessions]));
  counter('l4lb_sessions_expired_total', 'Sessions ended by their idle timeout.', [], (s) => [[{}, s.sessionsExpired]]);
  counter('l4lb_sessions_reset_total', 'Sessions ended with a RST because their real server was removed or disabled, or by a flush.', [], (s) => [[{}, s.sessionsReset]]);
  counter('l4lb_client_address_total', 'Client addresses passed to real servers: TOA options and PROXY headers added (in the first payload segment, or in a segment of their own), and segments or datagrams that could not take them.', ['method', 'result'], ({ clientAddress: c }): Sample[] =>
    c
      ? [
          [{ method: 'toa', result: 'added' }, c.toaAdded],
          [{ method: 'toa', result: 'failed' }, c.toaFailed],
          [{ method: 'proxy_protocol', result: 'added' }, c.proxyHeaders],
          [{ method: 'proxy_protocol', result: 'own_segment' }, c.proxyOwnSegments],
          [{ method: 'proxy_protocol', result: 'failed' }, c.proxyFailed],
        ]
      : []);
  counter('l4lb_worker_redirected_packets_total', 'Frames a worker passed to (out) or took from (in) another worker that owns their session.', ['worker', 'direction'], (s) =>
    s.workers.flatMap((w) => directions(w.redirectedIn, w.redirectedOut, { worker: String(w.id) })));
  counter('l4lb_worker_polls_total', 'Worker loop iterations: all, and busy ones (that handled at least one frame).', ['worker', 'kind'], (s) =>
    s.workers.flatMap((w): Sample[] => [
      [{ worker: String(w.id), kind: 'all' }, w.loops],
      [{ worker: String(w.id), kind: 'busy' }, w.busyLoops],
    ]));
  restatedHistogram(registry, 'l4lb_worker_burst_duration_seconds', 'Time a worker took for a busy loop iteration: the bursts it received from every NIC, tap and worker ring, processed and sent.', (s: EngineCounters) =>
    s.workers.map(({ id, burst }) => ({
      labels: { worker: String(id) },
      bounds: burst.boundsNs.map((ns) => ns / 1e9),
      counts: burst.counts,
      sum: burst.sumNs / 1e9,
    })), status);
}
