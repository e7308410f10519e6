// A real etcd cluster for tests: N members (three unless told) spawned from /usr/bin/etcd, never
// as a service, with their data directories and one log file each in a temporary directory. In
// the root namespace they listen on free ports of 127.0.0.1; with `ns` they run inside that
// network namespace on `host` (one of its addresses) on fixed ports (client 2379 + 10·i, peer
// 2380 + 10·i), and the cluster's own checks go through etcdctl run there. Elections are fast
// (heartbeat 50 ms, election timeout 500 ms). kill(i) plays a crash, pause(i) a member cut off
// (SIGSTOP: its sockets stay open and answer nothing), restart(i) brings a killed member back on
// its data directory. Members are indexed from 0 (member i is named m{i+1}). close() stops every
// process it started, by PID.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsSpawn, sh, stopChild, waitFor } from './e2e/netns.js';
import { freePort } from './redis-sentinel-group.js';
import { makeTestCertificates, type TestCertificates } from './tls-certificates.js';

/** Why etcd cannot run here (skip with it), or undefined; under CI=true it throws instead. */
export function etcdMissing(): string | undefined {
  const works = (program: string, args: string[]) => {
    const probe = spawnSync(program, args, { stdio: 'ignore', timeout: 10_000 });
    return !probe.error && probe.status === 0;
  };
  if (works('/usr/bin/etcd', ['--version']) && works('/usr/bin/etcdctl', ['version'])) return undefined;
  const message = 'etcd or etcdctl is not installed (scripts/setup.sh installs etcd-server and etcd-client)';
  if (process.env.CI === 'true') throw new Error(message);
  return message;
}

export interface EtcdClusterOptions {
  members?: number;
  /** A network namespace to run in (its ports 2379, 2380, 2389, 2390… must be free). */
  ns?: string;
  /** The address to listen on (127.0.0.1 unless given; inside `ns`, one of its addresses). */
  host?: string;
  /** Turn authentication on: a root user and this user, granted readwrite on every key. */
  auth?: { user: string; password: string };
  /** Client URLs over HTTPS with client certificates required (peers stay plain). */
  tls?: boolean;
}

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  log: string;
  child?: ChildProcess;
  state: 'running' | 'paused' | 'killed';
}

const commandTimeoutMs = 15_000;

