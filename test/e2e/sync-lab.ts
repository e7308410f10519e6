// The bench for session-sync tests: the namespace topology, one redis both LB namespaces reach
// by a socket path, real servers (TCP echo and nginx with a PROXY-protocol listener in rs1 and
// rs2, MariaDB in rs1), and appliances in lb1/lb2 configured alike (DESIGN.md "Session sync":
// the same local addresses, VIPs, real servers and worker count) with their own NIC devices and
// probe addresses. Failover is what an operator's tooling does: SIGKILL the active appliance
// and at once PATCH the backup's role to active.

import { configureNetwork, servicePlan, startAppliance, type Appliance } from './appliance.js';
import { startMariaDb, type MariaDb } from './mariadb.js';
import { waitFor } from './netns.js';
import { RedisServer } from '../redis-server.js';
import { startEcho, startNginx, type Server } from './servers.js';
import { buildTopology, plan, type LbRole, type Topology, type TopologyOptions } from './topology.js';

/** The services every appliance of the lab has, all on the first VIP of the plan. */
export const services = {
  /** TCP echo on rs1 and rs2 (port 7 there). */
  echo: { port: 7 },
  /** nginx's proxy_protocol listener (8080 on rs1 and rs2) behind a PROXY v2 service. */
  web: { port: 8080 },
  /** MariaDB on rs1, a plain service: the server speaks first. */
  mysql: { port: 3306 },
} as const;
export const vip = plan.vips[0];
/** Data-plane workers of every appliance: more than one, so sessions' owning workers matter. */
export const defaultWorkers = 2;

export interface SyncSettings {
  enabled: boolean;
  role: 'active' | 'backup';
  /** Each service's own `sync` flag (default true): false keeps its sessions to the node. */
  servicesSynced?: boolean;
  /** More configuration, applied after the lab's services and before sync starts (benchmarks). */
  configureMore?: (a: Appliance) => Promise<void>;
  /** Rebuild sessions from the Redis stream when starting empty (default true). */
  replay?: boolean;
}

export interface SyncLab {
  readonly topo: Topology;
  readonly redis: RedisServer;
  readonly nginx: Record<'rs1' | 'rs2', Server>;
  readonly mariadb: MariaDb;
  /** The appliances started so far, by namespace. */
  readonly lbs: Partial<Record<LbRole, Appliance>>;
  /** Starts a fresh appliance (new database) in `lb`, configures it like every other, then sync. */
  startLb(lb: LbRole, sync: SyncSettings): Promise<Appliance>;
  /** SIGKILL, as in a crash. */
  kill(lb: LbRole): Promise<void>;
  /** PATCH its sync role to active; resolves with how long the request took. */
  promote(lb: LbRole): Promise<number>;
  /**
   * Sends SIGKILL to `from` and promotes `to` at once, without waiting for the killed process
   * to be reaped: its threads stop at once, but the kernel takes about 200 ms to tear it down
   * (whatever its memory; closing its tap interfaces and sockets, most likely), and waiting
   * would delay the promotion past clients' first retransmission. Returns how long the
   * promotion request and the reaping took, both counted from the kill.
   */
  failover(from: LbRole, to: LbRole): Promise<{ promoteMs: number; reapedMs: number }>;
  destroy(): Promise<void>;
}

/** GET /api/v1/sync's `status.state`, once it equals `state` (bounded wait). */
export async function waitSyncState(a: Appliance, state: string): Promise<void> {
  let seen: unknown;
  await waitFor(`sync state ${state} (last seen ${JSON.stringify(seen)})`, async () => {
    seen = (await a.ok('GET', '/api/v1/sync')).status;
    return (seen as { state?: string }).state === state;
  }, 150, 100);
}

export interface SessionView {
  state: string;
  client: { address: string; port: number };
  virtual: { address: string; port: number };
  local: { address: string; port: number };
  realServer: { address: string; port: number };
  realServerName: string;
  virtualService: string;
  origin: 'local' | 'peer';
}

/** The sessions of one service (of the lab's, or one a test added) that the appliance holds (a single page: at most 10000). */
export async function sessionsOf(a: Appliance, service: string): Promise<SessionView[]> {
  return (await a.ok('GET', `/api/v1/sessions?virtualService=${service}&limit=10000`)).items as SessionView[];
}

