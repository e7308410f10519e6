// The appliance as an operator runs it: the real binary, a real SQLite file, a socket.
// Covers --help, flag errors, SIGTERM shutdown, the bearer token from the environment or a
// file, the rate limit flag, and a restart that shows every object unchanged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeOptions } from '../bin/options.js';
import { projectFile } from '../lib/project-files.js';
import { seedRequests } from './helpers.js';

const binary = projectFile('dist', 'bin', 'l4lb.js');

interface Reply {
  status: number;
  body: any;
}

function call(socketPath: string, method: string, path: string, body?: unknown, token?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Starts `l4lb serve` and waits (bounded by attempts) until it answers /healthz. */
async function start(dir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; socket: string }> {
  const socket = join(dir, 'api.sock');
  const child = spawn(process.execPath, [binary, 'serve', '--engine', 'off', '--listen', socket, '--db', join(dir, 'l4lb.db'), '--log-level', 'warn'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`l4lb exited with ${child.exitCode}`);
    try {
      if ((await call(socket, 'GET', '/healthz')).status === 200) return { child, socket };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error('l4lb did not start');
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

test('--help documents every flag and exits 0', () => {
  const result = spawnSync(process.execPath, [binary, '--help'], { encoding: 'utf8' });
  assert.equal(result.status, 0);
  for (const flag of ['--listen', '--db', '--token', '--engine', 'L4LB_LISTEN', 'L4LB_TOKEN']) assert.match(result.stdout, new RegExp(flag));
});

test('a bad flag value exits 2 with a message naming it', () => {
  const result = spawnSync(process.execPath, [binary, 'serve', '--engine', 'turbo'], { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--engine turbo: expected dpdk or off/);
});

test('objects survive a SIGTERM and a restart on the same database, token from L4LB_TOKEN enforced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-cli-'));
  const token = 'test-token-123';
  try {
    let { child, socket } = await start(dir, { L4LB_TOKEN: token });
    assert.equal((await call(socket, 'GET', '/api/v1/nics')).status, 401);
    for (const [path, body] of seedRequests) assert.equal((await call(socket, 'POST', path, body, token)).status, 201);
    const reads = ['/api/v1/nics', '/api/v1/local-address-pools', '/api/v1/health-checks', '/api/v1/virtual-services', '/api/v1/virtual-services/web/real-servers'];
    const before = await Promise.all(reads.map((path) => call(socket, 'GET', path, undefined, token)));

    assert.equal(await stop(child), 0);
    ({ child, socket } = await start(dir, { L4LB_TOKEN: token }));
    const after = await Promise.all(reads.map((path) => call(socket, 'GET', path, undefined, token)));
    for (let i = 0; i < reads.length; i++) {
      const strip = (items: any[]) => items.map(({ status, ...rest }) => ({ ...rest, createdAt: status.createdAt }));
      assert.deepEqual(strip(after[i].body.items), strip(before[i].body.items), reads[i]);
    }
    assert.equal(after[4].body.items.length, 2);
    const ready = await call(socket, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.appliedGeneration, ready.body.generation);
    assert.equal(await stop(child), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--token-file reads the token from the file\'s first line; a missing or empty file is a usage error naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-token-'));
  try {
    const file = join(dir, 'token');
    writeFileSync(file, 'from-the-file\nignored\n');
    assert.equal(parseServeOptions(['--token-file', file], { L4LB_TOKEN: 'from-env' }).token, 'from-the-file');
    assert.equal(parseServeOptions([], { L4LB_TOKEN_FILE: file }).token, 'from-the-file');
    assert.throws(() => parseServeOptions(['--token-file', join(dir, 'missing')], {}), /--token-file .*missing: ENOENT/);
    writeFileSync(file, '\n');
    assert.throws(() => parseServeOptions(['--token-file', file], {}), /the file's first line is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--rate-limit: 100 per second unless set; 0 turns it off; anything else is a usage error', () => {
  assert.equal(parseServeOptions([], {}).rateLimit, 100);
  assert.equal(parseServeOptions(['--rate-limit', '0'], {}).rateLimit, 0);
  assert.equal(parseServeOptions([], { L4LB_RATE_LIMIT: '20' }).rateLimit, 20);
  assert.throws(() => parseServeOptions(['--rate-limit', 'lots'], {}), /--rate-limit lots: expected an integer/);
});

test('an API reachable from other machines needs a token or --insecure-no-auth', () => {
  const refused = /needs a token \(--token-file FILE\); to serve it open anyway, add --insecure-no-auth/;
  assert.throws(() => parseServeOptions(['--listen', '0.0.0.0:8080'], {}), refused);
  assert.throws(() => parseServeOptions(['--listen', '192.0.2.2:8080'], {}), refused);
  assert.throws(() => parseServeOptions([], { L4LB_LISTEN: '[::]:8080' }), refused);
  assert.equal(parseServeOptions(['--listen', '0.0.0.0:8080', '--insecure-no-auth'], {}).insecureNoAuth, true);
  assert.equal(parseServeOptions(['--listen', '0.0.0.0:8080'], { L4LB_INSECURE_NO_AUTH: '1' }).insecureNoAuth, true);
  assert.equal(parseServeOptions(['--listen', '0.0.0.0:8080', '--token', 't'], {}).token, 't');
  for (const listen of ['127.0.0.1:8080', '127.0.0.2:80', 'localhost:8080', '[::1]:8080', '/run/l4lb.sock']) {
    assert.equal(parseServeOptions(['--listen', listen], {}).insecureNoAuth, false, listen);
  }

  const result = spawnSync(process.execPath, [binary, 'serve', '--engine', 'off', '--listen', '0.0.0.0:18080'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, refused);
});

test('--insecure-no-auth is warned about at start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-open-'));
  const child = spawn(process.execPath, [binary, 'serve', '--engine', 'off', '--listen', '0.0.0.0:0', '--insecure-no-auth', '--db', join(dir, 'l4lb.db'), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    const warned = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 20_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('--insecure-no-auth')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('exit', () => resolve(false));
    });
    assert.ok(warned, output);
    const line = JSON.parse(output.split('\n').find((l) => l.includes('--insecure-no-auth'))!);
    assert.equal(line.level, 40);
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--allowed-hosts and --trust-proxy take lists and refuse what is not a host name or CIDR', () => {
  const options = parseServeOptions(['--allowed-hosts', 'LB1.example, lb2.example', '--trust-proxy', '10.0.0.0/8,192.0.2.1,fd00::/64'], {});
  assert.deepEqual(options.allowedHosts, ['lb1.example', 'lb2.example']);
  assert.deepEqual(options.trustProxy, ['10.0.0.0/8', '192.0.2.1', 'fd00::/64']);
  assert.deepEqual(parseServeOptions([], {}).trustProxy, []);
  assert.throws(() => parseServeOptions(['--trust-proxy', '10.0.0.0/33'], {}), /--trust-proxy 10.0.0.0\/33: expected an IP address or CIDR/);
  assert.throws(() => parseServeOptions(['--trust-proxy', 'proxy.example'], {}), /--trust-proxy proxy.example/);
  assert.throws(() => parseServeOptions(['--allowed-hosts', 'lb1.example:8080'], {}), /--allowed-hosts lb1.example:8080: expected a host name/);
  assert.equal(parseServeOptions(['--allow-management-interface'], {}).allowManagementInterface, true);
  assert.equal(parseServeOptions([], {}).allowManagementInterface, false);
});