export class EtcdCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'l4lb-etcd-'));
  readonly host: string;
  /** root's password once auth is on (etcdctl() uses it). */
  readonly rootPassword = `root-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private readonly members: Member[] = [];
  private readonly token = `l4lb-test-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  private authOn = false;
  /** With `tls`: the CA, and the client certificate etcd accepts. */
  readonly certificates: TestCertificates | undefined;

  private constructor(private readonly options: EtcdClusterOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.certificates = options.tls ? makeTestCertificates(this.dir, this.host) : undefined;
  }

  /** Starts every member, waits until each serves, and turns auth on if asked. */
  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const cluster = new EtcdCluster(options);
    try {
      await cluster.boot();
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  /** `HOST:PORT` client endpoints, in member order. */
  get endpoints(): string[] {
    return this.members.map((m) => `${this.host}:${m.clientPort}`);
  }

  /** `http://HOST:PORT` client URLs (the gRPC gateway too), in member order. */
  get clientUrls(): string[] {
    return this.endpoints.map((e) => `${this.certificates ? 'https' : 'http'}://${e}`);
  }

  /** SIGKILL of member i, by PID; resolves once it has exited. */
  async kill(i: number): Promise<void> {
    const m = this.member(i);
    if (m.state === 'paused') this.signal(m, 'SIGCONT');
    m.state = 'killed';
    if (m.child) await stopChild(m.child, 'SIGKILL');
  }

  /** SIGSTOP to member i: it holds its sockets open and answers nothing (a partitioned member). */
  pause(i: number): void {
    const m = this.member(i);
    if (m.state !== 'running') return;
    this.signal(m, 'SIGSTOP');
    m.state = 'paused';
  }

  /** SIGCONT to a paused member i. */
  resume(i: number): void {
    const m = this.member(i);
    if (m.state !== 'paused') return;
    this.signal(m, 'SIGCONT');
    m.state = 'running';
  }

  /** Starts killed member i again on its ports and data directory; resolves once it serves. */
  async restart(i: number): Promise<void> {
    const m = this.member(i);
    if (m.state !== 'killed') throw new Error(`etcd ${m.name} is ${m.state}, not killed`);
    this.launch(m, 'existing');
    await this.untilServing([m]);
  }

  /** Compacts (physically) at the current revision; returns that revision. */
  async compact(): Promise<number> {
    const revision = await this.revision();
    await this.ctl(['compact', String(revision), '--physical']);
    return revision;
  }

  /** The current revision, from a range on the first live member that answers. */
  async revision(): Promise<number> {
    let last: unknown;
    for (const endpoint of this.liveEndpoints()) {
      try {
        const { stdout } = await this.ctl(['get', 'l4lb-revision-probe', '-w', 'json'], [endpoint]);
        return Number(/"revision":\s*"?(\d+)/.exec(stdout)![1]);
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no live etcd member told its revision${last ? `: ${(last as Error).message}` : ''}`);
  }

  /** etcdctl ARGS against the live members (as root once auth is on; inside ns when given); its stdout. */
  etcdctl(args: string[]): string {
    const [program, argv] = this.command(args, this.liveEndpoints());
    const r = spawnSync(program, argv, { encoding: 'utf8', timeout: commandTimeoutMs, killSignal: 'SIGKILL' });
    if (r.error || r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${r.error?.message ?? r.status ?? r.signal}): ${r.stderr}`);
    return r.stdout;
  }

  /** The tail of every member's log, for a failure's message. */
  logs(bytes = 4096): string {
    return this.members.map((m) => `--- ${m.name} (${m.state}, ${m.log})\n${existsSync(m.log) ? readFileSync(m.log, 'utf8').slice(-bytes) : ''}`).join('\n');
  }

  /** Kills every process it started (by PID) and removes its directory. SIGKILL: a leader on
   * SIGTERM first tries to hand its leadership over, which takes seconds once peers are gone. */
  async close(): Promise<void> {
    for (const m of this.members) {
      m.state = 'killed';
      if (m.child) await stopChild(m.child, 'SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async boot(): Promise<void> {
    const ns = this.options.ns !== undefined;
    for (let i = 0; i < (this.options.members ?? 3); i++) {
      const name = `m${i + 1}`;
      const [clientPort, peerPort] = ns ? [2379 + 10 * i, 2380 + 10 * i] : [await freePort(), await freePort()];
      this.members.push({ name, clientPort, peerPort, dataDir: join(this.dir, name), log: join(this.dir, `${name}.log`), state: 'killed' });
    }
    for (const m of this.members) this.launch(m, 'new');
    await this.untilServing(this.members);
    const auth = this.options.auth;
    if (!auth) return;
    const role = 'l4lb-readwrite';
    for (const step of [
      ['user', 'add', `root:${this.rootPassword}`, '--interactive=false'],
      ['role', 'add', 'root'],
      ['user', 'grant-role', 'root', 'root'],
      ['user', 'add', `${auth.user}:${auth.password}`, '--interactive=false'],
      ['role', 'add', role],
      // The empty key as a prefix is every key.
      ['role', 'grant-permission', '--prefix=true', role, 'readwrite', ''],
      ['user', 'grant-role', auth.user, role],
      ['auth', 'enable'],
    ]) await this.ctl(step);
    this.authOn = true;
  }

  /** Spawns member m with its output appended to its log file. */
  private launch(m: Member, state: 'new' | 'existing'): void {
    const url = (port: number, scheme = 'http') => `${scheme}://${this.host}:${port}`;
    const client = url(m.clientPort, this.certificates ? 'https' : 'http');
    const c = this.certificates;
    const args = [
      '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      ...(c ? ['--cert-file', c.serverCert, '--key-file', c.serverKey, '--trusted-ca-file', c.ca, '--client-cert-auth'] : []),
      '--listen-peer-urls', url(m.peerPort), '--initial-advertise-peer-urls', url(m.peerPort),
      '--initial-cluster', this.members.map((o) => `${o.name}=${url(o.peerPort)}`).join(','),
      '--initial-cluster-state', state, '--initial-cluster-token', this.token,
      '--heartbeat-interval', '50', '--election-timeout', '500',
      '--logger', 'zap', '--log-level', 'warn',
    ];
    const fd = openSync(m.log, 'a');
    const stdio: ['ignore', number, number] = ['ignore', fd, fd];
    m.child = this.options.ns ? nsSpawn(this.options.ns, '/usr/bin/etcd', args, { stdio }) : spawn('/usr/bin/etcd', args, { stdio });
    closeSync(fd); // the child holds its own copy
    m.state = 'running';
  }

  /** Resolves when each member answers `endpoint health` (exit status 0; it reports on stderr); rejects at once if one exits. */
  private async untilServing(members: Member[]): Promise<void> {
    let onExit = () => {};
    const exited = new Promise<never>((_, reject) => (onExit = () => reject(new Error('an etcd member exited while starting'))));
    exited.catch(() => {});
    for (const m of members) m.child!.once('exit', onExit);
    try {
      await Promise.race([
        exited,
        (async () => {
          for (const m of members) {
            const endpoint = `${this.host}:${m.clientPort}`;
            // A short dial timeout: a refused first dial otherwise costs gRPC's 1 s reconnect backoff.
            const probe = async () => Boolean(await this.ctl(['endpoint', 'health'], [endpoint], 5_000, '300ms'));
            await waitFor(`etcd ${m.name} (${endpoint}) to serve`, probe, 50, 100);
          }
        })(),
      ]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.logs()}`);
    } finally {
      for (const m of members) m.child!.removeListener('exit', onExit);
    }
  }

  /** etcdctl ARGS, asynchronously, against `endpoints` (the live members unless given). */
  private ctl(args: string[], endpoints = this.liveEndpoints(), timeoutMs = commandTimeoutMs, dialTimeout = '1s') {
    const [program, argv] = this.command(args, endpoints, dialTimeout);
    return sh(program, argv, { timeoutMs });
  }

  /** The program and arguments that run etcdctl ARGS (through `ip netns exec` inside ns). */
  private command(args: string[], endpoints: string[], dialTimeout = '1s'): [string, string[]] {
    const c = this.certificates;
    const argv = [
      `--endpoints=${endpoints.join(',')}`, `--dial-timeout=${dialTimeout}`, '--command-timeout=10s',
      ...(this.authOn ? [`--user=root:${this.rootPassword}`] : []),
      ...(c ? [`--cacert=${c.ca}`, `--cert=${c.clientCert}`, `--key=${c.clientKey}`] : []),
      ...args,
    ];
    return this.options.ns ? ['ip', ['netns', 'exec', this.options.ns, '/usr/bin/etcdctl', ...argv]] : ['/usr/bin/etcdctl', argv];
  }

  private liveEndpoints(): string[] {
    return this.members.filter((m) => m.state === 'running').map((m) => `${this.host}:${m.clientPort}`);
  }

  private member(i: number): Member {
    const m = this.members[i];
    if (!m) throw new Error(`no etcd member ${i} (members are 0…${this.members.length - 1})`);
    return m;
  }

  private signal(m: Member, signal: NodeJS.Signals): void {
    const child = m.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, signal);
  }
}
