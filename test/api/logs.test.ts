// Structured logs: every configuration change is logged once, after it committed, with the
// request that caused it; a change refused by the whole-configuration checks is logged with
// the reason; a request refused before it changed anything is not; no secret ever appears.

import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { clientNic, seed, testApp, type TestApp } from '../helpers.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  [key: string]: unknown;
}

const token = 'token-never-logged';
let lines: string[];
let t: TestApp;
const auth = { authorization: `Bearer ${token}` };

beforeEach(async () => {
  lines = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  t = await testApp({ token, logger: { level: 'info', stream } });
});
afterEach(() => t.close());

const logged = (): LogLine[] => lines.map((l) => JSON.parse(l) as LogLine);
const changeLines = () => logged().filter((l) => l.msg.startsWith('configuration change'));

test('a committed change is logged once, with its generation, objects and the request that caused it', async () => {
  const response = await t.request('POST', '/api/v1/nics', clientNic, auth);
  assert.equal(response.statusCode, 201);
  const [line, ...more] = changeLines();
  assert.equal(more.length, 0);
  assert.equal(line.msg, 'configuration changed: put nics client');
  assert.equal(line.level, 30);
  assert.equal(line.generation, 1);
  assert.deepEqual(line.changes, [{ op: 'put', kind: 'nics', name: 'client' }]);
  assert.deepEqual(line.cause, { method: 'POST', url: '/api/v1/nics', remoteAddress: '127.0.0.1' });
  // The same reqId as Fastify's own lines for that request: the change can be traced to it.
  const completed = logged().find((l) => l.msg === 'request completed');
  assert.ok(line.reqId && line.reqId === completed?.reqId);
});

test('reads are not logged at info (the panel polls, Prometheus scrapes); writes are, once each', async () => {
  await t.request('GET', '/api/v1/nics', undefined, auth);
  await t.request('GET', '/metrics', undefined, auth);
  assert.deepEqual(logged(), []);
  await t.request('POST', '/api/v1/nics', clientNic, auth);
  assert.deepEqual(logged().map((l) => l.msg), ['configuration changed: put nics client', 'request completed']);
});

test('nested objects are named with their parent; a delete is logged as one', async () => {
  await seed({ ...t, request: (m, u, b, h = {}) => t.request(m, u, b, { ...auth, ...h }) });
  lines.length = 0;
  assert.equal((await t.request('DELETE', '/api/v1/virtual-services/web/real-servers/rs2', undefined, auth)).statusCode, 204);
  assert.deepEqual(changeLines().map((l) => l.changes), [[{ op: 'delete', kind: 'real-servers', name: 'web/rs2' }]]);
});

test('a change the configuration checks refuse is logged with the reason; a malformed body is not', async () => {
  await t.request('POST', '/api/v1/nics', clientNic, auth);
  lines.length = 0;
  const refused = await t.request('POST', '/api/v1/local-address-pools', { name: 'p', nic: 'missing', addresses: ['10.0.2.100'] }, auth);
  assert.equal(refused.statusCode >= 400 && refused.statusCode < 500, true);
  const [line, ...more] = changeLines();
  assert.equal(more.length, 0);
  assert.match(line.msg, /^configuration change refused: put local-address-pools p: /);
  assert.equal(line.status, refused.statusCode);
  assert.match(String(line.reason), /missing/);

  lines.length = 0;
  assert.equal((await t.request('POST', '/api/v1/nics', { name: 'x', networks: ['not-a-network'] }, auth)).statusCode, 400);
  assert.deepEqual(changeLines(), []);
});

test('neither the bearer token nor the Redis password reaches the log', async () => {
  const password = 'redis-password-never-logged';
  const response = await t.request('PUT', '/api/v1/sync', { enabled: false, redisUrl: 'redis://127.0.0.1:6379', redisPassword: password }, auth);
  assert.equal(response.statusCode, 200);
  assert.equal(changeLines().length, 1);
  await t.request('GET', '/api/v1/nics', undefined, { authorization: 'Bearer wrong-token' });
  const all = lines.join('\n');
  assert.ok(!all.includes(token));
  assert.ok(!all.includes(password));
});

test('applies are counted: l4lb_config_applies_total by result', async () => {
  await t.request('POST', '/api/v1/nics', clientNic, auth);
  await t.request('POST', '/api/v1/local-address-pools', { name: 'p', nic: 'missing', addresses: ['10.0.2.100'] }, auth);
  const metrics = (await t.request('GET', '/metrics', undefined, auth)).body;
  // The stored configuration at start, then the NIC; the checks refuse the pool before the engine sees it.
  assert.match(metrics, /^l4lb_config_applies_total\{result="applied"\} 2$/m);
  assert.match(metrics, /^l4lb_config_applies_total\{result="refused"\} 0$/m);
  assert.match(metrics, /^l4lb_config_applies_total\{result="restored"\} 0$/m);
});
