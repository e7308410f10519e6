// Reaching etcd as a production cluster is set up: client URLs over TLS with client
// certificates required, and authentication on. The right credentials work; a wrong password
// or a missing client certificate leaves the node unconnected with a reason, the password
// never shown.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdCluster, etcdMissing } from '../etcd-cluster.js';
import { healthCheck, json } from '../helpers.js';
import { waitFor } from '../e2e/netns.js';
import { seedLocal, startEtcdNode, waitConnected, type EtcdNode } from './etcd-node.js';

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

async function node(name: string, login: Parameters<typeof startEtcdNode>[3]): Promise<EtcdNode> {
  const n = await startEtcdNode(name, join(dir, `${name}.db`), etcd.endpoints, login);
  started.push(n);
  return n;
}

test('TLS with a client certificate and a user: the node follows etcd and writes through it', { skip }, async () => {
  const n = await node('good', { tls: tls(true), auth });
  await seedLocal(n);
  await waitConnected(n);
  const created = await n.request('POST', '/api/v1/health-checks', healthCheck);
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(json(created).resourceVersion, n.status().appliedRevision);
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
