// Command-line flags of `l4lb serve`, each with an L4LB_* environment equivalent; a flag wins
// over the environment, the environment over the default.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { configStoreFlags, configStoreUsage, parseConfigStoreOptions, type ConfigStoreOptions } from './config-store-options.js';
import { UsageError } from './usage-error.js';

export type Listen = { host: string; port: number } | { path: string };

export interface ServeOptions {
  listen: Listen;
  db: string;
  token?: string;
  engine: 'dpdk' | 'off';
  workers: number;
  idle: 'adaptive' | 'busy';
  sessionsPerWorker: number;
  logLevel: string;
  /** API requests per second per client address; 0 is unlimited. */
  rateLimit: number;
  /** Serve without a token on a non-loopback address (the operator said so). */
  insecureNoAuth: boolean;
  /** Host names besides loopback and IP literals that a token-less API answers to. */
  allowedHosts: string[];
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For names the client. */
  trustProxy: string[];
  /** Let a NIC take the interface of the default route or of the API's address. */
  allowManagementInterface: boolean;
  configStore: ConfigStoreOptions;
}

export { UsageError };

export const usage = `Usage: l4lb serve [options]
       l4lb --help

Runs the l4lb appliance: the management API (with Swagger UI at /docs) and the data plane.

Options (each also read from the environment variable shown):
  --listen HOST:PORT|PATH  where the API listens: an address and port, or a Unix socket
                           path                   [L4LB_LISTEN, default 127.0.0.1:8080]
  --db FILE                the configuration database (SQLite)
                                                  [L4LB_DB, default ./var/l4lb.db]
${configStoreUsage}  --token-file FILE        read the token from FILE (its first line): unlike --token, it
                           never shows in the process list         [L4LB_TOKEN_FILE]
  --token TOKEN            require "Authorization: Bearer TOKEN" on every request except
                           /healthz, /readyz, the docs and the admin panel's static
                           files                                          [L4LB_TOKEN]
  --engine dpdk|off        the data plane; "off" serves the API and store alone
                                                  [L4LB_ENGINE, default dpdk]
  --workers N              data-plane worker threads (DPDK lcores), each with one
                           queue pair per NIC            [L4LB_WORKERS, default 1]
  --idle adaptive|busy     how idle workers wait: adaptive backs off to ~1 ms sleeps,
                           busy polls without pause  [L4LB_IDLE, default adaptive]
  --sessions N             session table capacity per worker
                                              [L4LB_SESSIONS, default 1048576]
  --log-level LEVEL        fatal, error, warn, info, debug or trace
                                                  [L4LB_LOG_LEVEL, default info]
  --rate-limit N           API requests per second per client address, 0 for no
                           limit (not applied on a Unix socket)
                                               [L4LB_RATE_LIMIT, default 100]
  --insecure-no-auth       serve without a token on an address other than loopback
                           (refused otherwise; warned about at every start)
                                                      [L4LB_INSECURE_NO_AUTH=1]
  --allowed-hosts H[,H…]   host names a token-less API answers to besides loopback
                           names and IP addresses             [L4LB_ALLOWED_HOSTS]
  --trust-proxy CIDR[,…]   take the client address from X-Forwarded-For when the
                           request comes from these proxies     [L4LB_TRUST_PROXY]
  --allow-management-interface
                           let a NIC take the interface of the default route or
                           of the API's address  [L4LB_ALLOW_MANAGEMENT_INTERFACE=1]
  -h, --help               show this help

SIGTERM or SIGINT stops the appliance cleanly.
`;

export function parseListen(text: string): Listen {
  if (text.includes('/')) return { path: text };
  const match = /^(.*):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--listen ${text}: expected HOST:PORT or a socket path`);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${flag} ${text}: expected an integer from ${min} to ${max}`);
  return value;
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const token = text.split('\n')[0].trim();
  if (!token) throw new UsageError(`--token-file ${file}: the file's first line is empty`);
  return token;
}

