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

// One HTTP/1.1 keep-alive connection: each stdin line is a path to GET on it; each response
// body is printed as a JSON string on a line of its own. Prints its local port once connected.
const keepAliveClient = `
const [address, port] = process.argv.slice(1);
const out = (s) => process.stdout.write(s + '\\n');
const c = require('node:net').connect(Number(port), address, () => out('connected ' + c.localPort));
let buffer = '';
c.on('data', (d) => {
  buffer += d.toString('latin1');
  for (;;) {
    const end = buffer.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    const length = Number(/content-length: *(\\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
    if (buffer.length < end + 4 + length) return;
    out(JSON.stringify(buffer.slice(end + 4, end + 4 + length)));
    buffer = buffer.slice(end + 4 + length);
  }
});
c.on('error', (e) => { out('error ' + e.code); process.exit(1); });
c.on('close', () => { out('closed'); process.exit(0); });
require('node:readline').createInterface({ input: process.stdin }).on('line', (path) => c.write('GET ' + path + ' HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n'));
process.stdin.on('end', () => c.end());
`;

export interface KeepAlive {
  /** The connection's local port in the client namespace. */
  readonly localPort: number;
  /** GETs `path` on the one connection; rejects if it closes or no answer comes within `timeoutMs`. */
  get(path: string, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** Opens one HTTP keep-alive connection from the client namespace (of either lab) to address:port. */
export async function openKeepAlive(t: { ns: { client: string } }, address: string, port: number): Promise<KeepAlive> {
  const child = nsSpawn(t.ns.client, process.execPath, ['-e', keepAliveClient, address, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  const next = async (what: string, timeoutMs: number) => {
    const line = await waitFor(what, async () => lines.shift(), Math.ceil(timeoutMs / 50), 50);
    if (line.startsWith('error') || line === 'closed') throw new Error(`${what}: ${line}`);
    return line;
  };
  let localPort: number;
  try {
    localPort = Number((await next(`a connection to ${address}:${port}`, 5000)).split(' ')[1]);
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
  return {
    localPort,
    get: async (path, timeoutMs = 5000) => {
      child.stdin!.write(`${path}\n`);
      return JSON.parse(await next(`GET ${path}`, timeoutMs)) as string;
    },
    close: () => stopChild(child, 'SIGTERM'),
  };
}
