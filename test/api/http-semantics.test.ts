import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, seed, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const nic = { name: 'extra', device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/24'], gateway: '10.9.0.1' };
const nicUrl = '/api/v1/nics/extra';

describe('http semantics', () => {
  test('ETag and If-Match: a mismatch is 412 and changes nothing', async () => {
    const t = await testApp();
    try {
      const created = await t.request('POST', '/api/v1/nics', nic);
      const etag = created.headers.etag as string;
      assert.equal(etag, `"${json(created).resourceVersion}"`);
      assert.equal((await t.request('GET', nicUrl)).headers.etag, etag);
      assertProblem(await t.request('PUT', nicUrl, { ...nic, mtu: 9000 }, { 'if-match': '"999"' }), 412, undefined, etag);
      assertProblem(await t.request('PATCH', nicUrl, { mtu: 9000 }, { 'if-match': '"999"' }), 412);
      assertProblem(await t.request('DELETE', nicUrl, undefined, { 'if-match': '"999"' }), 412);
      assertProblem(await t.request('PUT', '/api/v1/nics/absent', { ...nic, name: 'absent', device: 'net_af_packet1,iface=dp1' }, { 'if-match': '*' }), 412, undefined, 'does not exist');
      assert.equal(json(await t.request('GET', nicUrl)).mtu, 1500);
      const updated = await t.request('PATCH', nicUrl, { mtu: 9000 }, { 'if-match': etag });
      assert.equal(updated.statusCode, 200);
      assert.notEqual(updated.headers.etag, etag);
      assertProblem(await t.request('PATCH', nicUrl, { mtu: 1400 }, { 'if-match': etag }), 412);
      assert.equal((await t.request('PATCH', nicUrl, { mtu: 1400 }, { 'if-match': `W/${updated.headers.etag as string}` })).statusCode, 200);
      assert.equal((await t.request('DELETE', nicUrl, undefined, { 'if-match': '*' })).statusCode, 204);
    } finally {
      await t.close();
    }
  });

  test('a resourceVersion in the body is a precondition; the object as read back can be PUT', async () => {
    const t = await testApp();
    try {
      const read = json(await t.request('POST', '/api/v1/nics', nic));
      assertProblem(await t.request('PUT', nicUrl, { ...read, resourceVersion: read.resourceVersion + 5 }), 412, '/body/resourceVersion');
      assertProblem(await t.request('PATCH', nicUrl, { mtu: 9000, resourceVersion: 0 }), 412, '/body/resourceVersion');
      const replaced = await t.request('PUT', nicUrl, { ...read, mtu: 9000 });
      assert.equal(replaced.statusCode, 200, replaced.body);
      assert.equal(json(replaced).mtu, 9000);
      assertProblem(await t.request('PUT', nicUrl, { ...read, name: 'other' }), 400, '/body/name', 'cannot be renamed');
      // status may come back as read, but holds only what the server writes there.
      assertProblem(await t.request('PUT', nicUrl, { ...read, status: { ...read.status, bogus: 1 } }), 400, '/body/status/bogus');
      assertProblem(await t.request('PATCH', nicUrl, { status: { link: 'up', extra: true } }), 400, '/body/status/extra');
    } finally {
      await t.close();
    }
  });

  test('PATCH merges with either JSON type; null removes an optional field and defaults come back', async () => {
    const t = await testApp();
    try {
      await t.request('POST', '/api/v1/nics', { ...nic, mtu: 9000 });
      const merge = await t.request('PATCH', nicUrl, { gateway: null, mtu: null }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(merge.statusCode, 200, merge.body);
      assert.equal(json(merge).gateway, undefined);
      assert.equal(json(merge).mtu, 1500);
      assert.deepEqual(json(merge).networks, nic.networks);
      const plain = await t.request('PATCH', nicUrl, { networks: ['10.9.0.0/16'] });
      assert.equal(plain.statusCode, 200);
      assert.deepEqual(json(plain).networks, ['10.9.0.0/16']);
      assertProblem(await t.request('PATCH', nicUrl, { networks: null }), 400, '/body/networks', 'is required');
      assertProblem(await t.request('PATCH', nicUrl, { mtu: 'big' }), 400, '/body/mtu');
      assertProblem(await t.request('PATCH', nicUrl, { colour: 'red' }), 400, '/body/colour', 'is not a known field');
    } finally {
      await t.close();
    }
  });

  test('lists page with limit and cursor; a bad cursor or limit is 400', async () => {
    const t = await testApp();
    try {
      for (const [i, name] of ['c', 'a', 'b'].entries()) {
        await t.request('POST', '/api/v1/nics', { name, device: `net_af_packet${i},iface=dp${i}`, networks: [`10.9.${i}.0/24`] });
      }
      const first = json(await t.request('GET', '/api/v1/nics?limit=2'));
      assert.deepEqual(first.items.map((n: { name: string }) => n.name), ['a', 'b']);
      assert.equal(typeof first.nextCursor, 'string');
      const second = json(await t.request('GET', `/api/v1/nics?limit=2&cursor=${first.nextCursor as string}`));
      assert.deepEqual(second.items.map((n: { name: string }) => n.name), ['c']);
      assert.equal(second.nextCursor, undefined);
      assert.equal(json(await t.request('GET', '/api/v1/nics')).items.length, 3);
      assertProblem(await t.request('GET', '/api/v1/nics?cursor=!!not-a-cursor'), 400, '/query/cursor');
      assertProblem(await t.request('GET', '/api/v1/nics?limit=0'), 400, '/query/limit');
      assertProblem(await t.request('GET', '/api/v1/nics?limit=10001'), 400, '/query/limit');
    } finally {
      await t.close();
    }
  });

  test('DELETE with a JSON content type and an empty body is 204', async () => {
    const t = await testApp();
    try {
      await t.request('POST', '/api/v1/nics', nic);
      const response = await t.app.inject({ method: 'DELETE', url: nicUrl, headers: { 'content-type': 'application/json' }, payload: '' });
      assert.equal(response.statusCode, 204);
      assert.equal(response.body, '');
      assert.equal(t.store.count('nics'), 0);
      // Where a body is required, an empty one is a validation error.
      const empty = await t.app.inject({ method: 'POST', url: '/api/v1/nics', headers: { 'content-type': 'application/json' }, payload: '' });
      assertProblem(empty, 400);
    } finally {
      await t.close();
    }
  });

  test('unknown fields, malformed JSON, unsupported media types, unknown routes and oversized bodies are problems', async () => {
    const t = await testApp();
    try {
      assertProblem(await t.request('POST', '/api/v1/nics', { ...nic, colour: 'red' }), 400, '/body/colour', 'is not a known field');
      assertProblem(await t.request('POST', '/api/v1/health-checks', { name: 'x', type: 'http', http: { verb: 'GET' } }), 400, '/body/http/verb');
      const malformed = await t.app.inject({ method: 'POST', url: '/api/v1/nics', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
      assertProblem(malformed, 400);
      const text = await t.app.inject({ method: 'POST', url: '/api/v1/nics', headers: { 'content-type': 'text/plain' }, payload: 'name=extra' });
      assertProblem(text, 415);
      assertProblem(await t.app.inject({ method: 'PUT', url: nicUrl, headers: { 'content-type': 'application/xml' }, payload: '<nic/>' }), 415);
      assertProblem(await t.request('GET', '/api/v1/nope'), 404, undefined, 'no route GET /api/v1/nope');
      const huge = { ...nic, device: 'x'.repeat(17 * 1024 * 1024) };
      assertProblem(await t.request('POST', '/api/v1/nics', huge), 413);
      assert.equal(t.store.count('nics'), 0);
    } finally {
      await t.close();
    }
  });

  test('a name of the longest allowed length is reachable by its path; what the router refuses is a problem', async () => {
    const t = await testApp();
    try {
      const longest = 'n'.repeat(128);
      assert.equal((await t.request('POST', '/api/v1/health-checks', { name: longest, type: 'tcp' })).statusCode, 201);
      assert.equal((await t.request('GET', `/api/v1/health-checks/${longest}`)).statusCode, 200);
      assertProblem(await t.request('GET', `/api/v1/health-checks/${longest}n`), 414, undefined, 'max param length');
      assertProblem(await t.request('GET', '/api/v1/health-checks/%E0%A4%A'), 400, undefined, 'not a valid url component');
    } finally {
      await t.close();
    }
  });

  test('a bearer token guards everything but the probes and the docs', async () => {
    const t = await testApp({ token: 'sesame' });
    try {
      const none = assertProblem(await t.request('GET', '/api/v1/nics'), 401, undefined, 'Bearer');
      assert.equal(none.title, 'Unauthorized');
      const wrong = await t.request('GET', '/api/v1/nics', undefined, { authorization: 'Bearer nope' });
      assertProblem(wrong, 401, undefined, 'wrong');
      assert.match(String(wrong.headers['www-authenticate']), /^Bearer/);
      assertProblem(await t.request('POST', '/api/v1/nics', nic), 401);
      assertProblem(await t.request('GET', '/metrics'), 401);
      assert.equal(t.store.count('nics'), 0);
      const auth = { authorization: 'Bearer sesame' };
      assert.equal((await t.request('GET', '/api/v1/nics', undefined, auth)).statusCode, 200);
      assert.equal((await t.request('POST', '/api/v1/nics', nic, auth)).statusCode, 201);
      for (const url of ['/healthz', '/readyz', '/docs/', '/openapi.json', '/openapi.yaml']) {
        assert.equal((await t.request('GET', url)).statusCode, 200, url);
      }
    } finally {
      await t.close();
    }
  });

  test('/metrics exposes request durations, object counts and the generation after writes', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const generation = t.store.generation();
      assert.equal(generation, 7);
      const response = await t.request('GET', '/metrics');
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/plain/);
      const text = response.body;
      assert.match(text, /l4lb_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/nics",status_code="201"\} 2/);
      assert.match(text, /l4lb_config_objects\{kind="nics"\} 2/);
      assert.match(text, /l4lb_config_objects\{kind="real-servers"\} 2/);
      assert.match(text, /l4lb_config_objects\{kind="routes"\} 0/);
      assert.match(text, new RegExp(`^l4lb_config_generation ${generation}$`, 'm'));
      assert.match(text, new RegExp(`^l4lb_config_applied_generation ${generation}$`, 'm'));
      await t.request('DELETE', '/api/v1/virtual-services/web/real-servers/rs1');
      assert.match((await t.request('GET', '/metrics')).body, new RegExp(`^l4lb_config_generation ${generation + 1}$`, 'm'));
    } finally {
      await t.close();
    }
  });
});
