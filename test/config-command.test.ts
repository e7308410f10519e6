// `l4lb config export` and `l4lb config import` as an operator runs them: the built binary as a
// child process against SQLite files in temporary directories and a real one-member etcd.
// A node's configuration moves into etcd and back unchanged; an import naming taken objects is
// refused whole; --replace deletes what the document lacks; an invalid document is refused
// naming the object and field, and nothing is written; a bad command line exits 2; an
// unreachable etcd exits 1 saying so; a write between the import's read and its transaction
// fails the transaction. Every child process and wait is bounded.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigStoreOptions } from '../bin/config-store-options.js';
import { readDocument } from '../bin/config-document.js';
import { importEtcd, type EtcdPlace } from '../bin/config-etcd.js';
import { EtcdClient } from '../store/etcd/client.js';
import { projectFile } from '../lib/project-files.js';
import { EtcdCluster, etcdMissing } from './etcd-cluster.js';
import { json, seedRequests, testApp } from './helpers.js';
import { freePort } from './redis-sentinel-group.js';

const binary = projectFile('dist', 'bin', 'l4lb.js');
const skip = etcdMissing();

/** The environment without L4LB_* variables: every place comes from the flags. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('L4LB_')));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function config(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [binary, 'config', ...args], { encoding: 'utf8', env, timeout: 30_000, killSignal: 'SIGKILL', ...(input === undefined ? {} : { input }) });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], input?: string): Run {
  const r = config(args, input);
  assert.equal(r.status, 0, `l4lb config ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function exported(args: string[]): any {
  return JSON.parse(ok(['export', ...args]).stdout);
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-config-'));
  tempDirs.push(dir);
  return dir;
}
test.after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// The fixture of helpers.ts, grown to 2 health checks, 3 virtual services and 7 real servers.
const moreRequests: [string, unknown][] = [
  ['/api/v1/health-checks', { name: 'tcp-check', type: 'tcp', intervalMs: 5000 }],
  ['/api/v1/virtual-services', { name: 'api', address: '10.0.1.10', port: 443, protocol: 'tcp', nic: 'client', localAddressPool: 'lips', healthCheck: 'tcp-check', scheduler: 'mh' }],
  ['/api/v1/virtual-services', { name: 'dns', address: '10.0.1.11', port: 53, protocol: 'udp', nic: 'client', localAddressPool: 'lips' }],
  ['/api/v1/virtual-services/api/real-servers', { name: 'a1', address: '10.0.2.31', port: 8443 }],
  ['/api/v1/virtual-services/api/real-servers', { name: 'a2', address: '10.0.2.32', port: 8443, weight: 3 }],
  ['/api/v1/virtual-services/api/real-servers', { address: '10.0.2.33' }],
  ['/api/v1/virtual-services/dns/real-servers', { name: 'd1', address: '10.0.2.21' }],
  ['/api/v1/virtual-services/dns/real-servers', { name: 'd2', address: '10.0.2.22', enabled: false }],
];
/** The NICs and the pool: what a node needs before it can take the fixture's services. */
const nodeRequests = seedRequests.filter(([url]) => url === '/api/v1/nics' || url === '/api/v1/local-address-pools');

/** A database with `requests` applied through the API; the API's view of its cluster-wide objects as a document. */
async function seededDb(requests: [string, unknown][]): Promise<{ db: string; apiView: any }> {
  const db = join(tempDir(), 'l4lb.db');
  const t = await testApp({ db });
  try {
    for (const [url, body] of requests) {
      const response = await t.request('POST', url, body);
      assert.equal(response.statusCode, 201, `${url}: ${response.body}`);
    }
    const items = async (url: string) =>
      json(await t.request('GET', url)).items.map(({ resourceVersion: _v, status: _s, ...rest }: any) => rest);
    const services = await items('/api/v1/virtual-services');
    for (const service of services) service.realServers = await items(`/api/v1/virtual-services/${service.name}/real-servers`);
    return { db, apiView: { apiVersion: 'l4lb/v1', kind: 'ClusterConfig', healthChecks: await items('/api/v1/health-checks'), virtualServices: services } };
  } finally {
    await t.close();
  }
}

const fullDb = () => seededDb([...seedRequests, ...moreRequests]);
const nodeDb = async () => (await seededDb(nodeRequests)).db;

