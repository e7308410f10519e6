// A real redis-server for tests and benchmarks, on a Unix socket in a temporary directory (no
// TCP port, no persistence), started and stopped by PID. With `ns` it runs inside that network
// namespace: a filesystem socket path is reachable from every namespace (DESIGN.md "Test
// topology"), and the e2e lab puts it in its switch namespace so that sweepLeftovers() ends it
// after a run that died. stop('SIGKILL') plays a crash; start() again brings a new, empty
// server up on the same socket. scripts/setup.sh installs redis-server.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { nsSpawn, stopChild, waitFor } from './e2e/netns.js';

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

/** Why redis-sentinel cannot run here (skip with it), or undefined; under CI=true it throws instead. */
export function sentinelMissing(): string | undefined {
  const missing = redisMissing();
  if (missing) return missing;
  const probe = spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' });
  if (!probe.error) return undefined;
  const message = 'redis-sentinel is not installed (scripts/setup.sh installs it)';
  if (process.env.CI === 'true') throw new Error(message);
  return message;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (sentinel and replication need TCP). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface SentinelGroupOptions {
  /** The primary's name as the sentinels monitor it. */
  name?: string;
  sentinels?: number;
  /** requirepass of the Redis servers (masterauth and the sentinels' auth-pass follow). */
  password?: string;
  /** requirepass of the sentinels themselves. */
  sentinelPassword?: string;
  /** Sentinel's `down-after-milliseconds`: how long a silent primary takes to be judged down. */
  downAfterMs?: number;
  failoverTimeoutMs?: number;
}

interface Started {
  what: string;
  port: number;
  child: ChildProcess;
  output: string;
}

/**
 * A Redis primary, one replica and a quorum-2 group of redis-sentinel processes, all on
 * 127.0.0.1 TCP ports (sentinels find each other and the replicas by address, which rules
 * Unix sockets out) with their configuration files in a temporary directory. killPrimary()
 * plays a crash; close() stops every process it started, by PID.
 */
export class RedisSentinelGroup {
  readonly dir = mkdtempSync(join(tmpdir(), 'l4lb-sentinel-'));
  readonly name: string;
  primaryPort = 0;
  replicaPort = 0;
  sentinelPorts: number[] = [];
  private readonly processes: Started[] = [];

  constructor(private readonly options: SentinelGroupOptions = {}) {
    this.name = options.name ?? 'mymaster';
  }

  /** `redis+sentinel://127.0.0.1:P1,…/name` */
  get url(): string {
    return `redis+sentinel://${this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${this.name}`;
  }

  /** Starts them all and waits until every sentinel knows the primary, the replica and the other sentinels. */
  async start(): Promise<void> {
    const { password, sentinelPassword } = this.options;
    const count = this.options.sentinels ?? 3;
    this.primaryPort = await freePort();
    this.replicaPort = await freePort();
    for (let i = 0; i < count; i++) this.sentinelPorts.push(await freePort());
    const auth = password ? [`requirepass ${password}`, `masterauth ${password}`] : [];
    await this.spawn('primary', this.primaryPort, 'redis-server', ['save ""', 'appendonly no', ...auth]);
    await this.spawn('replica', this.replicaPort, 'redis-server', ['save ""', 'appendonly no', ...auth, `replicaof 127.0.0.1 ${this.primaryPort}`]);
    await waitFor('the replica in sync', async () => (await this.info(this.replicaPort, 'replication')).includes('master_link_status:up'), 100, 100);
    for (const [i, port] of this.sentinelPorts.entries()) {
      await this.spawn(`sentinel${i + 1}`, port, 'redis-sentinel', [
        ...(sentinelPassword ? [`requirepass ${sentinelPassword}`] : []),
        `sentinel monitor ${this.name} 127.0.0.1 ${this.primaryPort} 2`,
        `sentinel down-after-milliseconds ${this.name} ${this.options.downAfterMs ?? 500}`,
        `sentinel failover-timeout ${this.name} ${this.options.failoverTimeoutMs ?? 3000}`,
        `sentinel parallel-syncs ${this.name} 1`,
        ...(password ? [`sentinel auth-pass ${this.name} ${password}`] : []),
      ]);
    }
    for (const port of this.sentinelPorts) {
      await waitFor(`sentinel ${port} to know the replica and its peers`, async () => {
        const client = this.sentinelClient(port);
        try {
          const replicas = (await client.call('SENTINEL', 'REPLICAS', this.name)) as string[][];
          const peers = (await client.call('SENTINEL', 'SENTINELS', this.name)) as string[][];
          return replicas.some((r) => r.includes(String(this.replicaPort))) && peers.length === count - 1;
        } finally {
          client.disconnect();
        }
      }, 200, 100);
    }
  }

  /** The primary's port as sentinel `port` tells it now. */
  async primaryAccordingTo(port: number): Promise<number> {
    const client = this.sentinelClient(port);
    try {
      const reply = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string] | null;
      return reply ? Number(reply[1]) : 0;
    } finally {
      client.disconnect();
    }
  }

  /** kill -9 of the primary, by PID; resolves once it has exited. */
  async killPrimary(): Promise<void> {
    const primary = this.processes.find((p) => p.what === 'primary');
    if (primary) await stopChild(primary.child, 'SIGKILL');
  }

  /** SIGSTOP to the primary: it holds its sockets open and answers nothing (a host gone dark). */
  pausePrimary(): void {
    const primary = this.processes.find((p) => p.what === 'primary');
    if (primary?.child.pid !== undefined && primary.child.exitCode === null && primary.child.signalCode === null) process.kill(primary.child.pid, 'SIGSTOP');
  }

  /** A plain client of the Redis server on `port`. */
  client(port: number): Redis {
    return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null, ...(this.options.password ? { password: this.options.password } : {}) });
  }

  /** A client of the sentinel on `port`, for SUBSCRIBE (its events: `+switch-master`, `+sdown`…). */
  sentinelSubscriber(port: number): Redis {
    return this.sentinelClient(port);
  }

  /** What every process wrote, for a failure's message. */
  logs(): string {
    return this.processes.map((p) => `--- ${p.what} (port ${p.port})\n${p.output}`).join('\n');
  }

  /** Stops every process it started (by PID) and removes its directory. */
  async close(): Promise<void> {
    for (const p of this.processes) {
      // A paused process takes SIGTERM only once it runs again.
      if (p.child.pid !== undefined && p.child.exitCode === null && p.child.signalCode === null) process.kill(p.child.pid, 'SIGCONT');
      await stopChild(p.child);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private sentinelClient(port: number): Redis {
    const password = this.options.sentinelPassword;
    return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null, enableReadyCheck: false, ...(password ? { password } : {}) });
  }

  private async info(port: number, section: string): Promise<string> {
    const client = this.client(port);
    try {
      return await client.info(section);
    } finally {
      client.disconnect();
    }
  }

  private async spawn(what: string, port: number, program: string, lines: string[]): Promise<void> {
    // Sentinel rewrites its configuration file: each process gets its own, in the group's directory.
    const conf = join(this.dir, `${what}.conf`);
    writeFileSync(conf, [`bind 127.0.0.1`, `port ${port}`, `dir ${this.dir}`, `dbfilename ${what}.rdb`, `daemonize no`, ...lines, ''].join('\n'));
    const child = spawn(program, [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    const started: Started = { what, port, child, output: '' };
    this.processes.push(started);
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        if (started.output.length < 65536) started.output += chunk.toString();
        if (/ready to accept connections|\+monitor master/i.test(started.output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`${program} (${what}) exited (${code ?? signal}): ${started.output}`)));
    });
  }
}
