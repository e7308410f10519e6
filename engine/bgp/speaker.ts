// The BGP speaker: bird2 run as a child of this process, driven through its control socket.
//
// - Life: bird runs as `setpriv --pdeathsig KILL -- bird -f …`, so when the appliance dies
//   (kill -9, OOM) the kernel kills bird at once; its sessions and BFD drop and the routers
//   withdraw this node's routes. A speaker outliving the data plane would blackhole traffic.
// - Changes: follow() and announce() only record what is wanted; one loop renders bird.conf,
//   swaps it in atomically and runs `birdc configure`, one at a time, so a burst coalesces
//   into one reconfigure. bird applies a new announced set to the static protocol without
//   resetting sessions. A refused configure or a bird crash lands in status().lastError (bird
//   is restarted with back-off), never in the caller: routing must not stop an apply.
// - Status: `show protocols all` is polled every second while bird runs; status() reads the
//   cache. close() stops bird with SIGTERM: each session ends with a Cease, routes go at once.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { familyOf } from '../../store/ip.js';
import { BirdControl, type ShowProtocols } from './bird-control.js';
import { renderBirdConfig, type NicPath } from './bird-config.js';
import { probeField, type BgpSettings } from './settings.js';

export interface BgpLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface BgpSpeakerOptions {
  /** Holds bird.conf, the control socket and the pidfile; created with mode 0700. */
  runDir: string;
  birdPath?: string;
  birdcPath?: string;
  log?: BgpLog;
  /** Tests only: a command that execs bird elsewhere, e.g. ['ip', 'netns', 'exec', ns]. */
  commandPrefix?: readonly string[];
}

export interface BgpNeighborStatus {
  address: string;
  asn: number;
  nic: string;
  /** The BGP FSM state in lower case (`established`, `active`, …), or `down` (see lastError). */
  state: string;
  since: string | null;
  lastError: string | null;
}

export interface BgpStatus {
  speakerRunning: boolean;
  version: string | null;
  draining: boolean;
  neighbors: BgpNeighborStatus[];
  /** What bird announces now (its accepted configuration), empty while it is not running. */
  announced: string[];
  lastError: { message: string; at: string } | null;
}

interface Bird {
  child: ChildProcess;
  exited: Promise<void>;
  stopping: boolean;
  /** Its control socket answered: an exit from now on is a crash, not a failed start. */
  ready: boolean;
  /** bird's last lines on stderr, for the error when it exits. */
  tail: string[];
}

const pollMs = 1_000;
const stopGraceMs = 2_000;
const readyAttempts = 50;
const restartDelayMs = { first: 1_000, max: 30_000 };
/** sockaddr_un.sun_path holds 108 bytes with the NUL. */
const maxSocketPath = 107;
const silent: BgpLog = { info() {}, warn() {}, error() {} };

export class BgpSpeaker {
  private readonly confPath: string;
  private readonly socketPath: string;
  private readonly pidPath: string;
  private readonly control: BirdControl;
  private readonly log: BgpLog;

  private settings: BgpSettings | undefined;
  private paths = new Map<string, NicPath>();
  private prefixes: string[] = [];
  private bird: Bird | undefined;
  private applied: { text: string; prefixes: string[] } | undefined;
  private shown: ShowProtocols | undefined;
  private lastError: BgpStatus['lastError'] = null;
  private dirty = false;
  private loop: Promise<void> | undefined;
  private polling = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelay = restartDelayMs.first;
  private closed = false;

  constructor(private readonly options: BgpSpeakerOptions) {
    this.confPath = join(options.runDir, 'bird.conf');
    this.socketPath = join(options.runDir, 'bird.ctl');
    this.pidPath = join(options.runDir, 'bird.pid');
    if (Buffer.byteLength(this.socketPath) > maxSocketPath) {
      throw new Error(`BGP run directory ${options.runDir} is too long for a Unix socket path`);
    }
    mkdirSync(options.runDir, { recursive: true, mode: 0o700 });
    chmodSync(options.runDir, 0o700);
    this.control = new BirdControl(options.birdcPath ?? 'birdc', this.socketPath);
    this.log = options.log ?? silent;
  }

  /** Follows the stored settings (undefined or disabled stops bird) and the NICs' exception paths. */
  follow(settings: BgpSettings | undefined, paths: ReadonlyMap<string, NicPath>): void {
    if (this.closed) return;
    this.settings = settings?.enabled ? settings : undefined;
    this.paths = new Map(paths);
    this.schedule();
  }

  /** The prefixes to announce (announcements.ts); withdrawn all the same while draining. */
  announce(prefixes: readonly string[]): void {
    if (this.closed) return;
    this.prefixes = [...prefixes];
    this.schedule();
  }