/** Waits until `a` holds a session of `service` for every one of the client ports (of `clientAddress`). */
export async function waitSessionsFor(a: Appliance, service: string, clientPorts: readonly number[], clientAddress: string = plan.clientAddress): Promise<SessionView[]> {
  return waitFor(`sessions of ${service} for ${clientPorts.length} client ports`, async () => {
    const held = await sessionsOf(a, service);
    const ports = new Set(held.filter((s) => s.client.address === clientAddress).map((s) => s.client.port));
    const missing = clientPorts.filter((p) => !ports.has(p)).length;
    // Thrown, not returned: waitFor reports the last error when it gives up.
    if (missing) throw new Error(`${missing} missing, ${held.length} held`);
    return held;
  }, 100, 100);
}

async function configure(topo: Topology, a: Appliance, lb: LbRole, redisUrl: string, sync: SyncSettings): Promise<void> {
  // The first VIP and local address for both: what the client and the servers see is the same.
  await configureNetwork(a, servicePlan(topo, lb, 0));
  const put = async (name: keyof typeof services, clientAddress: string, servers: ('rs1' | 'rs2')[]) => {
    const { port } = services[name];
    const body = { address: vip, port, protocol: 'tcp', nic: 'client', localAddressPool: 'lips', scheduler: 'rr', clientAddress, sync: sync.servicesSynced ?? true };
    await a.ok('PUT', `/api/v1/virtual-services/${name}`, body);
    for (const rs of servers) await a.ok('PUT', `/api/v1/virtual-services/${name}/real-servers/${rs}`, { address: plan.realServers[rs], port });
  };
  await put('echo', 'none', ['rs1', 'rs2']);
  await put('web', 'proxy-protocol-v2', ['rs1', 'rs2']);
  await put('mysql', 'none', ['rs1']);
  await sync.configureMore?.(a);
  // Sync last: sessions that arrive (snapshot, replay) find their services already there.
  await a.ok('PUT', '/api/v1/sync', { enabled: sync.enabled, redisUrl, role: sync.role, nodeId: lb, replay: { enabled: sync.replay ?? true } });
}

/**
 * Builds the topology (with `topology`'s options) and starts redis and the real servers; no
 * appliance yet. Every appliance runs `workers` workers.
 */
export async function startSyncLab(workers = defaultWorkers, topology: TopologyOptions = {}): Promise<SyncLab> {
  const topo = await buildTopology(topology);
  const started: { stop(): Promise<void> }[] = [];
  const lbs: Partial<Record<LbRole, Appliance>> = {};
  const destroy = async () => {
    for (const a of Object.values(lbs)) await a.stop('SIGKILL');
    for (const s of started.reverse()) await s.stop();
    await topo.destroy();
  };
  try {
    const redis = new RedisServer({ ns: topo.ns.sw });
    started.push({ stop: () => redis.close() });
    await redis.start();
    const nginx = {} as Record<'rs1' | 'rs2', Server>;
    for (const rs of ['rs1', 'rs2'] as const) {
      started.push(await startEcho(topo.ns[rs], 'tcp', plan.realServers[rs], services.echo.port));
      nginx[rs] = await startNginx(topo.ns[rs], plan.realServers[rs], { name: rs, proxyProtocolPort: services.web.port });
      started.push(nginx[rs]);
    }
    const mariadb = await startMariaDb(topo.ns.rs1, plan.realServers.rs1, { port: services.mysql.port, clientHost: '10.0.2.%' });
    started.push(mariadb);
    const lab: SyncLab = {
      topo,
      redis,
      nginx,
      mariadb,
      lbs,
      startLb: async (lb, sync) => {
        const a = await startAppliance(topo.ns[lb], ['--workers', String(workers)]);
        lbs[lb] = a;
        await configure(topo, a, lb, redis.url, sync);
        return a;
      },
      kill: async (lb) => {
        await lbs[lb]!.stop('SIGKILL');
        delete lbs[lb];
      },
      promote: async (lb) => {
        const t0 = performance.now();
        await lbs[lb]!.ok('PATCH', '/api/v1/sync', { role: 'active' });
        return Math.round(performance.now() - t0);
      },
      failover: async (from, to) => {
        const t0 = performance.now();
        process.kill(lbs[from]!.child.pid!, 'SIGKILL');
        await lab.promote(to);
        const promoteMs = Math.round(performance.now() - t0);
        await lab.kill(from);
        return { promoteMs, reapedMs: Math.round(performance.now() - t0) };
      },
      destroy,
    };
    return lab;
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  }
}
