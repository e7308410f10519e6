// Typed, checked wrappers around the programs that build a namespace topology: ip, nft,
// ethtool, sysctl. Every command has a timeout and a failure is an Error naming the command
// and its stderr, so a broken setup says what broke instead of timing out somewhere later.

import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | string | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`command failed (${code}): ${command}${stderr.trim() ? `\n${stderr.trim()}` : ''}`);
  }
}

export interface RunOptions {
  /** Milliseconds before the command is killed; a kill counts as a failure. */
  timeoutMs?: number;
  /** Data written to the command's stdin. */
  input?: string;
}

const defaultTimeoutMs = 10_000;

/** Runs a program to completion; rejects with CommandError on non-zero exit or timeout. */
export function sh(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [cmd, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? defaultTimeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const code = err.killed ? 'timeout' : ((err as { code?: number | string }).code ?? null);
        reject(new CommandError(command, code, stderr, stdout));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Like sh, but resolves with the exit status instead of rejecting (for expected failures). */
export async function tryRun(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult & { ok: boolean; code: number | string | null }> {
  try {
    return { ...(await sh(cmd, args, options)), ok: true, code: 0 };
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    return { stdout: err.stdout, stderr: err.stderr, ok: false, code: err.code };
  }
}

/** Runs a program inside a network namespace. */
export function nsRun(ns: string, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], options);
}

/** Starts a long-running program inside a namespace. `ip netns exec` execs the program, so the
 * child's PID is the program's own and stopping it by PID stops exactly that program. */
export function nsSpawn(ns: string, cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/** `ip ARGS` in the root namespace, or in `ns` with `ip -n`. */
export function ip(args: readonly string[], ns?: string): Promise<RunResult> {
  return sh('ip', ns ? ['-n', ns, ...args] : [...args]);
}

export async function sysctl(ns: string, key: string, value: string | number): Promise<void> {
  await nsRun(ns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
}

/** Loads an nftables ruleset (the `nft -f` syntax) into a namespace. */
export async function nft(ns: string, ruleset: string): Promise<void> {
  await nsRun(ns, 'nft', ['-f', '-'], { input: ruleset });
}

/** `ethtool -K IF FEATURE on|off ...` inside a namespace. */
export async function ethtoolOff(ns: string, iface: string, ...features: string[]): Promise<void> {
  await nsRun(ns, 'ethtool', ['-K', iface, ...features.flatMap((f) => [f, 'off'])]);
}

export async function netnsList(): Promise<string[]> {
  const { stdout } = await sh('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter(Boolean);
}

export async function netnsAdd(ns: string): Promise<void> {
  await sh('ip', ['netns', 'add', ns]);
}

/** Deletes a namespace; a namespace already gone is not an error (teardown is idempotent). */
export async function netnsDelete(ns: string): Promise<void> {
  const r = await tryRun('ip', ['netns', 'delete', ns]);
  if (!r.ok && !/No such file|Invalid netns name|not found/i.test(r.stderr)) {
    throw new CommandError(`ip netns delete ${ns}`, r.code, r.stderr, r.stdout);
  }
}

/**
 * The end-to-end tests need root (namespaces, nftables). Returns undefined when running as root,
 * otherwise a skip reason for `test(..., { skip })`. Under CI=true a missing root throws: CI must
 * never turn a whole suite into a silent skip.
 */
export function requireRoot(): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  const reason = 'end-to-end namespace tests need root (run as root: ip netns, nft)';
  if (process.env.CI === 'true') throw new Error(`${reason}; refusing to skip under CI=true`);
  return reason;
}

/** Retries `probe` up to `attempts` times, `delayMs` apart; returns its first truthy result. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, attempts = 50, delayMs = 100): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const r = await probe();
      if (r) return r;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`gave up waiting for ${what} after ${attempts} attempts${last ? `: ${(last as Error).message}` : ''}`);
}

/** Sends `signal` to one process we started and waits (bounded) for it to exit; SIGKILL if not. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', attempts = 50): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, signal);
  for (let i = 0; i < attempts; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
  }
  if (child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
}