/** Whether an API listening here can be reached only from this machine. */
export function isLocalOnly(listen: Listen): boolean {
  if ('path' in listen) return true;
  const host = listen.host.toLowerCase();
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function proxies(text: string | undefined): string[] {
  const entries = list(text);
  for (const entry of entries) {
    const [address, length, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const lengthOk = length === undefined || (/^\d{1,3}$/.test(length) && Number(length) <= bits);
    if (family === 0 || !lengthOk || rest.length > 0) throw new UsageError(`--trust-proxy ${entry}: expected an IP address or CIDR`);
  }
  return entries;
}

function hostNames(text: string | undefined): string[] {
  const names = list(text).map((h) => h.toLowerCase());
  for (const name of names) {
    if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(name)) throw new UsageError(`--allowed-hosts ${name}: expected a host name without port`);
  }
  return names;
}

function yes(flag: boolean | undefined, env: string | undefined): boolean {
  return flag === true || env === '1' || env === 'true';
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export function parseServeOptions(args: string[], env: NodeJS.ProcessEnv): ServeOptions {
  const { values } = parseArgs({
    args,
    options: {
      listen: { type: 'string' },
      db: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      engine: { type: 'string' },
      workers: { type: 'string' },
      idle: { type: 'string' },
      sessions: { type: 'string' },
      'log-level': { type: 'string' },
      'rate-limit': { type: 'string' },
      'insecure-no-auth': { type: 'boolean' },
      'allowed-hosts': { type: 'string' },
      'trust-proxy': { type: 'string' },
      'allow-management-interface': { type: 'boolean' },
      ...configStoreFlags,
    },
    strict: true,
  });
  const engine = values.engine ?? env.L4LB_ENGINE ?? 'dpdk';
  if (engine !== 'dpdk' && engine !== 'off') throw new UsageError(`--engine ${engine}: expected dpdk or off`);
  const idle = values.idle ?? env.L4LB_IDLE ?? 'adaptive';
  if (idle !== 'adaptive' && idle !== 'busy') throw new UsageError(`--idle ${idle}: expected adaptive or busy`);
  const logLevel = values['log-level'] ?? env.L4LB_LOG_LEVEL ?? 'info';
  if (!logLevels.includes(logLevel)) throw new UsageError(`--log-level ${logLevel}: expected one of ${logLevels.join(', ')}`);
  const tokenFile = values['token-file'] ?? env.L4LB_TOKEN_FILE;
  const token = tokenFile !== undefined ? readToken(tokenFile) : values.token ?? env.L4LB_TOKEN;
  const listen = parseListen(values.listen ?? env.L4LB_LISTEN ?? '127.0.0.1:8080');
  const insecureNoAuth = yes(values['insecure-no-auth'], env.L4LB_INSECURE_NO_AUTH);
  if (!token && !insecureNoAuth && !isLocalOnly(listen)) {
    throw new UsageError(
      `--listen ${values.listen ?? env.L4LB_LISTEN}: an API reachable from other machines needs a token (--token-file FILE); ` +
        'to serve it open anyway, add --insecure-no-auth',
    );
  }
  return {
    listen,
    db: values.db ?? env.L4LB_DB ?? './var/l4lb.db',
    ...(token ? { token } : {}),
    engine,
    workers: integer('--workers', values.workers ?? env.L4LB_WORKERS ?? '1', 1, 64),
    idle,
    sessionsPerWorker: integer('--sessions', values.sessions ?? env.L4LB_SESSIONS ?? '1048576', 1024, 1 << 24),
    logLevel,
    rateLimit: integer('--rate-limit', values['rate-limit'] ?? env.L4LB_RATE_LIMIT ?? '100', 0, 1_000_000),
    insecureNoAuth,
    allowedHosts: hostNames(values['allowed-hosts'] ?? env.L4LB_ALLOWED_HOSTS),
    trustProxy: proxies(values['trust-proxy'] ?? env.L4LB_TRUST_PROXY),
    allowManagementInterface: yes(values['allow-management-interface'], env.L4LB_ALLOW_MANAGEMENT_INTERFACE),
    configStore: parseConfigStoreOptions(values, env),
  };
}
