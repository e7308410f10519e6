// Three nodes on one three-member etcd cluster (real etcd, started here): a write through any
// node reaches the others, versions hold across nodes, concurrent writers lose nothing, a node
// whose local objects do not fit says so without holding up the others, and etcd's faults
// (a member lost, the quorum lost, a member cut off, history compacted) change what the
// status says, never what was applied.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdCluster, etcdMissing } from '../etcd-cluster.js';
import { healthCheck, json, realServers, service } from '../helpers.js';
import { waitFor } from '../e2e/netns.js';
import { prefix, seedLocal, startEtcdNode, waitApplied, waitConnected, type EtcdNode } from './etcd-node.js';

const skip = etcdMissing();
let etcd: EtcdCluster;
let dir: string;
const nodes: EtcdNode[] = [];
const db = (i: number) => join(dir, `n${i}.db`);

async function start(i: number): Promise<EtcdNode> {
  const node = await startEtcdNode(`n${i}`, db(i), etcd.endpoints);
  nodes[i] = node;
  return node;
}

/** A write answered by `node`, with the status it must have. */
async function ok(node: EtcdNode, method: string, url: string, body?: unknown, headers?: Record<string, string>, status = method === 'POST' ? 201 : 200) {
  const response = await node.request(method, url, body, headers);
  assert.equal(response.statusCode, status, `${node.name} ${method} ${url}: ${response.body}`);
  return response;
}

const rsUrl = '/api/v1/virtual-services/web/real-servers';

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'l4lb-etcd-'));
  etcd = await EtcdCluster.start({ members: 3 });
  for (let i = 0; i < 3; i++) {
    await start(i);
    await seedLocal(nodes[i]);
    await waitConnected(nodes[i]);
  }
});

after(async () => {
  for (const node of nodes) await node?.close();
  await etcd?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a write through one node is applied by every node, with the same resourceVersion, and logged on each', { skip }, async () => {
  const [a, b, c] = nodes;
  const logged: string[] = [];
  a.etcd.copy.log = { info: (_d, message) => logged.push(message), warn: (_d, message) => logged.push(message) };
  await ok(a, 'POST', '/api/v1/health-checks', healthCheck);
  await ok(b, 'POST', '/api/v1/virtual-services', service);
  const created = json(await ok(c, 'POST', rsUrl, realServers[0]));
  for (const node of nodes) {
    await waitApplied(node, created.resourceVersion);
    const shown = json(await ok(node, 'GET', `${rsUrl}/rs1`));
    assert.equal(shown.resourceVersion, created.resourceVersion, node.name);
    assert.ok(shown.status.appliedGeneration >= shown.status.generation, `${node.name} shows it applied`);
    assert.equal(node.engine.appliedGeneration(), node.store.generation(), `${node.name}'s engine has it`);
  }
  const status = c.status();
  assert.equal(status.stale, false);
  assert.equal(status.appliedRevision, created.resourceVersion);
  assert.ok(logged.includes(`cluster configuration applied at etcd revision ${created.resourceVersion}: put real-servers web/rs1`), logged.join('\n'));
});

test('If-Match holds across nodes: a version read on one node is stale on every node once another wrote', { skip }, async () => {
  const [a, b, c] = nodes;
  const read = await ok(b, 'GET', `${rsUrl}/rs1`);
  const etag = read.headers.etag as string;
  const patched = json(await ok(c, 'PATCH', `${rsUrl}/rs1`, { weight: 5 }, { 'if-match': etag }));
  await waitApplied(a, patched.resourceVersion);
  const stale = await a.request('PATCH', `${rsUrl}/rs1`, { weight: 6 }, { 'if-match': etag });
  assert.equal(stale.statusCode, 412, stale.body);
  const staleBody = await b.request('PUT', `${rsUrl}/rs1`, { ...realServers[0], resourceVersion: json(read).resourceVersion });
  assert.equal(staleBody.statusCode, 412, staleBody.body);
  assert.equal(json(await ok(b, 'GET', `${rsUrl}/rs1`)).weight, 5);
});

