// The multi-active cluster with its cluster-wide configuration in etcd (--config-store
// etcd://…): three nodes of the cluster lab, each given only its own objects (NIC, pool, sync,
// BGP), and a three-member etcd in the router namespace. The echo service and its real servers
// are created with plain HTTP calls (curl) to one node; every node applies them at the same
// etcd revision and forwards. If-Match holds across nodes. Losing all of etcd changes nothing
// for traffic: connections keep echoing, writes answer 503, reads still answer, and when etcd
// is back writes work and every node catches up. A node restarted while etcd is down forwards
// with the configuration cached in its database. Times are printed, never asserted.
// Needs root and etcd; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterObjectWrites, clusterServices, startClusterLab, type ClusterLab } from './cluster-lab.js';
import { clusterPlan, type ClusterNode } from './cluster-topology.js';
import { startEchoClients, stallSummary } from './echo-clients.js';
import { requireRoot, sh, waitFor } from './netns.js';
import { brokenOnes, waitAllAnswering } from './sync-traffic.js';
import { etcdMissing } from '../etcd-cluster.js';

const skip = requireRoot() ?? etcdMissing();
const nodes: ClusterNode[] = ['lb1', 'lb2', 'lb3'];
const members = [0, 1, 2];
/** Traffic kept flowing while etcd is away before the connections are judged. */
const settleMs = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unavailable = 'urn:l4lb:problem:config-store-unavailable';

interface CurlAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
}