function writeDoc(doc: unknown): string {
  const file = join(tempDir(), 'config.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** The document without service `dns` (and so its real servers) and without web's rs2. */
function smaller(doc: any): any {
  const copy = structuredClone(doc);
  copy.virtualServices = copy.virtualServices.filter((s: any) => s.name !== 'dns');
  const web = copy.virtualServices.find((s: any) => s.name === 'web');
  web.realServers = web.realServers.filter((rs: any) => rs.name !== 'rs2');
  return copy;
}

/** Invalid variants of `doc`, each with what the refusal must say. */
function invalidDocuments(doc: any): [string, any, RegExp][] {
  const variant = (change: (d: any) => void) => {
    const copy = structuredClone(doc);
    change(copy);
    return copy;
  };
  const service = (d: any, name: string) => d.virtualServices.find((s: any) => s.name === name);
  return [
    ['a port of 70000', variant((d) => (service(d, 'web').port = 70000)), /virtual service 'web': \/port must be <= 65535/],
    ['a duplicate VIP', variant((d) => (service(d, 'api').port = 80)), /virtual service '(api|web)': \/address 10\.0\.1\.10:80\/tcp is also the address of virtual service '(api|web)'/],
    ['a missing health check', variant((d) => (service(d, 'web').healthCheck = 'nope')), /virtual service 'web': \/healthCheck names health check 'nope', which the document does not hold/],
    ['a wrong apiVersion', variant((d) => (d.apiVersion = 'l4lb/v2')), /\/apiVersion must be 'l4lb\/v1'/],
    ['a real server named twice', variant((d) => (service(d, 'dns').realServers[1].name = 'd1')), /real server 'd1' of virtual service 'dns': \/name is used by two real servers/],
    ['an unknown field', variant((d) => (d.healthChecks[0].colour = 'red')), /health check 'tcp-check': \/ must NOT have additional properties/],
  ];
}

test('export from SQLite: the objects as the API shows them, sorted by name; --output is mode 0600', async () => {
  const { db, apiView } = await fullDb();
  const run = ok(['export', '--db', db]);
  const doc = JSON.parse(run.stdout);
  assert.deepEqual(doc, apiView);
  assert.deepEqual(doc.virtualServices.map((s: any) => s.name), ['api', 'dns', 'web']);
  assert.deepEqual(doc.virtualServices[0].realServers.map((rs: any) => rs.name), ['10.0.2.33-443', 'a1', 'a2']);
  assert.match(run.stderr, /exported 2 health checks, 3 virtual services, 7 real servers from /);

  const output = join(tempDir(), 'out.json');
  ok(['export', '--db', db, '--output', output]);
  assert.equal(readFileSync(output, 'utf8'), run.stdout);
  assert.equal(statSync(output).mode & 0o777, 0o600);
});

test('import into SQLite: a node with the same NICs and pools takes it; taken names are refused; --replace deletes the rest', async () => {
  const { db } = await fullDb();
  const doc = exported(['--db', db]);
  const file = writeDoc(doc);

  const target = await nodeDb();
  const run = ok(['import', file, '--db', target]);
  assert.match(run.stderr, /imported 2 health checks, 3 virtual services, 7 real servers into .*l4lb\.db at generation \d+/);
  assert.deepEqual(exported(['--db', target]), doc);

  const again = config(['import', file, '--db', target]);
  assert.equal(again.status, 1, again.stderr);
  assert.match(again.stderr, /already holds health check 'tcp-check', health check 'web', virtual service 'api'.*real server 'rs2' of virtual service 'web'; nothing was imported/);
  assert.deepEqual(exported(['--db', target]), doc);

  const less = smaller(doc);
  const replaced = ok(['import', '-', '--db', target, '--replace'], JSON.stringify(less));
  assert.match(replaced.stderr, /imported 2 health checks, 2 virtual services, 4 real servers into .* deleted 4 objects the document lacks/);
  assert.deepEqual(exported(['--db', target]), less);
});

test('import into SQLite is checked by the node\'s rules: without its NICs nothing is written', async () => {
  const { db } = await fullDb();
  const file = writeDoc(exported(['--db', db]));
  const { db: empty } = await seededDb([]);
  const run = config(['import', file, '--db', empty]);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /refused the import; nothing was imported:\n {2}virtual service 'api' \(\/nic\): there is no NIC named 'client'/);
  assert.deepEqual(exported(['--db', empty]), { apiVersion: 'l4lb/v1', kind: 'ClusterConfig', healthChecks: [], virtualServices: [] });
});

test('an invalid document exits 1 naming the object and field, and writes nothing', async () => {
  const { db } = await fullDb();
  const doc = exported(['--db', db]);
  const target = await nodeDb();
  const empty = exported(['--db', target]);
  for (const [what, bad, message] of invalidDocuments(doc)) {
    const run = config(['import', writeDoc(bad), '--db', target]);
    assert.equal(run.status, 1, `${what}: ${run.stderr}`);
    assert.match(run.stderr, /is not a valid configuration; nothing was imported/, what);
    assert.match(run.stderr, message, what);
    assert.deepEqual(exported(['--db', target]), empty, what);
  }
  const notJson = config(['import', '-', '--db', target], '{"apiVersion":');
  assert.equal(notJson.status, 1);
  assert.match(notJson.stderr, /the document is not JSON/);
});

test('a bad command line exits 2 with the usage', async () => {
  const { db } = await seededDb([]);
  for (const args of [
    ['export', '--db', db, '--frobnicate'],
    ['import', '--db', db],
    ['import', 'a.json', 'b.json', '--db', db],
    ['export', '--db', db, '--replace'],
    ['export', '--db', db, '--config-store', 'etcd://127.0.0.1:2379/l4lb'],
    ['export', '--config-store', 'etcd://nohost/l4lb'],
    ['export', '--db', db, '--etcd-user', 'u'],
    ['frobnicate'],
    [],
  ]) {
    const run = config(args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /^l4lb: .*\n\nUsage: l4lb config export/, args.join(' '));
  }
  const help = config(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--replace/);
  const top = spawnSync(process.execPath, [binary, '--help'], { encoding: 'utf8', env, timeout: 30_000 });
  assert.match(top.stdout, /l4lb config export/);
});

test('an unreachable etcd exits 1 saying so', async () => {
  const port = await freePort();
  const run = config(['export', '--config-store', `etcd://127.0.0.1:${port}/l4lb`]);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`etcd is unreachable at etcd://127\\.0\\.0\\.1:${port}/l4lb/`));
});

