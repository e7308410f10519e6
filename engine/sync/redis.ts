// The bridge's Redis connections. Redis is never allowed to hold anything up: no offline
// queue (a command while disconnected fails at once), a short command timeout, reconnects
// every second at most, and no retries of commands that were in flight when a link broke.
//
// With Redis Sentinel (`redis+sentinel://…`, docs/sync.md "Redis Sentinel") each link asks
// the sentinels for the current primary every time it connects, so a failover is, for the
// bridge, one more close followed by a ready: it resubscribes and resyncs as after any outage.
// A failover ends a link in one of three ways, all of which lead back through the sentinels:
// the old primary died (the socket closes); sentinel reconfigured it as a replica (sentinel
// kills its clients, and the ready check refuses a replica); or it hangs or is cut off
// (SwitchWatch, subscribed to `+switch-master` on the sentinels, drops the link).

import { Redis, type RedisOptions } from 'ioredis';
import { parseSentinelUrl, redisUrlProblem, type SentinelUrl } from './redis-url.js';

export { parseSentinelUrl, redisUrlProblem, type SentinelUrl } from './redis-url.js';

/** Pub/Sub channel of binary batches (live records and snapshots). */
export const sessionsChannel = 'l4lb:sync:sessions';
/** Pub/Sub channel of small JSON control messages (hello, snapshot-request). */
export const controlChannel = 'l4lb:sync:control';
/** Capped stream of the live batches (field `b`), replayed by a node that starts empty. */
export const streamKey = 'l4lb:sync:stream';
export const streamField = 'b';

const commandTimeoutMs = 1000;
const connectTimeoutMs = 1000;
const maxReconnectDelayMs = 1000;
/**
 * With sentinels a reconnection costs one sentinel query and one connect, and the primary is
 * expected back within a failover (a second or two): try more often, so that the link follows
 * the new primary within a quarter of a second of its promotion.
 */
const maxSentinelReconnectDelayMs = 250;
/** A link ended by anything but disconnectRedis() (see there) is started again this much later. */
const restartDelayMs = 250;

/**
 * ioredis options for `redis://host:port/db`, `rediss://host:port/db`, `unix:///path` or
 * `redis+sentinel://sentinels/name/db`. The password is the Redis servers'; with sentinels it
 * is also offered to the sentinels (docs/sync.md "Redis Sentinel" says why).
 */
export function redisOptions(url: string, password: string | undefined): RedisOptions {
  const problem = redisUrlProblem(url);
  if (problem) throw new Error(`the Redis URL ${problem}`);
  const common: RedisOptions = {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 0,
    // The bridge subscribes again itself on every reconnect, after its own checks.
    autoResubscribe: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, maxReconnectDelayMs),
    ...(password ? { password } : {}),
  };
  const sentinel = parseSentinelUrl(url);
  if (typeof sentinel !== 'string') {
    return {
      ...common,
      sentinels: sentinel.sentinels,
      name: sentinel.name,
      role: 'master',
      ...(sentinel.db !== undefined ? { db: sentinel.db } : {}),
      ...(password ? { sentinelPassword: password } : {}),
      retryStrategy: (attempt) => Math.min(attempt * 50, maxSentinelReconnectDelayMs),
      // Every sentinel unreachable: ask them all again, at growing intervals of at most 1 s.
      sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, maxReconnectDelayMs),
      sentinelCommandTimeout: commandTimeoutMs,
      // ioredis's own failover detector drops a link on any +switch-master, even one that is
      // already on the new primary (a sentinel leading the failover names the promoted replica
      // before it announces the switch): SwitchWatch below does it only where needed.
      failoverDetector: false,
      // Closing (disconnectRedis), a link to a dead host does not wait longer than this for its FIN.
      disconnectTimeout: connectTimeoutMs,
      // A write refused by a demoted primary: ask the sentinels again (not resent).
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
    };
  }
  const parsed = new URL(url);
  if (parsed.protocol === 'unix:') return { ...common, path: decodeURIComponent(parsed.pathname) };
  const db = parsed.pathname.replace(/^\//, '');
  return {
    ...common,
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: { servername: parsed.hostname } } : {}),
  };
}