test('concurrent writers through different nodes: each write lands once or is refused, none is lost', { skip }, async () => {
  const creates = nodes.flatMap((node, i) => [0, 1, 2, 3].map((k) => node.request('POST', rsUrl, { name: `c${i}-${k}`, address: `10.0.2.${100 + i * 10 + k}` })));
  const answers = await Promise.all(creates);
  assert.deepEqual(answers.map((r) => r.statusCode), answers.map(() => 201), answers.map((r) => r.body).join('\n'));
  // The same name and the same VIP from different nodes at once: never both twins, never two
  // services on one VIP; what answered 201 is what exists, the rest were told why (409).
  const twins = [
    { node: nodes[0], body: { ...service, name: 'twin', port: 81 } },
    { node: nodes[1], body: { ...service, name: 'twin', port: 82 } },
    { node: nodes[2], body: { ...service, name: 'other', port: 81 } },
  ];
  const racing = await Promise.all(twins.map(({ node, body }) => node.request('POST', '/api/v1/virtual-services', body)));
  const bodies = racing.map((r) => r.body).join('\n');
  assert.ok(racing.every((r) => r.statusCode === 201 || r.statusCode === 409), bodies);
  const won = twins.filter((_, i) => racing[i].statusCode === 201).map((t) => t.body);
  assert.equal(won.filter((b) => b.name === 'twin').length, 1, bodies);
  assert.equal(new Set(won.map((b) => b.port)).size, won.length, bodies);
  await waitApplied(nodes[0], await etcd.revision());
  const ports = json(await ok(nodes[0], 'GET', '/api/v1/virtual-services')).items.filter((s: { name: string }) => ['twin', 'other'].includes(s.name));
  assert.deepEqual(ports.map((s: { name: string; port: number }) => `${s.name}:${s.port}`).sort(), won.map((b) => `${b.name}:${b.port}`).sort());
  // Two PATCHes with the same If-Match: one applies, the other is 412.
  const etag = (await nodes[0].request('GET', `${rsUrl}/rs1`)).headers.etag as string;
  const patches = await Promise.all([1, 2].map((i) => nodes[i].request('PATCH', `${rsUrl}/rs1`, { weight: 10 + i }, { 'if-match': etag })));
  assert.deepEqual(patches.map((r) => r.statusCode).sort(), [200, 412], patches.map((r) => r.body).join('\n'));
  const revision = await etcd.revision();
  for (const node of nodes) {
    await waitApplied(node, revision);
    const names = json(await ok(node, 'GET', rsUrl)).items.map((rs: { name: string }) => rs.name);
    for (let i = 0; i < 3; i++) for (let k = 0; k < 4; k++) assert.ok(names.includes(`c${i}-${k}`), `${node.name} has c${i}-${k}`);
  }
  const retried = nodes.reduce((sum, node) => sum + (node.status().counters?.writesRetried ?? 0), 0);
  assert.ok(retried > 0, 'some writes found another one first and were validated again');
});

test('a node whose local objects do not fit reports it, refuses writes, and catches up once they fit; the others go on', { skip }, async () => {
  const [a, b, c] = nodes;
  for (const node of [a, b]) await ok(node, "PUT", "/api/v1/local-address-pools/extra", { nic: "server", addresses: [`10.0.2.20${node.name.slice(1)}`] }, {}, 201);
  const created = json(await ok(a, 'POST', '/api/v1/virtual-services', { ...service, name: 'extra', port: 90, localAddressPool: 'extra' }));
  await waitApplied(b, created.resourceVersion);
  await waitFor('n2 to refuse the revision', async () => c.status().refusal?.revision === created.resourceVersion);
  assert.match(c.status().refusal!.message, /no local address pool named 'extra'/);
  assert.equal(c.status().stale, true);
  assert.equal((await c.request('GET', '/api/v1/virtual-services/extra')).statusCode, 404, 'n2 still runs what it had');
  const metrics = (await ok(c, 'GET', '/metrics')).body;
  assert.match(metrics, /^l4lb_config_store_refused 1$/m);
  const refused = await c.request('PATCH', `${rsUrl}/rs1`, { weight: 3 });
  assert.equal(refused.statusCode, 409, refused.body);
  assert.match(String(json(refused).detail), /cannot apply the cluster configuration/);
  // b goes on taking writes meanwhile.
  const later = json(await ok(b, 'PATCH', `${rsUrl}/rs1`, { weight: 4 }));
  await ok(c, 'PUT', '/api/v1/local-address-pools/extra', { nic: 'server', addresses: ['10.0.2.209'] }, {}, 201);
  assert.equal(c.status().refusal, undefined);
  assert.ok((c.status().appliedRevision ?? 0) >= later.resourceVersion);
  assert.equal(json(await ok(c, 'GET', `${rsUrl}/rs1`)).weight, 4);
  assert.equal(json(await ok(c, 'GET', '/api/v1/virtual-services/extra')).localAddressPool, 'extra');
});