async function withEtcd(t: TestContext, options: Parameters<typeof EtcdCluster.start>[0] = {}): Promise<EtcdCluster> {
  const cluster = await EtcdCluster.start({ members: 1, ...options });
  t.after(() => cluster.close());
  return cluster;
}

test('SQLite → etcd → SQLite: the same document; taken names refused, --replace, invalid documents, foreign keys', { skip, timeout: 180_000 }, async (t) => {
  const cluster = await withEtcd(t);
  const store = `etcd://${cluster.endpoints[0]}/l4lb`;
  const { db } = await fullDb();
  const doc = exported(['--db', db]);
  const file = writeDoc(doc);

  const run = ok(['import', file, '--config-store', store]);
  assert.match(run.stderr, new RegExp(`imported 2 health checks, 3 virtual services, 7 real servers into etcd://${cluster.endpoints[0]}/l4lb/ at revision (\\d+)`));
  const revision = Number(/at revision (\d+)/.exec(run.stderr)![1]);
  assert.equal(await cluster.revision(), revision);
  assert.equal(ok(['export', '--config-store', store]).stdout, ok(['export', '--db', db]).stdout, 'the same text, byte for byte');
  const lastWrite = JSON.parse(cluster.etcdctl(['get', '/l4lb/last-write', '--print-value-only']));
  assert.equal(lastWrite.node, 'l4lb config import');

  // Back into a node's database.
  const back = await nodeDb();
  ok(['import', '-', '--db', back], ok(['export', '--config-store', store]).stdout);
  assert.deepEqual(exported(['--db', back]), doc);

  const again = config(['import', file, '--config-store', store]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /l4lb\/ already holds health check 'tcp-check', .*virtual service 'web'.*; nothing was imported/);
  assert.equal(await cluster.revision(), revision);

  for (const [what, bad, message] of invalidDocuments(doc)) {
    const refused = config(['import', writeDoc(bad), '--config-store', store, '--replace']);
    assert.equal(refused.status, 1, what);
    assert.match(refused.stderr, message, what);
  }
  assert.equal(await cluster.revision(), revision);

  // A service of the document taking the address of one already in etcd, without --replace.
  const clash = { apiVersion: 'l4lb/v1', kind: 'ClusterConfig', healthChecks: [], virtualServices: [{ ...doc.virtualServices[2], name: 'web2', healthCheck: undefined, realServers: [] }] };
  const clashing = config(['import', writeDoc(clash), '--config-store', store]);
  assert.equal(clashing.status, 1);
  assert.match(clashing.stderr, /virtual service 'web2': \/address 10\.0\.1\.10:80\/tcp is also the address of virtual service 'web'/);
  assert.equal(await cluster.revision(), revision);

  const createdAt = JSON.parse(cluster.etcdctl(['get', '/l4lb/virtual-services/web', '--print-value-only'])).createdAt;
  const less = smaller(doc);
  const replaced = ok(['import', writeDoc(less), '--config-store', store, '--replace']);
  assert.match(replaced.stderr, /deleted 4 objects the document lacks/);
  assert.deepEqual(exported(['--config-store', store]), less);
  const keys = cluster.etcdctl(['get', '/l4lb/', '--prefix', '--keys-only']).split('\n').filter((k) => k !== '');
  assert.ok(!keys.some((k) => k.includes('/dns') || k.endsWith('/rs2')), keys.join(' '));
  assert.equal(JSON.parse(cluster.etcdctl(['get', '/l4lb/virtual-services/web', '--print-value-only'])).createdAt, createdAt);

  cluster.etcdctl(['put', '/l4lb/junk/key', 'x']);
  const foreign = config(['export', '--config-store', store]);
  assert.equal(foreign.status, 1);
  assert.match(foreign.stderr, /etcd key '\/l4lb\/junk\/key' is not a health check, virtual service or real server key/);
});

