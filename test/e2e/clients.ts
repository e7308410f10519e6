// Client programs in the client namespace: curl for HTTP, and a long-lived TCP connection
// driven line by line (a stand-in for a MySQL or SSH session that must stay up).

import { nsSpawn, stopChild, waitFor } from './netns.js';
import type { Topology } from './topology.js';

/** `GET url` from the client namespace; resolves with the body. */
export async function curl(t: Topology, url: string, maxTimeS = 3): Promise<string> {
  return (await t.run('client', 'curl', ['-sS', '--max-time', String(maxTimeS), url])).stdout;
}

export interface Connection {
  /** Sends `text` and resolves with the next answer (one echo chunk). */
  send(text: string): Promise<string>;
  close(): Promise<void>;
}

const relay = `
const [address, port] = process.argv.slice(1);
const c = require('node:net').connect(Number(port), address, () => process.stdout.write('connected\\n'));
c.on('data', (d) => process.stdout.write(d.toString().trim() + '\\n'));
c.on('error', (e) => { process.stdout.write('error ' + e.code + '\\n'); process.exit(1); });
c.on('close', () => process.exit(0));
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => c.write(l));
process.stdin.on('end', () => c.end());
`;

/** Opens one TCP connection from the client namespace that stays open until close(). */
export async function openConnection(t: Topology, address: string, port: number): Promise<Connection> {
  const child = nsSpawn(t.ns.client, process.execPath, ['-e', relay, address, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  const next = async (what: string) => {
    const line = await waitFor(what, async () => lines.shift(), 50, 100);
    if (line.startsWith('error')) throw new Error(`${what}: ${line}`);
    return line;
  };
  try {
    await next(`a connection to ${address}:${port}`);
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
  return {
    send: async (text) => {
      child.stdin!.write(`${text}\n`);
      return next(`an answer to ${text}`);
    },
    close: () => stopChild(child, 'SIGTERM'),
  };
}
