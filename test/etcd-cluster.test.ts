// The etcd test harness (test/etcd-cluster.ts) against real etcd processes: a three-member
// cluster on 127.0.0.1 spoken to through its gRPC gateway (JSON, base64 keys and values). A
// write through one member reads back from another; with one member killed the other two
// still commit; the killed member comes back on its data directory; after a compaction a
// watch from revision 1 is cancelled with the compact revision. With auth, the gateway refuses
// a write without a token and takes one with a token from /v3/auth/authenticate. Every wait is
// bounded; timings are printed, never asserted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdCluster, etcdMissing } from './etcd-cluster.js';
import { waitFor } from './e2e/netns.js';

const skip = etcdMissing();
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

/** One gateway call: POST url+path with a JSON body; the status and the parsed answer. */
async function gateway(url: string, path: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<{ status: number; json: any }> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, json: await res.json() };
}

async function put(url: string, key: string, value: string, headers: Record<string, string> = {}, timeoutMs = 5_000) {
  return gateway(url, '/v3/kv/put', { key: b64(key), value: b64(value) }, headers, timeoutMs);
}

async function get(url: string, key: string): Promise<string | undefined> {
  const { status, json } = await gateway(url, '/v3/kv/range', { key: b64(key) });
  assert.equal(status, 200, JSON.stringify(json));
  return json.kvs?.[0] ? unb64(json.kvs[0].value) : undefined;
}

/** The first watch event answering a watch of `key` from `startRevision` that is not the creation. */
async function firstWatchAnswer(url: string, key: string, startRevision: number): Promise<any> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  try {
    const res = await fetch(`${url}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: b64(key), start_revision: String(startRevision) } }), signal: controller.signal });
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const { result } = JSON.parse(line);
        if (result && !(result.created && !result.canceled && !result.events)) return result;
      }
    }
    throw new Error('the watch stream ended without an answer');
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

test('a three-member etcd cluster: replication, a killed member, restart, compaction', { skip, timeout: 120_000 }, async (t) => {
  let started = Date.now();
  const cluster = await EtcdCluster.start();
  t.after(() => cluster.close());
  t.diagnostic(`started in ${Date.now() - started} ms: ${cluster.endpoints.join(' ')}`);
  const [url1, url2, url3] = cluster.clientUrls as [string, string, string];

  const written = await put(url1, '/l4lb/a', 'one');
  assert.equal(written.status, 200, JSON.stringify(written.json));
  assert.equal(await get(url3, '/l4lb/a'), 'one');

  // If member 2 led, a put proposed before the election waits ~5 s for etcd's own request
  // timeout; short attempts retry into the new term (elections take about a second).
  await cluster.kill(1);
  started = Date.now();
  await waitFor('a put with member 2 killed', async () => (await put(url1, '/l4lb/b', 'two', {}, 1_000)).status === 200, 40, 250);
  t.diagnostic(`first put after the kill committed in ${Date.now() - started} ms`);
  assert.equal(await get(url3, '/l4lb/b'), 'two');

  started = Date.now();
  await cluster.restart(1);
  t.diagnostic(`member 2 served again ${Date.now() - started} ms after its restart`);
  assert.equal(await waitFor('member 2 to catch up', async () => (await get(url2, '/l4lb/b')) === 'two', 40, 250), true);

  const before = await cluster.revision();
  const compacted = await cluster.compact();
  assert.ok(compacted >= before && compacted >= 3, `compacted at ${compacted}`);
  const answer = await firstWatchAnswer(url2, '/l4lb/a', 1);
  assert.equal(answer.canceled, true, JSON.stringify(answer));
  assert.equal(Number(answer.compact_revision), compacted);
  assert.match(cluster.etcdctl(['get', '/l4lb/a', '--print-value-only']), /^one$/m);
});

test('an etcd cluster with auth: the gateway wants a token', { skip, timeout: 120_000 }, async (t) => {
  const auth = { user: 'l4lb', password: 'pw-etcd-test' };
  const cluster = await EtcdCluster.start({ auth });
  t.after(() => cluster.close());
  const url = cluster.clientUrls[0]!;

  const anonymous = await put(url, '/l4lb/a', 'one');
  assert.notEqual(anonymous.status, 200);
  assert.match(anonymous.json.error ?? '', /user name is empty/);

  const login = await gateway(url, '/v3/auth/authenticate', { name: auth.user, password: auth.password });
  assert.equal(login.status, 200, JSON.stringify(login.json));
  assert.equal(typeof login.json.token, 'string');
  const written = await put(url, '/l4lb/a', 'one', { Authorization: login.json.token });
  assert.equal(written.status, 200, JSON.stringify(written.json));
  assert.match(cluster.etcdctl(['get', '/l4lb/a', '--print-value-only']), /^one$/m);

  const wrong = await gateway(url, '/v3/auth/authenticate', { name: auth.user, password: 'not-it' });
  assert.notEqual(wrong.status, 200);
});
