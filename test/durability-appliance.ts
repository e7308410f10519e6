// The appliance as the durability test kills it: the built binary with `--engine off` on an
// ephemeral loopback port (not rate limited: the stream is faster than a client should be), its pino lines read from stdout for two facts (where it listens,
// and what the reconciler replayed at start), ended by its PID with SIGKILL.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { projectFile } from '../lib/project-files.js';

/** The reconciler's start-up line: "stored configuration applied: generation N, M objects". */
export interface StartRecord {
  generation: number;
  objects: number;
}

export interface KillableAppliance {
  readonly pid: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly start: StartRecord;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

const startTimeoutMs = 30_000;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startAppliance(db: string): Promise<KillableAppliance> {
  const child = spawn(
    process.execPath,
    [projectFile('dist/bin/l4lb.js'), 'serve', '--engine', 'off', '--listen', '127.0.0.1:0', '--rate-limit', '0', '--db', db, '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = child.pid!;
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    await exited(child);
  };
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  let start: StartRecord | undefined;
  let url: string | undefined;
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the appliance did not listen within ${startTimeoutMs} ms: ${stderr}`)), startTimeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the appliance exited (${code ?? signal}) before listening: ${stderr}`));
    });
    // Every later line is read and dropped, so the pipe never fills and stalls the appliance.
    lines.on('line', (line) => {
      if (url || !line.startsWith('{')) return;
      const record = JSON.parse(line) as { msg: string; generation?: number; objects?: number };
      if (record.msg.startsWith('stored configuration applied')) start = { generation: record.generation!, objects: record.objects! };
      const listening = /^Server listening at (http:\/\/127\.0\.0\.1:\d+)$/.exec(record.msg);
      if (listening) {
        url = listening[1];
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    await ready;
  } catch (err) {
    await kill();
    throw err;
  }
  if (!start) {
    await kill();
    throw new Error('the appliance listened without logging that it applied the stored configuration');
  }
  return { pid, url: url!, start, kill };
}
