// The long-lived connections a failover must keep, all from the client namespace through the
// VIP of a sync lab: 100 echo connections (one process), one HTTP keep-alive connection through
// the PROXY v2 service, and one real `mariadb` client session. Each has an identity a broken
// and silently re-made connection would change: the echo connections' local ports, the HTTP
// connection's number in nginx's log, the MariaDB CONNECTION_ID() and both ends' ports.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openKeepAlive, type KeepAlive } from './clients.js';
import { startEchoClients, type EchoClientsOptions, type EchoClients, type EchoConnectionReport } from './echo-clients.js';
import { openMariaDbSession, type MariaDbSession } from './mariadb.js';
import { waitFor } from './netns.js';
import { services, vip, type SyncLab } from './sync-lab.js';
import { plan } from './topology.js';

export interface DbIdentity {
  connectionId: string;
  /** The peer as MariaDB sees it: the LB's local address and port. */
  serverSeesPeer: string;
  /** The mariadb client's own port in the client namespace. */
  clientPort: number;
}

export interface HttpRequestLog {
  /** nginx's `$connection` serial and `$connection_requests` of each request from the client port. */
  connection: string;
  request: number;
}

export interface LongLived {
  readonly echo: EchoClients;
  readonly http: KeepAlive;
  readonly db: MariaDbSession;
  /** The connection's identity now (one query). */
  dbIdentity(): Promise<DbIdentity>;
  /** nginx's log lines (on either real server) for the HTTP connection's client port. */
  httpLog(): HttpRequestLog[];
  close(): Promise<void>;
}

export async function openLongLived(lab: SyncLab, echoCount = 100): Promise<LongLived> {
  const opened: { close(): Promise<void> }[] = [];
  try {
    const echo = await openEchoClients(lab, { count: echoCount });
    opened.push(echo);
    const http = await openKeepAlive(lab.topo, vip, services.web.port);
    opened.push(http);
    const { user, password } = lab.mariadb;
    const db = await openMariaDbSession(lab.topo.ns.client, vip, services.mysql.port, user, password);
    opened.push(db);
    return {
      echo,
      http,
      db,
      dbIdentity: async () => {
        const [row] = await db.query('SELECT CONNECTION_ID(), HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()');
        // The client's port from the socket table: exactly one connection to the VIP's port 3306.
        const { stdout } = await lab.topo.run('client', 'ss', ['-Htn', 'state', 'established', 'dst', `${vip}:${services.mysql.port}`]);
        const sockets = stdout.trim().split('\n').filter(Boolean);
        if (sockets.length !== 1) throw new Error(`expected one connection to ${vip}:${services.mysql.port}, ss shows:\n${stdout}`);
        const local = sockets[0]!.trim().split(/\s+/)[2]!;
        return { connectionId: row![0]!, serverSeesPeer: row![1]!, clientPort: Number(local.split(':').pop()) };
      },
      httpLog: () => {
        const client = `${plan.clientAddress}:${http.localPort}`;
        return Object.values(lab.nginx)
          .flatMap((s) => readFileSync(join(s.dir, 'proxied.log'), 'utf8').split('\n'))
          .filter((l) => l.startsWith(`${client} `))
          .map((l) => ({ connection: l.split(' ')[2]!, request: Number(l.split(' ')[3]) }));
      },
      close: async () => {
        for (const c of opened.reverse()) await c.close();
      },
    };
  } catch (err) {
    for (const c of opened.reverse()) await c.close().catch(() => undefined);
    throw err;
  }
}

export interface PollResult {
  /** Requests that completed, and the slowest of them. */
  done: number;
  maxLatencyMs: number;
  /** The first failure, which ended the polling (the connection is unusable after it). */
  error?: string;
}

/**
 * Calls `request` every `intervalMs` (at most `maxCount` times) until stop(): traffic on one
 * connection while a failover happens, with each request's latency kept.
 */
export function keepPolling(request: () => Promise<unknown>, intervalMs: number, maxCount = 1000): { stop(): Promise<PollResult> } {
  const result: PollResult = { done: 0, maxLatencyMs: 0 };
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; i < maxCount && !stopped; i++) {
      const t0 = performance.now();
      try {
        await request();
      } catch (err) {
        result.error = (err as Error).message;
        return;
      }
      result.done++;
      result.maxLatencyMs = Math.max(result.maxLatencyMs, Math.round(performance.now() - t0));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return result;
    },
  };
}

/** The acceptance criterion: across a failover no connection waits this long for its echo. */
export const maxStallMs = 1000;

/** 100 echo connections through the lab's VIP (the echo part of openLongLived alone). */
export function openEchoClients(lab: SyncLab, options: EchoClientsOptions = {}): Promise<EchoClients> {
  return startEchoClients(lab.topo.ns.client, vip, services.echo.port, options);
}

/** `port: why` of every connection that broke. */
export function brokenOnes(reports: readonly EchoConnectionReport[]): string[] {
  return reports.filter((r) => r.broken).map((r) => `${r.localPort}: ${r.broken}`);
}

/** `port: gap` of every connection that waited `maxStallMs` or more between two echoes. */
export function stalledOnes(reports: readonly EchoConnectionReport[]): string[] {
  return reports.filter((r) => r.maxGapMs >= maxStallMs).map((r) => `${r.localPort}: ${r.maxGapMs} ms`);
}

/**
 * Waits until every connection has had a new echo since `since` and has nothing outstanding
 * for long: traffic flows again (after an outage whose length the test chose, so no stall bound).
 */
export async function waitAllAnswering(echo: EchoClients, since: readonly EchoConnectionReport[]): Promise<EchoConnectionReport[]> {
  const before = new Map(since.map((r) => [r.localPort, r.replies]));
  return waitFor('every echo connection to answer again', async () => {
    const now = await echo.report();
    const broken = brokenOnes(now);
    if (broken.length) throw new Error(`broken: ${broken.join(', ')}`);
    const silent = now.filter((r) => r.replies <= (before.get(r.localPort) ?? 0) || r.waitingMs >= maxStallMs);
    if (silent.length) throw new Error(`${silent.length} not answering, e.g. ${silent[0]!.localPort} waiting ${silent[0]!.waitingMs} ms`);
    return now;
  }, 300, 200);
}