  status(): BgpStatus {
    const s = this.settings;
    const running = this.bird !== undefined;
    return {
      speakerRunning: running,
      version: this.shown?.version ?? null,
      draining: s?.drain ?? false,
      neighbors: (s?.neighbors ?? []).map((n) => {
        const base = { address: n.address, asn: n.asn, nic: n.nic };
        const down = (reason: string): BgpNeighborStatus => ({ ...base, state: 'down', since: null, lastError: reason });
        if (!running) return down('bird is not running');
        const family = familyOf(n.address);
        if (this.paths.get(n.nic)?.sources[family] === undefined) {
          return down(`NIC '${n.nic}' has no exception interface with a ${probeField[family]}`);
        }
        // Both sides canonical (the settings by their checks, bird's by bird-control.ts): one spelling per address.
        const p = this.shown?.protocols.find((x) => x.proto === 'BGP' && x.neighborAddress === n.address);
        if (!p) return down('not reported by bird yet');
        return { ...base, state: (p.bgpState ?? p.state).toLowerCase(), since: p.since, lastError: p.lastError ?? null };
      }),
      announced: running ? [...(this.applied?.prefixes ?? [])] : [],
      lastError: this.lastError,
    };
  }

  /** Stops bird (its sessions end with a Cease); the engine awaits this before the data plane stops. */
  async close(): Promise<void> {
    this.closed = true;
    this.settings = undefined;
    clearTimeout(this.restartTimer);
    this.schedule();
    await this.loop;
  }

  /** Marks the configuration dirty; one loop applies it, coalescing whatever comes meanwhile. */
  private schedule(): void {
    this.dirty = true;
    this.loop ??= this.runLoop();
  }

  private async runLoop(): Promise<void> {
    // Let a synchronous burst (follow then announce) land before rendering.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.dirty) {
      this.dirty = false;
      await this.reconcile();
    }
    this.loop = undefined;
  }

  /** Brings bird to the wanted state; every failure ends in lastError. */
  private async reconcile(): Promise<void> {
    const settings = this.settings;
    if (!settings) return this.stopBird();
    const prefixes = settings.drain ? [] : this.prefixes;
    try {
      const text = renderBirdConfig({ settings, paths: this.paths, prefixes });
      if (this.bird && text === this.applied?.text) return;
      const tmp = `${this.confPath}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.confPath);
      if (this.bird) await this.control.configure();
      else await this.startBird();
      this.applied = { text, prefixes: [...prefixes] };
      this.lastError = null;
      await this.poll();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = { message, at: new Date().toISOString() };
    this.log.error({ err: message }, 'bgp speaker');
  }

  /** Spawns bird on the file just written and waits (bounded) until its socket answers. */
  private async startBird(): Promise<void> {
    const argv = [
      ...(this.options.commandPrefix ?? []),
      'setpriv', '--pdeathsig', 'KILL', '--',
      this.options.birdPath ?? 'bird', '-f', '-c', this.confPath, '-s', this.socketPath, '-P', this.pidPath,
    ];
    // detached: a Ctrl-C to the appliance's process group must not stop bird behind close().
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let exitReason: string | undefined;
    const exited = new Promise<void>((resolve) => {
      const end = (why: string): void => {
        if (exitReason !== undefined) return;
        exitReason = `bird exited (${why})${bird.tail.length ? `: ${bird.tail.join(' | ')}` : ''}`;
        this.onExit(bird, exitReason);
        resolve();
      };
      child.once('exit', (code, signal) => end(signal ? `signal ${signal}` : `code ${code}`));
      child.once('error', (err) => end(err.message));
    });
    const bird: Bird = { child, exited, stopping: false, ready: false, tail: [] };
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter((l) => l.trim())) {
        this.log.info({ bird: line }, 'bird');
        bird.tail = [...bird.tail.slice(-4), line];
      }
    });
    this.bird = bird;
    this.pollTimer = setInterval(() => void this.poll(), pollMs).unref();
    for (let i = 0; i < readyAttempts && this.bird === bird; i++) {
      try {
        this.shown = await this.control.showProtocols();
        bird.ready = true;
        this.restartDelay = restartDelayMs.first;
        this.log.info({ pid: child.pid, version: this.shown.version }, 'bird started');
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error(exitReason ?? 'bird started but its control socket never answered');
  }

  /** A start that fails is reported by startBird's caller; a crash is reported here. */
  private onExit(bird: Bird, reason: string): void {
    if (this.bird !== bird) return;
    this.bird = undefined;
    this.shown = undefined;
    clearInterval(this.pollTimer);
    if (bird.stopping) return;
    if (bird.ready) this.fail(new Error(reason));
    if (this.settings && !this.closed) {
      this.restartTimer = setTimeout(() => this.schedule(), this.restartDelay).unref();
      this.restartDelay = Math.min(this.restartDelay * 2, restartDelayMs.max);
    }
  }

  /** SIGTERM to bird's PID, SIGKILL if it has not exited after stopGraceMs. */
  private async stopBird(): Promise<void> {
    const bird = this.bird;
    this.applied = undefined;
    if (!bird?.child.pid) return;
    bird.stopping = true;
    bird.child.kill('SIGTERM');
    const killed = await Promise.race([bird.exited.then(() => false), sleep(stopGraceMs, true, { ref: false })]);
    if (killed) {
      this.log.warn({ pid: bird.child.pid }, 'bird ignored SIGTERM; killing it');
      bird.child.kill('SIGKILL');
      await bird.exited;
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.bird) return;
    this.polling = true;
    const bird = this.bird;
    try {
      const shown = await this.control.showProtocols();
      if (this.bird === bird) this.shown = shown;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'bird status');
    } finally {
      this.polling = false;
    }
  }
}