test('a key under the prefix that is not a valid object is listed and ignored', { skip }, async () => {
  const [a] = nodes;
  const put = (key: string, value: string) =>
    fetch(`${etcd.clientUrls[0]}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') }) });
  const value = (spec: object) => JSON.stringify({ spec, createdAt: 'x', updatedAt: 'x' });
  const hostile: [string, string, RegExp][] = [
    [`${prefix}virtual-services/bogus`, value({ address: 'not an address', port: 80, protocol: 'tcp', nic: 'client', localAddressPool: 'lips' }), /\/address/],
    [`${prefix}health-checks/junk`, 'not json', /not JSON/],
    // A spec naming itself otherwise would show under that name on every read.
    [`${prefix}health-checks/renamed`, value({ name: 'other', type: 'tcp' }), /\/name is the server's/],
    [`${prefix}health-checks/with-status`, value({ type: 'tcp', status: { up: true } }), /\/status is the server's/],
    [`${prefix}real-servers/web/no-port`, value({ address: '10.0.2.99' }), /\/port is missing/],
  ];
  for (const [key, text] of hostile) await put(key, text);
  await waitFor('every key listed', async () => a.status().unreadableKeys?.length === hostile.length);
  for (const [key, , reason] of hostile) {
    assert.match(a.status().unreadableKeys!.find((u) => u.key === key)?.message ?? 'not listed', reason, key);
  }
  assert.equal((await a.request('GET', '/api/v1/virtual-services/bogus')).statusCode, 404);
  assert.equal((await a.request('GET', '/api/v1/health-checks/renamed')).statusCode, 404);
  assert.equal(a.status().refusal, undefined);
  for (const [key] of hostile.slice(1)) {
    const deleted = await fetch(`${etcd.clientUrls[0]}/v3/kv/deleterange`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(key).toString('base64') }) });
    assert.equal(deleted.status, 200);
  }
  await waitFor('the deleted keys forgotten', async () => a.status().unreadableKeys?.length === 1);
});

/** Retries `write` while it answers 503 (an election after a member was lost), for up to ~10 s. */
async function eventually(node: EtcdNode, method: string, url: string, body: unknown): Promise<{ unavailable: number; resourceVersion: number }> {
  let unavailable = 0;
  for (let i = 0; i < 100; i++) {
    const response = await node.request(method, url, body);
    if (response.statusCode !== 503) {
      assert.ok(response.statusCode < 300, `${node.name} ${method} ${url}: ${response.body}`);
      return { unavailable, resourceVersion: json(response).resourceVersion };
    }
    unavailable++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${node.name} ${method} ${url} stayed 503`);
}

test('one member killed: writes go on through every node', { skip }, async () => {
  await etcd.kill(0);
  try {
    for (const [i, node] of nodes.entries()) {
      const { unavailable, resourceVersion } = await eventually(node, 'PATCH', `${rsUrl}/rs1`, { weight: 20 + i });
      console.log(`# ${node.name}: write after member 0 was killed answered after ${unavailable} × 503`);
      for (const other of nodes) await waitApplied(other, resourceVersion);
    }
  } finally {
    await etcd.restart(0);
  }
});

test('a member cut off: the node watching it moves to another and resumes where it stopped', { skip }, async () => {
  const [a, b] = nodes;
  await waitConnected(a);
  const member = etcd.endpoints.indexOf(a.status().endpoint!);
  const starts = a.status().counters!.watchStarts;
  etcd.pause(member);
  try {
    await waitConnected(a, false);
    const { resourceVersion } = await eventually(b, 'PATCH', `${rsUrl}/rs1`, { weight: 30 });
    await waitApplied(a, resourceVersion);
    assert.notEqual(a.status().endpoint, etcd.endpoints[member]);
    assert.ok(a.status().counters!.watchStarts > starts);
    assert.equal(json(await ok(a, 'GET', `${rsUrl}/rs1`)).weight, 30);
  } finally {
    etcd.resume(member);
  }
  for (const node of nodes) await waitConnected(node);
});

test('the quorum lost: writes are 503 and change nothing, reads serve the applied configuration marked stale', { skip }, async () => {
  const [a, b] = nodes;
  const before = json(await ok(a, 'GET', `${rsUrl}/rs1`));
  await etcd.kill(0);
  await etcd.kill(1);
  try {
    await waitConnected(a, false);
    const refused = await a.request('PATCH', `${rsUrl}/rs1`, { weight: 40 });
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(json(refused).type, 'urn:l4lb:problem:config-store-unavailable');
    assert.deepEqual(json(await ok(a, 'GET', `${rsUrl}/rs1`)), before);
    assert.equal(a.status().stale, true);
    assert.match((await ok(a, 'GET', '/metrics')).body, /^l4lb_config_store_stale 1$/m);
    // Node-local objects are the node's own: they still take writes.
    await ok(a, 'PATCH', '/api/v1/nics/client', { mtu: 1400 });
  } finally {
    await Promise.all([etcd.restart(0), etcd.restart(1)]);
  }
  for (const node of nodes) await waitConnected(node);
  const { resourceVersion } = await eventually(b, 'PATCH', `${rsUrl}/rs1`, { weight: 41 });
  for (const node of nodes) await waitApplied(node, resourceVersion);
  assert.equal(json(await ok(a, 'GET', `${rsUrl}/rs1`)).weight, 41);
});

test('a node that was away while etcd compacted its history reads everything again, deletions included', { skip }, async () => {
  const [a, , c] = nodes;
  await c.close();
  await ok(a, 'DELETE', `${rsUrl}/c0-0`, undefined, {}, 204);
  const added = json(await ok(a, 'POST', rsUrl, { name: 'late', address: '10.0.2.150' }));
  await etcd.compact();
  const restarted = await start(2);
  await waitApplied(restarted, added.resourceVersion);
  assert.equal(restarted.status().counters!.fullReloads, 1, 'the watch found its revision compacted and read the prefix');
  assert.equal((await restarted.request('GET', `${rsUrl}/c0-0`)).statusCode, 404);
  assert.equal(json(await ok(restarted, 'GET', `${rsUrl}/late`)).resourceVersion, added.resourceVersion);
});

test('a node restarted while etcd is down runs and serves its last applied configuration', { skip }, async () => {
  const [a] = nodes;
  const expected = json(await ok(nodes[2], 'GET', rsUrl));
  await nodes[2].close();
  for (let i = 0; i < 3; i++) await etcd.kill(i);
  try {
    const c = await start(2);
    assert.deepEqual(json(await ok(c, 'GET', rsUrl)).items.map((o: { name: string }) => o.name), expected.items.map((o: { name: string }) => o.name));
    assert.equal(c.engine.appliedGeneration(), c.store.generation(), 'the engine runs the stored copy');
    assert.ok(c.engine.appliedGeneration() > 0);
    assert.equal(c.status().connected, false);
    assert.equal(c.status().stale, true);
    assert.equal((await c.request('POST', rsUrl, { name: 'never', address: '10.0.2.151' })).statusCode, 503);
  } finally {
    await Promise.all([etcd.restart(0), etcd.restart(1), etcd.restart(2)]);
  }
  for (const node of nodes) await waitConnected(node);
  const { resourceVersion } = await eventually(a, 'POST', rsUrl, { name: 'after', address: '10.0.2.152' });
  await waitApplied(nodes[2], resourceVersion);
  assert.equal((await nodes[2].request('GET', `${rsUrl}/never`)).statusCode, 404);
});
