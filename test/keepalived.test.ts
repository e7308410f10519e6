// The keepalived example (examples/keepalived): keepalived accepts the configuration as shipped,
// and the notify script turns each VRRP state into the right PATCH of a real appliance's sync
// role (the binary with --engine off, a bearer token, its API on a Unix socket), reading its
// settings from a file, since keepalived passes scripts almost no environment.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../lib/project-files.js';
import { ip, netnsAdd, netnsDelete, requireRoot, stopChild, tryRun, waitFor } from './e2e/netns.js';

const config = projectFile('examples', 'keepalived', 'keepalived.conf');
const notify = projectFile('examples', 'keepalived', 'l4lb-notify.sh');
const token = `kt-${randomBytes(8).toString('hex')}`;

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (payload) headers['content-type'] = 'application/json';
    const req = request({ socketPath, method, path, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Runs the notify script as keepalived does: the configured argument (a settings file, if
 * given), then INSTANCE <name> <state> <priority>; with `env` and a bare PATH only.
 */
function runNotify(state: string, settings: string | undefined, env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const args = [notify, ...(settings ? [settings] : []), 'INSTANCE', 'l4lb', state, '150'];
  return new Promise((resolve) => {
    execFile('/bin/sh', args, { env: { PATH: '/usr/bin:/bin', ...env }, timeout: 10_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr });
    });
  });
}

test('keepalived --config-test accepts the example, without a warning', { skip: requireRoot() }, async () => {
  // A namespace whose eth0 (a veth) is the configuration's interface: the host's do not matter.
  const ns = `l4e-${process.pid}-${randomBytes(3).toString('hex')}-keepalived`;
  await netnsAdd(ns);
  try {
    await ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0'], ns);
    const result = await tryRun('ip', ['netns', 'exec', ns, 'keepalived', '--config-test', '-f', config]);
    assert.equal(result.ok, true, `keepalived refused the example (${result.code}): ${result.stderr}`);
    assert.equal(result.stderr.trim(), '');
  } finally {
    await netnsDelete(ns);
  }
});

describe('l4lb-notify.sh drives the appliance sync role', () => {
  let dir: string;
  let socket: string;
  let settingsFile: string;
  let child: ChildProcess;
  const role = async () => (await call(socket, 'GET', '/api/v1/sync')).body.role as string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'l4lb-keepalived-'));
    socket = join(dir, 'api.sock');
    const started = spawn(process.execPath, [projectFile('dist', 'bin', 'l4lb.js'), 'serve', '--engine', 'off', '--listen', socket, '--db', join(dir, 'l4lb.db'), '--token', token, '--log-level', 'warn'], { stdio: 'ignore' });
    child = started;
    await waitFor('the appliance', async () => {
      if (started.exitCode !== null) throw new Error(`l4lb exited with ${started.exitCode}`);
      return (await call(socket, 'GET', '/healthz')).status === 200;
    });
    const put = await call(socket, 'PUT', '/api/v1/sync', { enabled: false, role: 'backup', nodeId: 'lb1' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    settingsFile = join(dir, 'notify.env');
    writeFileSync(settingsFile, `L4LB_SOCKET=${socket}\nL4LB_TOKEN=${token}\n`, { mode: 0o600 });
  });

  after(async () => {
    if (child) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  });

  const transitions: [string, string, string][] = [
    ['MASTER', 'backup', 'active'],
    ['BACKUP', 'active', 'backup'],
    ['MASTER', 'backup', 'active'],
    ['FAULT', 'active', 'backup'],
    ['MASTER', 'backup', 'active'],
    ['STOP', 'active', 'backup'],
  ];
  for (const [i, [state, from, to]] of transitions.entries()) {
    test(`${i + 1}. ${state}: ${from} → ${to}`, async () => {
      assert.equal(await role(), from);
      const r = await runNotify(state, settingsFile);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await role(), to);
      assert.match(r.stderr, new RegExp(`sync role is now ${to}`));
    });
  }

  test('settings from the environment work too (when no settings file is readable)', async () => {
    const r = await runNotify('MASTER', join(dir, 'absent.env'), { L4LB_SOCKET: socket, L4LB_TOKEN: token });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await role(), 'active');
  });

  test('a wrong token fails loudly and changes nothing', async () => {
    const r = await runNotify('BACKUP', join(dir, 'absent.env'), { L4LB_SOCKET: socket, L4LB_TOKEN: 'wrong' });
    assert.equal(r.code, 22, r.stderr);   // curl --fail-with-body: HTTP error
    assert.match(r.stderr, /401|bearer token is wrong/);
    assert.equal(await role(), 'active');
  });

  test('an unknown state is a usage error and changes nothing', async () => {
    const r = await runNotify('WHATEVER', settingsFile);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage/);
    assert.equal(await role(), 'active');
  });

  test('no appliance behind the socket: non-zero exit', async () => {
    const r = await runNotify('MASTER', join(dir, 'absent.env'), { L4LB_SOCKET: join(dir, 'none.sock') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /failed \(curl 7\)/);
  });
});
