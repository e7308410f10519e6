// The Redis URLs the sync settings take, checked before they are stored (the API's 4xx names
// what is wrong) and taken apart for the connections (redis.ts): `redis://host:port/db`,
// `rediss://…`, `unix:///path`, and Redis Sentinel's `redis+sentinel://sentinels/name/db`.

import { isIPv4, isIPv6 } from 'node:net';

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