describe('a cluster with its configuration in etcd', { skip }, () => {
  let lab: ClusterLab;
  const numbers: Record<string, unknown> = {};

  /** One API call to `node` with curl over its Unix socket, as an operator would make it. */
  async function curl(node: ClusterNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<CurlAnswer> {
    const args = ['-sS', '--max-time', '15', '--unix-socket', lab.apiSocket(node), '-X', method, '-D', '-', '-H', 'Expect:'];
    for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
    if (body !== undefined) {
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) args.push('-H', 'content-type: application/json');
      args.push('--data-binary', JSON.stringify(body));
    }
    const { stdout } = await sh('curl', [...args, `http://localhost${path}`], { timeoutMs: 20_000 });
    const split = stdout.indexOf('\r\n\r\n');
    const [head, text] = [stdout.slice(0, split), stdout.slice(split + 4)];
    const [statusLine, ...lines] = head.split('\r\n');
    const answer: CurlAnswer = {
      status: Number(statusLine!.split(' ')[1]),
      headers: Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()])),
      body: text && /json/.test(head) ? JSON.parse(text) : text,
    };
    return answer;
  }

  async function curlOk(node: ClusterNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<CurlAnswer> {
    const r = await curl(node, method, path, body, headers);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} through ${node} → ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  }

  const configStore = async (node: ClusterNode) => lab.nodes[node]!.ok('GET', '/api/v1/config-store');
  const echoService = async (node: ClusterNode) => lab.nodes[node]!.ok('GET', '/api/v1/virtual-services/echo');

  /** Waits until every node in `on` runs the echo service at `revision` or later; how long each took. */
  async function appliedEverywhere(revision: number, on: readonly ClusterNode[] = nodes, from = performance.now()): Promise<Record<string, number>> {
    const took: Record<string, number> = {};
    await Promise.all(on.map(async (node) => {
      await waitFor(`${node} to apply etcd revision ${revision}`, async () => (await configStore(node)).appliedRevision >= revision, 5000, 2);
      took[node] = Math.round(performance.now() - from);
    }));
    return took;
  }

  /** Waits until each node follows etcd again (connected, not stale). */
  async function following(on: readonly ClusterNode[] = nodes): Promise<void> {
    for (const node of on)
      await waitFor(`${node} to follow etcd again`, async () => {
        const s = await configStore(node);
        return s.connected && !s.stale;
      }, 300, 100);
  }

  let etcdDown = false;
  async function killEtcd(): Promise<void> {
    etcdDown = true;
    for (const i of members) await lab.etcd!.kill(i);
  }

  /** Every member at once: one alone has no quorum and never reports healthy. */
  async function restartEtcd(): Promise<void> {
    await Promise.all(members.map((i) => lab.etcd!.restart(i)));
    etcdDown = false;
  }

  /** After a test that failed with etcd down: the next one starts with etcd up. */
  async function etcdBackIfDown(): Promise<void> {
    if (etcdDown) await restartEtcd().catch((err) => console.log(`etcd did not come back: ${(err as Error).message}`));
  }

  before(async () => {
    lab = await startClusterLab({ etcd: true });
    for (const node of nodes) await lab.start(node);
    for (const node of nodes) assert.deepEqual((await lab.nodes[node]!.ok('GET', '/api/v1/virtual-services')).items, [], `${node} starts with no service`);
    await following();
  });

  after(async () => {
    await lab?.destroy();
    console.log(`cluster-etcd numbers: ${JSON.stringify(numbers)}`);
  });

  test('a service created through one node is applied and forwarded by all three at one revision', async () => {
    const writes = clusterObjectWrites(['echo']);
    const t0 = performance.now();
    for (const { path, body } of writes.slice(0, -1)) await curlOk('lb1', 'PUT', path, body);
    // The last write is timed: every node's status is polled from before it is sent (nothing
    // else writes, so an applied revision past the one before it is this write's).
    const before = Math.max(...(await Promise.all(nodes.map(async (n) => (await configStore(n)).appliedRevision as number))));
    const sentAt = performance.now();
    const polled = appliedEverywhere(before + 1, nodes, sentAt);
    polled.catch(() => undefined); // awaited below; not unhandled if the PUT fails first
    const last = await curlOk('lb1', 'PUT', writes.at(-1)!.path, writes.at(-1)!.body);
    const answeredAt = performance.now();
    const revision = last.body.resourceVersion as number;
    assert.equal(revision, before + 1, 'the last write is the next etcd revision');
    const fromSend = await polled;
    const took = Object.fromEntries(Object.entries(fromSend).map(([n, ms]) => [n, Math.round(sentAt + ms - answeredAt)]));
    numbers.propagationMs = took;
    console.log(`three PUTs through lb1 took ${Math.round(answeredAt - t0)} ms, the last ${Math.round(answeredAt - sentAt)} ms; ` +
      `each node reported its revision ${revision} applied this long after lb1 answered (ms, negative: before): ${JSON.stringify(took)}`);

    const shown = await Promise.all(nodes.map(echoService));
    const version = shown[0].resourceVersion as number;
    for (const [i, node] of nodes.entries()) {
      assert.equal(shown[i].resourceVersion, version, `${node} shows echo at etcd revision ${version}`);
      assert.equal(shown[i].address, clusterPlan.vip);
      const status = await configStore(node);
      assert.equal(status.backend, 'etcd');
      assert.ok(status.appliedRevision >= version && status.appliedRevision >= revision, `${node} applied ${status.appliedRevision}, echo is at ${version}, the last write at ${revision}`);
      assert.equal(status.refusal, undefined, `${node}: ${JSON.stringify(status.refusal)}`);
      const servers = (await lab.nodes[node]!.ok('GET', '/api/v1/virtual-services/echo/real-servers')).items.map((s: { name: string }) => s.name).sort();
      assert.deepEqual(servers, ['rs1', 'rs2'], `${node}'s real servers of echo`);
    }

    await lab.waitVipThrough(nodes);
    const echo = await startEchoClients(lab.topo.ns.client, clusterPlan.vip, clusterServices.echo.port, { count: 40 });
    try {
      const first = await echo.report();
      const answering = await waitAllAnswering(echo, first);
      assert.equal(answering.length, 40);
      for (const node of nodes) {
        const ports = new Set(echo.localPorts);
        const own = await waitFor(`${node} to hold the echo sessions`, async () => {
          const sessions = (await lab.nodes[node]!.ok('GET', '/api/v1/sessions?virtualService=echo&limit=10000')).items as { client: { port: number }; origin: string }[];
          const ours = sessions.filter((s) => ports.has(s.client.port));
          return ours.length === ports.size && ours.filter((s) => s.origin === 'local').length;
        }, 100, 100).catch(() => 0);
        console.log(`${node} forwards ${own} of the 40 echo connections`);
        assert.ok(own > 0, `${node} forwards some echo connections (ECMP spreads 40 over 3)`);
      }
    } finally {
      await echo.close();
    }
  });

  test('If-Match holds across nodes: a version read on lb2 patches through lb3 once, then is 412 through lb1', async () => {
    const read = await curlOk('lb2', 'GET', '/api/v1/virtual-services/echo');
    const tag = read.headers.etag!;
    assert.equal(tag, `"${read.body.resourceVersion}"`);
    const patched = await curl('lb3', 'PATCH', '/api/v1/virtual-services/echo', { timeouts: { udp: 301 } }, { 'if-match': tag, 'content-type': 'application/merge-patch+json' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.ok(patched.body.resourceVersion > read.body.resourceVersion);
    const stale = await curl('lb1', 'PATCH', '/api/v1/virtual-services/echo', { timeouts: { udp: 302 } }, { 'if-match': tag, 'content-type': 'application/merge-patch+json' });
    assert.equal(stale.status, 412, JSON.stringify(stale.body));
    await appliedEverywhere(patched.body.resourceVersion);
    for (const node of nodes) {
      const shown = await echoService(node);
      assert.equal(shown.resourceVersion, patched.body.resourceVersion, node);
      assert.equal(shown.timeouts.udp, 301, `${node}: the stale PATCH changed nothing`);
    }
  });

  test('all of etcd lost: traffic goes on, writes are 503, reads answer, status is stale; back, writes work and nodes catch up', async () => {
    const echo = await startEchoClients(lab.topo.ns.client, clusterPlan.vip, clusterServices.echo.port, { count: 60 });
    try {
      const baseline = await echo.report();
      echo.resetGaps();
      await killEtcd();
      const down = performance.now();
      for (const node of nodes) await waitFor(`${node} to report etcd lost`, async () => (await configStore(node)).stale === true, 100, 100);
      console.log(`every node reported stale ${Math.round(performance.now() - down)} ms after etcd was killed`);
      for (const node of nodes) {
        const s = await configStore(node);
        assert.equal(s.connected, false, node);
        assert.ok(s.lastError, `${node} says why: ${JSON.stringify(s)}`);
        const write = await curl(node, 'PATCH', '/api/v1/virtual-services/echo', { timeouts: { udp: 303 } }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(write.status, 503, `${node}: ${JSON.stringify(write.body)}`);
        assert.equal(write.body.type, unavailable);
        const create = await curl(node, 'PUT', '/api/v1/virtual-services/echo/real-servers/rs3', { address: clusterPlan.realServers.rs1, port: 9 });
        assert.equal(create.status, 503, `${node}: ${JSON.stringify(create.body)}`);
        assert.equal(create.body.type, unavailable);
        assert.equal((await curl(node, 'GET', '/api/v1/virtual-services/echo')).status, 200, node);
        assert.equal((await curl(node, 'GET', '/api/v1/virtual-services/echo/real-servers')).status, 200, node);
        assert.equal((await curl(node, 'GET', '/api/v1/nics/lan')).status, 200, node);
      }
      await sleep(settleMs);
      const during = await waitAllAnswering(echo, baseline);
      assert.deepEqual(brokenOnes(during), []);
      assert.equal(during.length, 60);
      numbers.etcdDownStall = stallSummary(during);
      console.log(`etcd down: stalls over ${during.length} connections (ms): ${JSON.stringify(numbers.etcdDownStall)}`);

      const upAt = performance.now();
      await restartEtcd();
      await following();
      console.log(`etcd back: every node following again ${Math.round(performance.now() - upAt)} ms after the restart began`);
      const write = await curlOk('lb2', 'PATCH', '/api/v1/virtual-services/echo', { timeouts: { udp: 304 } }, { 'content-type': 'application/merge-patch+json' });
      const revision = write.body.resourceVersion as number;
      numbers.propagationAfterOutageMs = await appliedEverywhere(revision);
      for (const node of nodes) {
        const shown = await echoService(node);
        assert.equal(shown.resourceVersion, revision, node);
        assert.equal(shown.timeouts.udp, 304, node);
        assert.equal((await lab.nodes[node]!.api('GET', '/api/v1/virtual-services/echo/real-servers/rs3')).status, 404, `${node}: the refused PUT left nothing`);
      }
      const after1 = await echo.report();
      assert.deepEqual(brokenOnes(after1), []);
    } finally {
      await echo.close();
      await etcdBackIfDown();
    }
  });

  test('a node restarted with etcd down forwards with its cached configuration', async () => {
    const before = await echoService('lb3');
    await killEtcd();
    try {
      for (const node of nodes) await waitFor(`${node} to report etcd lost`, async () => (await configStore(node)).stale === true, 100, 100);
      await lab.kill('lb3');
      await lab.waitVipThrough(['lb1', 'lb2']);
      const startedAt = performance.now();
      const lb3 = await lab.start('lb3');
      await lab.waitVipThrough(nodes);
      numbers.lb3BackWithoutEtcdMs = Math.round(performance.now() - startedAt);
      console.log(`lb3 restarted with etcd down: the VIP routed through it again after ${numbers.lb3BackWithoutEtcdMs} ms`);
      const status = await lb3.ok('GET', '/api/v1/config-store');
      assert.equal(status.connected, false);
      assert.equal(status.stale, true);
      assert.ok(status.appliedRevision >= before.resourceVersion, JSON.stringify(status));
      const services = (await lb3.ok('GET', '/api/v1/virtual-services')).items as { name: string; resourceVersion: number }[];
      assert.deepEqual(services.map((s) => [s.name, s.resourceVersion]), [['echo', before.resourceVersion]]);

      const echo = await startEchoClients(lab.topo.ns.client, clusterPlan.vip, clusterServices.echo.port, { count: 40 });
      try {
        await waitAllAnswering(echo, await echo.report());
        const ports = new Set(echo.localPorts);
        const own = await waitFor('lb3 to forward some of the new connections', async () => {
          const sessions = (await lb3.ok('GET', '/api/v1/sessions?virtualService=echo&limit=10000')).items as { client: { port: number }; origin: string }[];
          return sessions.filter((s) => s.origin === 'local' && ports.has(s.client.port)).length;
        }, 50, 100);
        console.log(`lb3 (restarted, etcd down) forwards ${own} of 40 new echo connections`);
        assert.deepEqual(brokenOnes(await echo.report()), []);
      } finally {
        await echo.close();
      }
    } finally {
      await etcdBackIfDown();
    }
    await following();
  });
});
