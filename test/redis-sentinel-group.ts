// A Redis primary, one replica and a quorum-2 group of redis-sentinel processes for tests, on
// TCP ports (sentinels find each other and the replicas by address, which rules Unix sockets
// out) with their configuration files in a temporary directory. In the root namespace they
// listen on free ports of 127.0.0.1; with `ns` they run inside that network namespace on
// `host` (an address of it, which the lab's nodes reach), and the group's own checks go
// through redis-cli run there. killPrimary() plays a crash; close() stops every process it
// started, by PID.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { nsRun, nsSpawn, sh, stopChild, waitFor } from './e2e/netns.js';
import { redisMissing } from './redis-server.js';

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

/** A TCP port on 127.0.0.1 that was free a moment ago. */
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
  /** A network namespace to run in (its ports are all free: 6379, 6380, 26379…). */
  ns?: string;
  /** The address to listen on (127.0.0.1 unless given; inside `ns`, one of its addresses). */
  host?: string;
}

interface Started {
  what: string;
  port: number;
  child: ChildProcess;
  output: string;
}

export class RedisSentinelGroup {
  readonly dir = mkdtempSync(join(tmpdir(), 'l4lb-sentinel-'));
  readonly name: string;
  readonly host: string;
  primaryPort = 0;
  replicaPort = 0;
  sentinelPorts: number[] = [];
  private readonly processes: Started[] = [];

  constructor(private readonly options: SentinelGroupOptions = {}) {
    this.name = options.name ?? 'mymaster';
    this.host = options.host ?? '127.0.0.1';
  }

  /** `redis+sentinel://HOST:P1,…/name` */
  get url(): string {
    return `redis+sentinel://${this.sentinelPorts.map((p) => `${this.host}:${p}`).join(',')}/${this.name}`;
  }

  /** Starts them all and waits until every sentinel knows the primary, the replica and the other sentinels. */
  async start(): Promise<void> {
    const { password, sentinelPassword } = this.options;
    const count = this.options.sentinels ?? 3;
    const port = async (fixed: number) => (this.options.ns ? fixed : freePort());
    this.primaryPort = await port(6379);
    this.replicaPort = await port(6380);
    for (let i = 0; i < count; i++) this.sentinelPorts.push(await port(26379 + i));
    const auth = password ? [`requirepass ${password}`, `masterauth ${password}`] : [];
    await this.spawn('primary', this.primaryPort, 'redis-server', ['save ""', 'appendonly no', ...auth]);
    await this.spawn('replica', this.replicaPort, 'redis-server', ['save ""', 'appendonly no', ...auth, `replicaof ${this.host} ${this.primaryPort}`]);
    await waitFor('the replica in sync', async () => (await this.query(this.replicaPort, password, 'INFO', 'replication')).includes('master_link_status:up'), 100, 100);
    for (const [i, p] of this.sentinelPorts.entries()) {
      await this.spawn(`sentinel${i + 1}`, p, 'redis-sentinel', [
        ...(sentinelPassword ? [`requirepass ${sentinelPassword}`] : []),
        `sentinel monitor ${this.name} ${this.host} ${this.primaryPort} 2`,
        `sentinel down-after-milliseconds ${this.name} ${this.options.downAfterMs ?? 500}`,
        `sentinel failover-timeout ${this.name} ${this.options.failoverTimeoutMs ?? 3000}`,
        `sentinel parallel-syncs ${this.name} 1`,
        ...(password ? [`sentinel auth-pass ${this.name} ${password}`] : []),
      ]);
    }
    for (const p of this.sentinelPorts) {
      await waitFor(`sentinel ${p} to know the replica and its peers`, async () => {
        const replicas = await this.query(p, sentinelPassword, 'SENTINEL', 'REPLICAS', this.name);
        const peers = await this.query(p, sentinelPassword, 'SENTINEL', 'SENTINELS', this.name);
        return lines(replicas).includes(String(this.replicaPort)) && lines(peers).filter((l) => l === 'runid').length === count - 1;
      }, 200, 100);
    }
  }

  /** The primary's port as sentinel `port` tells it now (0 when it names none). */
  async primaryAccordingTo(port: number): Promise<number> {
    const reply = lines(await this.query(port, this.options.sentinelPassword, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name));
    return Number(reply[1] ?? 0);
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

  /** A plain client of the Redis server on `port` (root namespace only). */
  client(port: number): Redis {
    return new Redis({ host: this.host, port, maxRetriesPerRequest: 1, retryStrategy: () => null, ...(this.options.password ? { password: this.options.password } : {}) });
  }

  /** A client of the sentinel on `port`, for SUBSCRIBE (its events: `+switch-master`, `+sdown`…); root namespace only. */
  sentinelSubscriber(port: number): Redis {
    const password = this.options.sentinelPassword;
    return new Redis({ host: this.host, port, maxRetriesPerRequest: 1, retryStrategy: () => null, enableReadyCheck: false, ...(password ? { password } : {}) });
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

  /** One command through redis-cli (in the group's namespace, if any); its raw output. */
  private async query(port: number, password: string | undefined, ...command: string[]): Promise<string> {
    const args = ['-h', this.host, '-p', String(port), ...(password ? ['-a', password, '--no-auth-warning'] : []), ...command];
    const { stdout } = this.options.ns ? await nsRun(this.options.ns, 'redis-cli', args) : await sh('redis-cli', args);
    return stdout;
  }

  private async spawn(what: string, port: number, program: string, lines: string[]): Promise<void> {
    // Sentinel rewrites its configuration file: each process gets its own, in the group's directory.
    const conf = join(this.dir, `${what}.conf`);
    writeFileSync(conf, [`bind ${this.host}`, `port ${port}`, `dir ${this.dir}`, `dbfilename ${what}.rdb`, `daemonize no`, ...lines, ''].join('\n'));
    const child = this.options.ns ? nsSpawn(this.options.ns, program, [conf]) : spawn(program, [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** redis-cli's raw output (not a terminal: one value a line, nested replies flattened). */
function lines(output: string): string[] {
  return output.split('\n').map((l) => l.trim()).filter(Boolean);
}
