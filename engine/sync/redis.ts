// The bridge's Redis connections. Redis is never allowed to hold anything up: no offline
// queue (a command while disconnected fails at once), a short command timeout, reconnects
// every second at most, and no retries of commands that were in flight when a link broke.

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

/** Databases a Redis server has unless its configuration says otherwise. */
const redisDatabases = 16;

/** What is wrong with a Redis URL, or undefined when the bridge can use it. */
export function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol === 'unix:') return parsed.host === '' && parsed.pathname.length > 1 ? undefined : 'must be unix:///absolute/path/to/socket';
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `has scheme ${parsed.protocol}, not redis:, rediss: or unix:`;
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

/** ioredis options for `redis://host:port/db`, `rediss://host:port/db` or `unix:///path`. */
export function redisOptions(url: string, password: string | undefined): RedisOptions {
  const problem = redisUrlProblem(url);
  if (problem) throw new Error(`the Redis URL ${problem}`);
  const parsed = new URL(url);
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
}

export function connectRedis(url: string, password: string | undefined): RedisLinks {
  const options = redisOptions(url, password);
  return { commands: new Redis(options), subscriber: new Redis(options) };
}

/** Closes both connections at once, without waiting for replies still due. */
export function disconnectRedis(links: RedisLinks): void {
  links.commands.disconnect();
  links.subscriber.disconnect();
}
