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

import { isIPv4, isIPv6 } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

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

/** Databases a Redis server has unless its configuration says otherwise. */
const redisDatabases = 16;

/** Sentinel's own port, when a sentinel is given without one. */
const defaultSentinelPort = 26379;
const maxSentinels = 16;
const masterNamePattern = /^[A-Za-z0-9._-]{1,64}$/;
const sentinelScheme = 'redis+sentinel:';
/** A host name as RFC 1123 allows it: dot-separated labels of letters, digits and inner hyphens. */
const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `redis+sentinel://…` taken apart: the sentinels, the primary's name and the database. */
export interface SentinelUrl {
  sentinels: { host: string; port: number }[];
  name: string;
  db: number | undefined;
}

/**
 * Parses `redis+sentinel://HOST[:PORT][,HOST[:PORT]…]/MASTERNAME[/DB]` (the grammar is in
 * docs/sync.md "Redis Sentinel"), or says what is wrong with it. WHATWG URL parsing is of no
 * use here: it takes a comma-separated host list for one host.
 */
export function parseSentinelUrl(url: string): SentinelUrl | string {
  const m = /^redis\+sentinel:\/\/([^/?#]*)([^?#]*)(.*)$/is.exec(url);
  if (!m) return 'must be redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTERNAME[/DB]';
  const [, authority, path, rest] = m as unknown as [string, string, string, string];
  // A password in the URL would be shown by every GET: it goes in redisPassword, which is write-only.
  if (authority.includes('@')) return 'must carry no user or password; set redisPassword instead';
  if (rest !== '') return 'must have no query or fragment';
  if (authority === '') return 'has no sentinel; give HOST:PORT[,HOST:PORT…]';
  const entries = authority.split(',');
  if (entries.length > maxSentinels) return `has ${entries.length} sentinels; give 1 to ${maxSentinels}`;
  const sentinels: SentinelUrl['sentinels'] = [];
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const which = `sentinel ${i + 1}`;
    if (entry === '') return `has an empty ${which}; separate sentinels with single commas`;
    const parts = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::([^:]*))?$/.exec(entry);
    if (!parts) return `has ${which} '${entry}', not HOST:PORT (an IPv6 address goes in brackets: [fd00::1]:26379)`;
    const [, v6, name, portText] = parts;
    let host: string;
    if (v6 !== undefined) {
      if (!isIPv6(v6)) return `has ${which} '${entry}', whose [${v6}] is not an IPv6 address`;
      host = v6.toLowerCase();
    } else {
      if (!name) return `has ${which} '${entry}' with no host`;
      if (!isIPv4(name) && (!hostNamePattern.test(name) || /^[\d.]+$/.test(name))) return `has ${which} '${entry}', whose host '${name}' is neither an IPv4 address nor a host name`;
      host = name.toLowerCase();
    }
    let port = defaultSentinelPort;
    if (portText !== undefined) {
      if (!/^\d{1,5}$/.test(portText)) return `has ${which} '${entry}', whose port '${portText}' is not a number`;
      port = Number(portText);
      if (port < 1 || port > 65535) return `has ${which} '${entry}', whose port ${port} is not from 1 to 65535`;
    }
    const key = `${host}:${port}`;
    if (seen.has(key)) return `names the sentinel ${entry} twice`;
    seen.add(key);
    sentinels.push({ host, port });
  }
  const segments = path.split('/').slice(1);
  if (segments.length === 0 || segments[0] === '') return 'has no master name; end it with /MASTERNAME (the name sentinel monitors) and an optional /DB';
  if (segments.length > 2) return `has '${path}' after the sentinels; only /MASTERNAME and an optional /DB may follow`;
  const [masterName, dbText] = segments as [string, string | undefined];
  if (!masterNamePattern.test(masterName)) return `has master name '${masterName}'; use 1 to 64 letters, digits, '.', '_' or '-'`;
  let db: number | undefined;
  if (dbText !== undefined) {
    if (!/^\d{1,5}$/.test(dbText)) return `has database '${dbText}', not a number`;
    db = Number(dbText);
    if (db >= redisDatabases) return `has database ${db}; Redis has databases 0 to ${redisDatabases - 1}`;
  }
  return { sentinels, name: masterName, db };
}

/** What is wrong with a Redis URL, or undefined when the bridge can use it. */
export function redisUrlProblem(url: string): string | undefined {
  if (/^redis\+sentinel:/i.test(url)) {
    const parsed = parseSentinelUrl(url);
    return typeof parsed === 'string' ? parsed : undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol === 'unix:') return parsed.host === '' && parsed.pathname.length > 1 ? undefined : 'must be unix:///absolute/path/to/socket';
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `has scheme ${parsed.protocol}, not redis:, rediss:, unix: or ${sentinelScheme}`;
  if (!parsed.hostname) return 'has no host';
  if (parsed.port === '0') return 'has port 0; give a port from 1 to 65535 or none for 6379';
  // A password in the URL would be shown by every GET: it goes in redisPassword, which is write-only.
  if (parsed.username || parsed.password) return 'must carry no user or password; set redisPassword instead';
  if (parsed.search || parsed.hash) return 'must have no query or fragment';
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,5}$/.test(db)) return `has database '${db}', not a number`;
  if (db !== '' && Number(db) >= redisDatabases) return `has database ${db}; Redis has databases 0 to ${redisDatabases - 1}`;
  return undefined;
}

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
