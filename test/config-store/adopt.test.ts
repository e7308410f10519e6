// A node that ran on SQLite alone moves to etcd: its own services are never overwritten. On an
// etcd that lacks them it keeps running them and says why; after `l4lb config export` and
// `l4lb config import` put the same objects in etcd, it adopts them and follows etcd.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../../lib/project-files.js';
import { EtcdCluster, etcdMissing } from '../etcd-cluster.js';
import { json, seed, testApp } from '../helpers.js';
import { waitFor } from '../e2e/netns.js';
import { startEtcdNode, waitConnected } from './etcd-node.js';

const skip = etcdMissing();
let etcd: EtcdCluster;
let dir: string;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'l4lb-adopt-'));
  etcd = await EtcdCluster.start({ members: 1 });
});

after(async () => {
  await etcd?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const l4lb = (args: string[]) => execFileSync(process.execPath, [projectFile('dist', 'bin', 'l4lb.js'), ...args], { encoding: 'utf8', timeout: 30_000 });

test('own objects: kept and reported until etcd holds the same, then adopted and followed', { skip }, async () => {
  const db = join(dir, 'node.db');
  const single = await testApp({ db });
  await seed(single);
  await single.close();

  let node = await startEtcdNode('n', db, etcd.endpoints);
  try {
    await waitConnected(node);
    await waitFor('the refusal', async () => node.status().refusal !== undefined);
    assert.match(node.status().refusal!.message, /holds 4 cluster-wide objects of its own/);
    assert.equal((await node.request('GET', '/api/v1/virtual-services/web')).statusCode, 200, 'still runs its own');
    assert.equal((await node.request('PATCH', '/api/v1/virtual-services/web', { scheduler: 'rr' })).statusCode, 409);
  } finally {
    await node.close();
  }

  const file = join(dir, 'cluster.json');
  l4lb(['config', 'export', '--db', db, '--output', file]);
  l4lb(['config', 'import', file, '--config-store', `etcd://${etcd.endpoints[0]}/l4lb`]);

  node = await startEtcdNode('n', db, etcd.endpoints);
  try {
    await waitConnected(node);
    await waitFor('the adoption', async () => node.status().appliedRevision === node.status().seenRevision && node.status().refusal === undefined);
    const web = json(await node.request('GET', '/api/v1/virtual-services/web'));
    assert.equal(web.resourceVersion, node.status().appliedRevision, 'the version is now etcd\'s');
    const patched = await node.request('PATCH', '/api/v1/virtual-services/web', { scheduler: 'rr' });
    assert.equal(patched.statusCode, 200, patched.body);
  } finally {
    await node.close();
  }
});
