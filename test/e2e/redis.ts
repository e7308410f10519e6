// A redis-server for session sync, listening only on a filesystem-path Unix socket in a temp
// dir: both LB namespaces reach it by that path (DESIGN.md "Test topology"; an abstract socket
// would not cross namespaces). It runs inside the topology's switch namespace so that a run that
// dies leaves it where sweepLeftovers() ends it. kill() is a crash (SIGKILL by PID); start()
// brings a new, empty server up on the same socket.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsRun, nsSpawn, stopChild, waitFor } from './netns.js';

export interface Redis {
  /** The socket's path and the `redisUrl` that names it (`unix:///…`). */
  readonly socketPath: string;
  readonly url: string;
  /** The running server's PID, undefined while it is down. */
  pid(): number | undefined;
  /** `redis-cli` against the socket; resolves with its output, trimmed. */
  cli(...args: string[]): Promise<string>;
  /** SIGKILL: the server dies as in a crash (no persistence, so its data goes with it). */
  kill(): Promise<void>;
  /** Starts the server again on the same socket (after kill()). */
  start(): Promise<void>;
  /** Ends the server and removes its directory. */
  stop(): Promise<void>;
}

/** Starts redis-server in namespace `ns` on a new socket under a temp dir. */
export async function startRedis(ns: string): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), 'l4e-redis-'));
  const socketPath = join(dir, 'redis.sock');
  let child: ChildProcess | undefined;

  const cli = async (...args: string[]) => (await nsRun(ns, 'redis-cli', ['-s', socketPath, ...args], { timeoutMs: 5000 })).stdout.trim();

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error('redis is already running');
    // A crash leaves the socket file behind; remove it so readiness below means the new server.
    rmSync(socketPath, { force: true });
    // --port 0: no TCP listener at all. No RDB or AOF: a restart is a fresh, empty server.
    const started = nsSpawn(ns, 'redis-server', [
      '--port', '0',
      '--unixsocket', socketPath,
      '--unixsocketperm', '700',
      '--dir', dir,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--logfile', join(dir, 'redis.log'),
    ]);
    child = started;
    let stderr = '';
    started.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    try {
      await waitFor(`redis on ${socketPath}`, async () => {
        if (started.exitCode !== null || started.signalCode !== null) throw new Error(`redis-server exited (${started.exitCode ?? started.signalCode}): ${stderr}`);
        return (await cli('ping')) === 'PONG';
      });
    } catch (err) {
      await stopChild(started, 'SIGKILL');
      throw err;
    }
  };

  await start();
  return {
    socketPath,
    url: `unix://${socketPath}`,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    cli,
    kill: async () => {
      if (child) await stopChild(child, 'SIGKILL');
    },
    start,
    stop: async () => {
      if (child) await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
