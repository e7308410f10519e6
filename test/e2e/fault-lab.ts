// The bench for fault tests and the soak: one appliance in lb1 with a small session table,
// session sync on (active) through a Redis in the switch namespace, and three services:
//   web    VIP 1:80 → nginx on rs1 and rs2, http health check: the traffic that must go on
//   flood  VIP 2:80 → the same nginx, SYN_RECV timeout 1 s: the target of SYN floods
//   side   VIP 2:7  → a TCP echo on rs3, behind lb1's second server NIC (the line a test cuts)
// The faults themselves are small operations here (stop a server, cut a line, read health);
// what to expect of them is the caller's.

import { addService, configureNetwork, servicePlan, startAppliance, type Appliance } from './appliance.js';
import { ip, waitFor } from './netns.js';
import { RedisServer } from '../redis-server.js';
import { startEcho, startNginx, type Server } from './servers.js';
import { buildTopology, plan, secondServerSide, type RsRole, type Topology } from './topology.js';
import { parsePrometheusText, type PromSample } from '../prometheus-text.js';

export const services = {
  web: { vip: plan.vips[0], port: 80 },
  flood: { vip: plan.vips[1], port: 80 },
  side: { vip: plan.vips[1], port: 7 },
} as const;
/** Fast checks, as in health.test.ts: a stopped server is out within a second. */
export const healthCheck = { intervalMs: 200, timeoutMs: 200, rise: 2, fall: 2 };

export interface FaultLabOptions {
  workers?: number;
  /** Sessions per worker (the appliance's minimum, 1024, by default: a flood fills it fast). */
  sessions?: number;
}

/** One scrape of /metrics: the sum of the samples named `name` whose labels include `labels`. */
export type Scrape = (name: string, labels?: Record<string, string>) => number;

export interface FaultLab {
  readonly topo: Topology;
  readonly lb: Appliance;
  readonly redis: RedisServer;
  /** Sessions the data plane holds at most: workers × sessions per worker. */
  readonly capacity: number;
  /** GET the real servers of `vs`: their status.health by name. */
  healthOf(vs: string): Promise<Record<string, Record<string, { state: string; lastError?: string; egress?: boolean }>>>;
  /** Waits until `server` of `vs` is `state` through `nic` (bounded). */
  waitHealth(vs: string, server: string, nic: string, state: string): Promise<void>;
  /** Stops (SIGQUIT, graceful) or starts the nginx of a real server. */
  stopNginx(rs: RsRole): Promise<void>;
  startNginx(rs: RsRole): Promise<void>;
  /** Sets the switch's end of lb1's second server NIC down (the line is cut) or up. */
  cutLine(): Promise<void>;
  restoreLine(): Promise<void>;
  metrics(): Promise<Scrape>;
  destroy(): Promise<void>;
}

export async function scrape(a: Appliance): Promise<Scrape> {
  const families = parsePrometheusText((await a.ok('GET', '/metrics')) as string);
  const samples: PromSample[] = [...families.values()].flatMap((f) => f.samples);
  return (name, labels = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

async function configure(topo: Topology, lb: Appliance, redisUrl: string): Promise<void> {
  const p = servicePlan(topo, 'lb1', 0);
  await configureNetwork(lb, p);
  await lb.ok('PUT', '/api/v1/nics/server2', {
    device: `net_af_packet2,iface=${secondServerSide.lbInterface}`,
    networks: [secondServerSide.network],
    probeAddress: secondServerSide.probeAddress,
  });
  await lb.ok('PUT', '/api/v1/local-address-pools/lips2', { nic: 'server2', addresses: [secondServerSide.localAddress] });
  await lb.ok('PUT', '/api/v1/health-checks/http', { type: 'http', ...healthCheck, http: { path: '/', expectBody: 'rs' } });
  await lb.ok('PUT', '/api/v1/health-checks/tcp', { type: 'tcp', ...healthCheck });
  const nginx = { rs1: { address: plan.realServers.rs1 }, rs2: { address: plan.realServers.rs2 } };
  await addService(lb, { ...p, vip: services.web.vip }, 'web', services.web.port, 'tcp', 'rr', nginx);
  await lb.ok('PATCH', '/api/v1/virtual-services/web', { healthCheck: 'http' });
  await addService(lb, { ...p, vip: services.flood.vip }, 'flood', services.flood.port, 'tcp', 'rr', nginx);
  await lb.ok('PATCH', '/api/v1/virtual-services/flood', { timeouts: { tcpSynRecv: 1 } });
  await lb.ok('PUT', '/api/v1/virtual-services/side', {
    address: services.side.vip, port: services.side.port, protocol: 'tcp', nic: 'client', localAddressPool: 'lips2', scheduler: 'rr', healthCheck: 'tcp',
  });
  await lb.ok('PUT', '/api/v1/virtual-services/side/real-servers/rs3', { address: secondServerSide.realServer });
  await lb.ok('PUT', '/api/v1/sync', { enabled: true, redisUrl, role: 'active', nodeId: 'lb1' });
}

export async function startFaultLab(options: FaultLabOptions = {}): Promise<FaultLab> {
  const { workers = 1, sessions = 1024 } = options;
  const topo = await buildTopology({ secondServerNetwork: true });
  const nginx: Partial<Record<RsRole, Server>> = {};
  const others: Server[] = [];
  let lb: Appliance | undefined;
  const redis = new RedisServer({ ns: topo.ns.sw });
  const destroy = async () => {
    await lb?.stop();
    for (const s of [...Object.values(nginx), ...others]) await s.stop();
    await redis.close();
    await topo.destroy();
  };
  // Keep-alive connections live through the whole run: nginx must not end them after 1000 requests.
  const runNginx = async (rs: RsRole) => {
    nginx[rs] = await startNginx(topo.ns[rs], plan.realServers[rs], { name: rs, keepaliveRequests: 1_000_000 });
  };
  try {
    await redis.start();
    await runNginx('rs1');
    await runNginx('rs2');
    others.push(await startEcho(topo.ns.rs3, 'tcp', secondServerSide.realServer, services.side.port, 'rs3 '));
    lb = await startAppliance(topo.ns.lb1, ['--workers', String(workers), '--sessions', String(sessions)]);
    await configure(topo, lb, redis.url);
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  }
  const a = lb;
  const healthOf: FaultLab['healthOf'] = async (vs) => {
    const list = await a.ok('GET', `/api/v1/virtual-services/${vs}/real-servers`);
    return Object.fromEntries(list.items.map((s: any) => [s.name, s.status.health ?? {}]));
  };
  const line = (state: 'up' | 'down') => ip(['link', 'set', secondServerSide.switchPort, state], topo.ns.sw).then(() => undefined);
  return {
    topo,
    lb: a,
    redis,
    capacity: workers * sessions,
    healthOf,
    waitHealth: (vs, server, nic, state) =>
      waitFor(`${vs}/${server} ${state} through NIC ${nic}`, async () => (await healthOf(vs))[server]?.[nic]?.state === state, 100, 100).then(() => undefined),
    stopNginx: async (rs) => {
      await nginx[rs]?.stop();
      delete nginx[rs];
    },
    startNginx: runNginx,
    cutLine: () => line('down'),
    restoreLine: () => line('up'),
    metrics: () => scrape(a),
    destroy,
  };
}
