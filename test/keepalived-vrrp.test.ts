// The keepalived example run for real: two namespaces joined by a veth (their eth0, the
// example's management interface), keepalived in each with the example configuration (only
// its "per node" lines and paths changed), and an appliance in each (--engine off: the role is
// what is tested, not forwarding). The first node becomes MASTER and its appliance active;
// killing that appliance with SIGKILL hands over to the other node, whose appliance becomes
// active. Process tracking is taken out: the kernel's process events reach only keepalived in
// the initial network namespace (in another it logs "Failed to set/clear process event listen"
// and stays in FAULT), so here the readiness check notices the dead appliance, as it would in
// a container. Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../lib/project-files.js';
import { ip, netnsAdd, netnsDelete, nsSpawn, requireRoot, stopChild, waitFor } from './e2e/netns.js';

const skip = requireRoot();
const example = readFileSync(projectFile('examples', 'keepalived', 'keepalived.conf'), 'utf8');
const notify = projectFile('examples', 'keepalived', 'l4lb-notify.sh');
const binary = projectFile('dist', 'bin', 'l4lb.js');

interface Node {
  ns: string;
  address: string;
  socket: string;
  appliance?: ChildProcess;
  keepalived?: ChildProcess;
  log: () => string;
}

function getRole(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/api/v1/sync', timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve((JSON.parse(text) as { role: string }).role));
    });
    req.on('timeout', () => req.destroy(new Error('GET /api/v1/sync timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The example with one node's "per node" values, this run's paths and the appliance's command line. */
function configFor(node: Node, peer: Node, priority: number, settings: string): string {
  const replaced = example
    .replace('router_id l4lb1', `router_id ${node.ns.slice(-3)}`)
    .replace('priority 150', `priority ${priority}`)
    .replace('unicast_src_ip 198.51.100.1', `unicast_src_ip ${node.address}`)
    .replace(/unicast_peer \{\n(\s*)198\.51\.100\.2/, `unicast_peer {\n$1${peer.address}`)
    .replace(/\n\s*track_process \{\s*l4lb_process\s*\}/, '')
    .replace('--unix-socket /run/l4lb/api.sock', `--unix-socket ${node.socket}`)
    .replace('notify /etc/keepalived/l4lb-notify.sh', `notify "${notify} ${settings}"`);
  for (const expected of [`unicast_src_ip ${node.address}`, `{\n    ${peer.address}`, node.socket, settings])
    assert.ok(replaced.includes(expected), `the example changed shape: no ${expected}`);
  assert.ok(!/track_process \{/.test(replaced), 'the example changed shape: track_process still there');
  return replaced;
}

/** Waits (polling every 20 ms, bounded) for `node`'s appliance to have `role`; fails with keepalived's log. */
async function waitRole(node: Node, role: string): Promise<void> {
  try {
    await waitFor(`${node.ns}'s appliance to be ${role}`, async () => (await getRole(node.socket)) === role, 500, 20);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nkeepalived there said:\n${node.log().slice(-2000)}`);
  }
}

describe('keepalived with the example configuration drives failover between two appliances', { skip }, () => {
  const prefix = `l4e-${process.pid}-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-vrrp-'));
  const nodes: Node[] = [1, 2].map((i) => ({ ns: `${prefix}-ka${i}`, address: `198.51.100.${i}`, socket: join(dir, `lb${i}.sock`), log: () => '' }));

  const startKeepalived = (node: Node, peer: Node, priority: number) => {
    const settings = join(dir, `${node.ns}.env`);
    writeFileSync(settings, `L4LB_SOCKET=${node.socket}\n`, { mode: 0o600 });
    const conf = join(dir, `${node.ns}.conf`);
    writeFileSync(conf, configFor(node, peer, priority, settings));
    // -n: no daemon (the PID is keepalived's own); its pid files in this run's directory.
    const child = nsSpawn(node.ns, 'keepalived', ['-n', '-l', '-D', '--vrrp', '-f', conf, '-p', join(dir, `${node.ns}.pid`), '-r', join(dir, `${node.ns}.vrrp.pid`)]);
    let text = '';
    const keep = (d: Buffer) => {
      if (text.length < 65536) text += d.toString();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    node.keepalived = child;
    node.log = () => text;
  };

  before(async () => {
    for (const node of nodes) await netnsAdd(node.ns);
    await ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nodes[1]!.ns], nodes[0]!.ns);
    for (const node of nodes) {
      await ip(['addr', 'add', `${node.address}/24`, 'dev', 'eth0'], node.ns);
      await ip(['link', 'set', 'eth0', 'up'], node.ns);
      await ip(['link', 'set', 'lo', 'up'], node.ns);
      const child = nsSpawn(node.ns, process.execPath, [binary, 'serve', '--engine', 'off', '--listen', node.socket, '--db', join(dir, `${node.ns}.db`), '--log-level', 'warn']);
      node.appliance = child;
      await waitFor('the appliance', async () => {
        if (child.exitCode !== null) throw new Error(`l4lb exited with ${child.exitCode}`);
        return Boolean(await getRole(node.socket));
      });
      // Both start as backups; only keepalived makes one active.
      await new Promise<void>((resolve, reject) => {
        const body = JSON.stringify({ enabled: false, role: 'backup', nodeId: node.ns.slice(-3) });
        const req = request({ socketPath: node.socket, method: 'PUT', path: '/api/v1/sync', headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT /api/v1/sync → ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
    }
  });

  after(async () => {
    for (const node of nodes) {
      if (node.keepalived) await stopChild(node.keepalived);
      if (node.appliance) await stopChild(node.appliance);
    }
    for (const node of nodes) await netnsDelete(node.ns);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the first node is elected and its appliance becomes active; the second stays backup', async () => {
    const [one, two] = nodes as [Node, Node];
    startKeepalived(one, two, 150);
    await waitRole(one, 'active');
    startKeepalived(two, one, 100);
    await waitFor('keepalived on node 2 in BACKUP', async () => /\(l4lb\) Entering BACKUP STATE/i.test(two.log()), 100, 100).catch((err) => {
      throw new Error(`${err.message}\n${two.log().slice(-2000)}`);
    });
    assert.equal(await getRole(two.socket), 'backup');
    assert.equal(await getRole(one.socket), 'active');
  });

  test('kill -9 of the active appliance: the other node becomes MASTER and its appliance active', async () => {
    const [one, two] = nodes as [Node, Node];
    const t0 = performance.now();
    await stopChild(one.appliance!, 'SIGKILL');
    await waitRole(two, 'active');
    console.log(`# kill -9 of the active appliance to the other one active: ${Math.round(performance.now() - t0)} ms`);
    assert.match(one.log(), /\(l4lb\) entering FAULT state/i);
  });
});
