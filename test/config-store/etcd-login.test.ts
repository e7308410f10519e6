// Reaching etcd as a production cluster is set up: client URLs over TLS with client
// certificates required, and authentication on. The right credentials work; a wrong password
// or a missing client certificate leaves the node unconnected with a reason, the password
// never shown.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { EtcdCluster, etcdMissing } from '../etcd-cluster.js';
import { healthCheck, json } from '../helpers.js';
import { waitFor } from '../e2e/netns.js';
import { seedLocal, startEtcdNode, waitConnected, type EtcdNode, type EtcdNodeOptions } from './etcd-node.js';

const skip = etcdMissing();
const auth = { user: 'l4lb', password: 'pa55-word-for-tests' };
let etcd: EtcdCluster;
let dir: string;
const started: EtcdNode[] = [];

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'l4lb-etcd-login-'));
  etcd = await EtcdCluster.start({ members: 1, tls: true, auth });
});

after(async () => {
  for (const node of started) await node.close();
  await etcd?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tls(withClientCertificate: boolean) {
  const c = etcd.certificates!;
  return {
    ca: readFileSync(c.ca),
    ...(withClientCertificate ? { cert: readFileSync(c.clientCert), key: readFileSync(c.clientKey) } : {}),
  };
}

async function node(name: string, login: EtcdNodeOptions['login'], logger?: EtcdNodeOptions['logger']): Promise<EtcdNode> {
  const n = await startEtcdNode(name, join(dir, `${name}.db`), etcd.endpoints, { login, logger });
  started.push(n);
  return n;
}

test('TLS with a client certificate and a user: the node follows etcd, writes through it and logs the etcd revision', { skip }, async () => {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const n = await node('good', { tls: tls(true), auth }, { level: 'info', stream });
  await seedLocal(n);
  await waitConnected(n);
  const created = await n.request('POST', '/api/v1/health-checks', healthCheck);
  assert.equal(created.statusCode, 201, created.body);
  const revision = json(created).resourceVersion;
  assert.equal(revision, n.status().appliedRevision);
  const logged = lines.find((l) => l.msg === 'configuration changed: put health-checks web');
  assert.equal(logged?.revision, revision, JSON.stringify(lines.filter((l) => String(l.msg).startsWith('configuration'))));
  assert.equal(logged?.generation, undefined);
});

test('a wrong password or no client certificate: not connected, the reason shown, writes 503, the password never', { skip }, async () => {
  const wrong = await node('wrong-password', { tls: tls(true), auth: { user: auth.user, password: 'not-the-password' } });
  const uncertified = await node('no-certificate', { tls: tls(false), auth });
  await waitFor('both to report a failure', async () => Boolean(wrong.status().lastError && uncertified.status().lastError), 100, 100);
  assert.match(wrong.status().lastError!, /authentication failed/);
  assert.doesNotMatch(JSON.stringify(wrong.status()), /not-the-password/);
  assert.equal(uncertified.status().connected, false);
  assert.match(uncertified.status().lastError!, /certificate|socket hang up|ECONNRESET|handshake/i);
  const refused = await wrong.request('POST', '/api/v1/health-checks', { ...healthCheck, name: 'never' });
  assert.equal(refused.statusCode, 503, refused.body);
  assert.doesNotMatch(refused.body, /not-the-password/);
});
