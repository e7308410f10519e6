// A real redis-server for tests and benchmarks, on a Unix socket in a temporary directory (no
// TCP port, no persistence), started and stopped by PID. With `ns` it runs inside that network
// namespace: a filesystem socket path is reachable from every namespace (DESIGN.md "Test
// topology"), and the e2e lab puts it in its switch namespace so that sweepLeftovers() ends it
// after a run that died. stop('SIGKILL') plays a crash; start() again brings a new, empty
// server up on the same socket. scripts/setup.sh installs redis-server.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { nsSpawn } from './e2e/netns.js';

/** Why redis-server cannot run here (skip with it), or undefined; under CI=true it throws instead. */
export function redisMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (!probe.error) return undefined;
  const message = 'redis-server is not installed (scripts/setup.sh installs it)';
  if (process.env.CI === 'true') throw new Error(message);
  return message;
}

export interface RedisServerOptions {
  /** Network namespace to run it in (root namespace when absent). */
  ns?: string;
  /** Required of clients (requirepass). */
  password?: string;
}

export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'l4lb-redis-'));
  readonly socket = join(this.dir, 'redis.sock');
  readonly url = `unix://${this.socket}`;
  private child: ChildProcess | undefined;

  constructor(private readonly options: RedisServerOptions = {}) {}

  /** Starts it and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running');
    // A crash leaves the socket file behind; without it, readiness below means the new server.
    rmSync(this.socket, { force: true });
    const { ns, password } = this.options;
    const args = ['--port', '0', '--unixsocket', this.socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', this.dir,
      ...(password ? ['--requirepass', password] : [])];
    const child = ns ? nsSpawn(ns, 'redis-server', args) : spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        if (output.length < 16384) output += chunk.toString();
        if (/ready to accept connections/i.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}): ${output}`)));
    });
  }

  /** Stops it by PID: SIGTERM, or SIGKILL to play a crash. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid!, signal);
    await exited;
  }

  /** A plain client for a test's own commands. */
  client(): Redis {
    return new Redis({ path: this.socket, maxRetriesPerRequest: 1, ...(this.options.password ? { password: this.options.password } : {}) });
  }

  /** Stops it and removes its directory. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
