// A real redis-server for the bridge tests, on a Unix socket in a temporary directory (no
// TCP port, no persistence), started and stopped by PID. scripts/setup.sh installs it; a
// test without it is skipped with a message, or fails under CI=true.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Why the tests cannot run here, or undefined when redis-server is installed. */
export function redisMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (!probe.error) return undefined;
  const message = 'redis-server is not installed (scripts/setup.sh installs it)';
  if (process.env.CI === 'true') throw new Error(message);
  return message;
}

export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'l4lb-sync-'));
  readonly socket = join(this.dir, 'redis.sock');
  readonly url = `unix://${this.socket}`;
  private child: ChildProcess | undefined;

  /** `password`: required of clients (requirepass). */
  constructor(private readonly password?: string) {}

  /** Starts it and waits until it accepts connections. */
  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', '0', '--unixsocket', this.socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...(this.password ? ['--requirepass', this.password] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/ready to accept connections/i.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
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

  /** A plain client for the test's own commands. */
  client(): Redis {
    return new Redis({ path: this.socket, maxRetriesPerRequest: 1, ...(this.password ? { password: this.password } : {}) });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits until `condition` holds, checking every 10 ms; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
