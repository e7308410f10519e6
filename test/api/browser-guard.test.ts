// A web page must not drive the API through a user's browser: a token-less API refuses Host
// names it does not know (DNS rebinding), and writes from a foreign Origin are refused with or
// without a token. Behind a --trust-proxy proxy, rate limits and logs see X-Forwarded-For.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { clientNic, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

test('without a token, an unknown Host is a 421 that changes nothing; loopback names and IP literals pass', async () => {
  const t = await testApp();
  try {
    const post = (host: string) => t.request('POST', '/api/v1/nics', clientNic, { host });
    assertProblem(await post('evil.example'), 421, undefined, "host 'evil.example'");
    assertProblem(await t.request('GET', '/api/v1/nics', undefined, { host: 'evil.example:8080' }), 421);
    assertProblem(await t.request('DELETE', '/api/v1/nics/client', undefined, { host: 'rebind.attacker.test' }), 421);
    assert.equal(t.store.count('nics'), 0);
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'l4lb.localhost', '192.0.2.7']) {
      assert.equal((await t.request('GET', '/api/v1/nics', undefined, { host })).statusCode, 200, host);
    }
    assert.equal((await post('localhost')).statusCode, 201);
  } finally {
    await t.close();
  }
});

test('--allowed-hosts admits a name; with a token the Host is not checked', async () => {
  const open = await testApp({ allowedHosts: ['lb1.example'] });
  const withToken = await testApp({ token: 'tok' });
  try {
    assert.equal((await open.request('GET', '/api/v1/nics', undefined, { host: 'LB1.example:8080' })).statusCode, 200);
    assert.equal((await open.request('GET', '/api/v1/nics', undefined, { host: 'lb2.example' })).statusCode, 421);
    const authorized = { host: 'lb2.example', authorization: 'Bearer tok' };
    assert.equal((await withToken.request('GET', '/api/v1/nics', undefined, authorized)).statusCode, 200);
  } finally {
    await open.close();
    await withToken.close();
  }
});

test('a write from a foreign Origin is a 403 with or without a token; the API\'s own origin may write', async () => {
  const t = await testApp({ token: 'tok' });
  try {
    const auth = { authorization: 'Bearer tok', host: '127.0.0.1:8080' };
    for (const origin of ['https://evil.example', 'http://127.0.0.1:9999', 'null']) {
      assertProblem(await t.request('POST', '/api/v1/nics', clientNic, { ...auth, origin }), 403, undefined, `origin '${origin}'`);
    }
    assert.equal(t.store.count('nics'), 0);
    // Reads carry no risk and are answered (a browser keeps the answer from a foreign page anyway).
    assert.equal((await t.request('GET', '/api/v1/nics', undefined, { ...auth, origin: 'https://evil.example' })).statusCode, 200);
    assert.equal((await t.request('POST', '/api/v1/nics', clientNic, { ...auth, origin: 'http://127.0.0.1:8080' })).statusCode, 201);
    assert.equal((await t.request('DELETE', '/api/v1/nics/client', undefined, { ...auth, origin: 'https://evil.example' })).statusCode, 403);
    assert.equal(t.store.count('nics'), 1);
  } finally {
    await t.close();
  }
});

test('--trust-proxy: X-Forwarded-For names the client for rate limits and logs, only from that proxy', async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const t = await testApp({ rateLimit: { perSecond: 2 }, trustProxy: ['192.0.2.0/24'], logger: { level: 'info', stream } });
  try {
    const get = (remoteAddress: string, client: string) =>
      t.app.inject({ method: 'GET', url: '/api/v1/nics', remoteAddress, headers: { 'x-forwarded-for': client } });
    // Through the trusted proxy, each forwarded client has a bucket of its own.
    const viaProxy = [];
    for (const client of ['198.51.100.1', '198.51.100.1', '198.51.100.1', '198.51.100.2']) viaProxy.push((await get('192.0.2.5', client)).statusCode);
    assert.deepEqual(viaProxy, [200, 200, 429, 200]);
    // From anywhere else the header is ignored: the socket's address is the client.
    const direct = [];
    for (const client of ['198.51.100.3', '198.51.100.4', '198.51.100.5']) direct.push((await get('203.0.113.9', client)).statusCode);
    assert.deepEqual(direct, [200, 200, 429]);

    const write = await t.app.inject({
      method: 'POST',
      url: '/api/v1/nics',
      remoteAddress: '192.0.2.5',
      headers: { 'x-forwarded-for': '198.51.100.9', 'content-type': 'application/json' },
      payload: JSON.stringify(clientNic),
    });
    assert.equal(write.statusCode, 201);
    const change = lines.map((l) => JSON.parse(l)).find((l) => String(l.msg).startsWith('configuration changed'));
    assert.equal(change?.cause.remoteAddress, '198.51.100.9');
  } finally {
    await t.close();
  }
});
