// MariaDB (Debian's mariadb-server) as a real server: its own datadir, socket and logs under a
// temp dir, listening on the real server's address, with one user allowed from the LB's local
// addresses. And the real `mariadb` command-line client in the client namespace, kept open on
// one connection through the VIP and fed one query at a time: a stand-in for the long-lived
// database session that session sync exists to keep alive. The server speaks first, so its
// service must be a plain one (a PROXY-protocol service would wait for the client's bytes).

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsRun, nsSpawn, stopChild, waitFor } from './netns.js';

export interface MariaDb {
  readonly ns: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export interface MariaDbOptions {
  port?: number;
  /** The host part of the test user (`'l4e'@'<clientHost>'`): where the LB's connections come from. */
  clientHost: string;
}

/** Initialises a datadir and runs mariadbd as root in `ns` on address:port. */
export async function startMariaDb(ns: string, address: string, options: MariaDbOptions): Promise<MariaDb> {
  const port = options.port ?? 3306;
  const dir = mkdtempSync(join(tmpdir(), 'l4e-mariadb-'));
  const socket = join(dir, 'mariadb.sock');
  const datadir = join(dir, 'data');
  // --no-defaults everywhere: nothing from /etc/mysql may point at the system's own server.
  await nsRun(ns, 'mariadb-install-db', ['--no-defaults', '--user=root', `--datadir=${datadir}`, '--auth-root-authentication-method=socket', '--skip-test-db'], { timeoutMs: 60_000 });
  const child = nsSpawn(ns, 'mariadbd', [
    '--no-defaults',
    '--user=root',
    `--datadir=${datadir}`,
    `--socket=${socket}`,
    `--pid-file=${join(dir, 'mariadb.pid')}`,
    `--log-error=${join(dir, 'error.log')}`,
    `--bind-address=${address}`,
    `--port=${port}`,
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=16M',
  ]);
  const server: MariaDb = {
    ns,
    address,
    port,
    user: 'l4e',
    password: 'l4e-test',
    child,
    stop: async () => {
      await stopChild(child, 'SIGTERM', 300);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const root = (sql: string) => nsRun(ns, 'mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-B', '-N', '-e', sql], { timeoutMs: 5000 });
  try {
    await waitFor(`mariadbd on ${address}:${port}`, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mariadbd exited (${child.exitCode ?? child.signalCode}); see ${dir}/error.log`);
      return (await root('SELECT 1')).stdout.trim() === '1';
    }, 150, 200);
    // No privileges are needed: a session always sees its own row in the process list.
    await root(`CREATE USER '${server.user}'@'${options.clientHost}' IDENTIFIED BY '${server.password}'`);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

export interface MariaDbSession {
  /** The client process (the real `mariadb` CLI). */
  readonly child: ChildProcess;
  /**
   * Runs one statement and resolves with its rows (tab-separated columns); rejects if the client
   * dies or no answer comes within `timeoutMs` (default 30 s; after that the session is unusable).
   */
  query(sql: string, timeoutMs?: number): Promise<string[][]>;
  close(): Promise<void>;
}

/**
 * Starts `mariadb` in namespace `ns` connected to host:port and keeps it open. --skip-reconnect:
 * a broken connection must show as an error, never as a silent new connection (which would get
 * a new CONNECTION_ID and hide the failure this harness looks for).
 */
export async function openMariaDbSession(ns: string, host: string, port: number, user: string, password: string): Promise<MariaDbSession> {
  const child = nsSpawn(
    ns,
    'mariadb',
    ['--no-defaults', '-h', host, '-P', String(port), '-u', user, `-p${password}`, '--skip-reconnect', '--batch', '--skip-column-names', '--unbuffered', '--connect-timeout=5'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  let marker = 0;
  // One statement at a time: each is followed by a marker row, so the rows in between are its own.
  let queue: Promise<unknown> = Promise.resolve();

  const run = async (sql: string, timeoutMs: number): Promise<string[][]> => {
    const end = `--end-${++marker}--`;
    child.stdin!.write(`${sql.replace(/;\s*$/, '')};\nSELECT '${end}';\n`);
    const rows: string[][] = [];
    await waitFor(`an answer to ${sql}`, async () => {
      for (let line = lines.shift(); line !== undefined; line = lines.shift()) {
        if (line === end) return true;
        rows.push(line.split('\t'));
      }
      if (exited()) throw new Error(`mariadb exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`);
      return false;
    }, Math.ceil(timeoutMs / 50), 50);
    return rows;
  };

  const session: MariaDbSession = {
    child,
    query: (sql, timeoutMs = 30_000) => {
      const result = queue.then(() => run(sql, timeoutMs));
      queue = result.catch(() => undefined);
      return result;
    },
    close: () => stopChild(child, 'SIGTERM'),
  };
  try {
    await session.query('SELECT 1');
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
  return session;
}
