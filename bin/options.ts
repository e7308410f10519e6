// Command-line flags of `l4lb serve`, each with an L4LB_* environment equivalent; a flag wins
// over the environment, the environment over the default.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

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
}

export class UsageError extends Error {}

export const usage = `Usage: l4lb serve [options]
       l4lb --help

Runs the l4lb appliance: the management API (with Swagger UI at /docs) and the data plane.

Options (each also read from the environment variable shown):
  --listen HOST:PORT|PATH  where the API listens: an address and port, or a Unix socket
                           path                   [L4LB_LISTEN, default 127.0.0.1:8080]
  --db FILE                the configuration database (SQLite)
                                                  [L4LB_DB, default ./var/l4lb.db]
  --token-file FILE        read the token from FILE (its first line): unlike --token, it
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
  return {
    listen: parseListen(values.listen ?? env.L4LB_LISTEN ?? '127.0.0.1:8080'),
    db: values.db ?? env.L4LB_DB ?? './var/l4lb.db',
    ...(token ? { token } : {}),
    engine,
    workers: integer('--workers', values.workers ?? env.L4LB_WORKERS ?? '1', 1, 64),
    idle,
    sessionsPerWorker: integer('--sessions', values.sessions ?? env.L4LB_SESSIONS ?? '1048576', 1024, 1 << 24),
    logLevel,
    rateLimit: integer('--rate-limit', values['rate-limit'] ?? env.L4LB_RATE_LIMIT ?? '100', 0, 1_000_000),
  };
}