test('a write to etcd between the import\'s read and its transaction fails the import: nothing is imported', { skip, timeout: 120_000 }, async (t) => {
  const cluster = await withEtcd(t);
  const { db } = await fullDb();
  const doc = exported(['--db', db]);
  ok(['import', writeDoc(doc), '--config-store', `etcd://${cluster.endpoints[0]}/l4lb`]);
  const place = parseConfigStoreOptions({ 'config-store': `etcd://${cluster.endpoints[0]}/l4lb` }, {}) as EtcdPlace;
  const read = readDocument(JSON.stringify(smaller(doc)));
  assert.ok('entries' in read);

  const range = EtcdClient.prototype.range;
  EtcdClient.prototype.range = async function (this: EtcdClient, ...args: Parameters<EtcdClient['range']>) {
    const answer = await range.apply(this, args);
    // Another writer changes an object the import overwrites.
    const value = JSON.parse(cluster.etcdctl(['get', '/l4lb/health-checks/web', '--print-value-only']));
    cluster.etcdctl(['put', '/l4lb/health-checks/web', JSON.stringify({ ...value, spec: { ...value.spec, rise: 5 } })]);
    return answer;
  };
  try {
    const before = await cluster.revision();
    await assert.rejects(importEtcd(place, read.entries, true), /someone wrote under etcd:\/\/.*\/l4lb\/ while the import ran .*nothing was imported/);
    assert.equal(await cluster.revision(), before + 1);
  } finally {
    EtcdClient.prototype.range = range;
  }
  const now = exported(['--config-store', `etcd://${cluster.endpoints[0]}/l4lb`]);
  assert.equal(now.healthChecks.find((c: any) => c.name === 'web').rise, 5);
  assert.equal(now.virtualServices.length, 3);
});

test('etcd with auth: the user and password file log in; the password is never printed', { skip, timeout: 120_000 }, async (t) => {
  const password = `pw-${process.pid}-secret`;
  const cluster = await withEtcd(t, { auth: { user: 'l4lb', password } });
  const dir = tempDir();
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const wrongFile = join(dir, 'wrong');
  writeFileSync(wrongFile, 'not-the-password\n', { mode: 0o600 });
  const { db } = await fullDb();
  const doc = exported(['--db', db]);
  const store = ['--config-store', `etcd://${cluster.endpoints[0]}/cluster-a`, '--etcd-user', 'l4lb'];

  const run = ok(['import', writeDoc(doc), ...store, '--etcd-password-file', passwordFile]);
  const exportRun = ok(['export', ...store, '--etcd-password-file', passwordFile]);
  assert.deepEqual(JSON.parse(exportRun.stdout), doc);
  const refused = config(['export', ...store, '--etcd-password-file', wrongFile]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /etcd refused: .*authentication failed/);
  for (const r of [run, exportRun, refused]) {
    assert.ok(!r.stderr.includes(password) && !r.stdout.includes(password));
    assert.ok(!refused.stderr.includes('not-the-password'));
  }
});