export interface RedisLinks {
  /** Commands, PUBLISH and XADD. */
  commands: Redis;
  /** Pub/Sub subscriptions only. */
  subscriber: Redis;
  /** With sentinels: what moves both links when the sentinels switch the primary. */
  switchWatch?: SwitchWatch;
}

/** Links closed by disconnectRedis(): the only ones allowed to stay ended. */
const closedLinks = new WeakSet<Redis>();

export function connectRedis(url: string, password: string | undefined): RedisLinks {
  const options = redisOptions(url, password);
  const links: RedisLinks = { commands: new Redis(options), subscriber: new Redis(options) };
  for (const link of [links.commands, links.subscriber]) keepAlive(link);
  const sentinel = parseSentinelUrl(url);
  if (typeof sentinel !== 'string') links.switchWatch = new SwitchWatch(sentinel, password, [links.commands, links.subscriber]);
  return links;
}

/**
 * Listens for `+switch-master` on every sentinel of the URL and drops each link that is not on
 * the primary it announces; the link reconnects at once (through the sentinels, to the new
 * primary). A crashed primary closes the links by itself, and sentinel kills the clients of a
 * primary it turns into a replica; this is for the primary that vanishes without a word (a
 * host powered off, a partition): without it a link would wait for TCP to give up, minutes.
 * A sentinel that does not answer is tried again every few seconds; its errors are not the
 * bridge's (the links report what matters: whether Redis itself is reachable).
 */
export class SwitchWatch {
  private readonly clients: Redis[];
  /** Switches seen, for tests. */
  switches = 0;

  constructor(sentinel: SentinelUrl, password: string | undefined, private readonly links: Redis[]) {
    this.clients = sentinel.sentinels.map(({ host, port }) => {
      const client = new Redis({
        host,
        port,
        ...(password ? { password } : {}),
        connectTimeout: connectTimeoutMs,
        enableReadyCheck: false,
        maxRetriesPerRequest: null,
        retryStrategy: (attempt) => Math.min(attempt * 500, 5000),
      });
      client.on('error', () => {});
      client.on('message', (channel: string, message: string) => {
        if (channel === '+switch-master') this.switched(sentinel.name, message);
      });
      client.subscribe('+switch-master').catch(() => {
        // Subscribed again on every reconnection (autoResubscribe).
      });
      return client;
    });
  }

  close(): void {
    for (const client of this.clients) client.disconnect();
  }

  /** `+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`: each sentinel sends one. */
  private switched(name: string, message: string): void {
    const [master, , , host, port] = message.split(' ');
    if (master !== name || !host || !port) return;
    this.switches++;
    for (const link of this.links) {
      const stream = link.stream as { remoteAddress?: string; remotePort?: number; destroy(): void } | undefined;
      if (!stream || (link.status !== 'ready' && link.status !== 'connect')) continue;
      const address = stream.remoteAddress?.replace(/^::ffff:/, '');
      if (address === host && String(stream.remotePort) === port) continue;
      // At once, not with a FIN a vanished host would never answer: ioredis then reconnects
      // as after any close (no replies are owed by a server that is no longer the primary),
      // and the bridge sees close, then ready.
      stream.destroy();
    }
  }
}

/**
 * ioredis gives a link up for good (status `end`) when one connection attempt is aborted
 * rather than failed (its sentinel connector does that when the link is disconnected while it
 * asks a sentinel for the primary; its own failover detector, off here, could do it on its
 * way back from the very outage a failover ends). The bridge must never stay away from Redis
 * for that: a link that ends unless disconnectRedis() ended it is started again.
 */
function keepAlive(link: Redis): void {
  link.on('end', () => {
    if (closedLinks.has(link)) return;
    setTimeout(() => {
      if (closedLinks.has(link) || link.status !== 'end') return;
      link.connect().catch(() => {
        // Reported as an 'error' event, and tried again on the next 'end'.
      });
    }, restartDelayMs).unref();
  });
}

/** Closes both connections at once, without waiting for replies still due. */
export function disconnectRedis(links: RedisLinks): void {
  links.switchWatch?.close();
  closedLinks.add(links.commands);
  closedLinks.add(links.subscriber);
  links.commands.disconnect();
  links.subscriber.disconnect();
}
