import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const url = '/api/v1/sync';
const settings = { enabled: true, redisUrl: 'redis://10.0.0.5:6379/0', redisPassword: 's3cret' };

describe('sync', () => {
  test('reads as its defaults before the first write', async () => {
    const t = await testApp();
    try {
      const response = await t.request('GET', url);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers.etag, '"0"');
      const body = json(response);
      assert.equal(body.enabled, false);
      assert.equal(body.role, 'active');
      assert.deepEqual(body.replay, { enabled: true, streamMaxLength: 100000 });
      assert.match(body.nodeId, /^[A-Za-z0-9._~-]{1,128}$/);
      assert.equal(body.resourceVersion, 0);
      assert.equal(body.name, undefined);
      assert.equal(body.status.redisPasswordSet, false);
      assert.equal(body.status.state, 'disabled');
      assert.equal(body.status.createdAt, undefined);
    } finally {
      await t.close();
    }
  });

  test('PUT and PATCH; the password is never shown, kept when omitted, removed by null', async () => {
    const t = await testApp();
    try {
      const defaults = json(await t.request('GET', url));
      const put = await t.request('PUT', url, settings);
      assert.equal(put.statusCode, 200);
      assert.ok(!put.body.includes('s3cret'));
      const written = json(put);
      assert.equal(written.redisPassword, undefined);
      assert.equal(written.status.redisPasswordSet, true);
      assert.equal(written.status.state, 'not-running');
      assert.equal(written.nodeId, defaults.nodeId);
      assert.equal(put.headers.etag, `"${written.resourceVersion}"`);

      const read = await t.request('GET', url);
      assert.ok(!read.body.includes('s3cret'));
      assert.equal(json(read).status.redisPasswordSet, true);

      // The object as read back, PUT as is (Terraform does this), keeps the password.
      const again = await t.request('PUT', url, { ...json(read), role: 'backup' });
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(json(again).role, 'backup');
      assert.equal(json(again).status.redisPasswordSet, true);

      const patched = await t.request('PATCH', url, { redisPassword: null, nodeId: 'lb1' }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(patched.statusCode, 200);
      assert.equal(json(patched).status.redisPasswordSet, false);
      assert.equal(json(patched).nodeId, 'lb1');
      assert.equal(json(patched).redisUrl, settings.redisUrl);

      const unix = await t.request('PATCH', url, { redisUrl: 'unix:///run/redis.sock', nodeId: null });
      assert.equal(unix.statusCode, 200);
      assert.equal(json(unix).nodeId, defaults.nodeId);

      const sentinels = 'redis+sentinel://10.0.0.5:26379,10.0.0.6:26379,10.0.0.7/l4lb';
      const sentinel = await t.request('PATCH', url, { redisUrl: sentinels, role: 'multi-active' });
      assert.equal(sentinel.statusCode, 200);
      assert.equal(json(sentinel).redisUrl, sentinels);
      assert.equal(json(sentinel).role, 'multi-active');
      assertProblem(await t.request('PATCH', url, { redisUrl: 'redis+sentinel://10.0.0.5:26379/bad!name' }), 422, '/body/redisUrl', 'master name');
    } finally {
      await t.close();
    }
  });

  test('errors: enabled without redisUrl, credentials in the URL, bad values, stale versions', async () => {
    const t = await testApp();
    try {
      assertProblem(await t.request('PUT', url, { enabled: true }), 422, '/body/redisUrl', 'required when sync is enabled');
      assertProblem(await t.request('PATCH', url, { enabled: true }), 422, '/body/redisUrl');
      assertProblem(await t.request('PUT', url, { redisUrl: 'redis://user:pw@10.0.0.5:6379' }), 400, '/body/redisUrl');
      assertProblem(await t.request('PUT', url, { redisUrl: 'http://10.0.0.5' }), 400, '/body/redisUrl');
      assertProblem(await t.request('PUT', url, { redisUrl: 'redis://10.0.0.5:0' }), 422, '/body/redisUrl', 'port 0');
      assertProblem(await t.request('PUT', url, { redisUrl: 'redis://10.0.0.5:6379/16' }), 422, '/body/redisUrl', 'databases 0 to 15');
      assertProblem(await t.request('PUT', url, { role: 'primary' }), 400, '/body/role', 'active, backup');
      assertProblem(await t.request('PUT', url, { replay: { streamMaxLength: 10 } }), 400, '/body/replay/streamMaxLength');
      assertProblem(await t.request('PUT', url, { nodeId: 'a b' }), 400, '/body/nodeId');
      assertProblem(await t.request('PUT', url, { peers: [] }), 400, '/body/peers', 'is not a known field');
      assertProblem(await t.request('PUT', url, { enabled: false }, { 'if-match': '"7"' }), 412);
      assertProblem(await t.request('PATCH', url, { resourceVersion: 3 }), 412, '/body/resourceVersion');
      assert.equal(json(await t.request('GET', url)).resourceVersion, 0);
      assert.equal((await t.request('PUT', url, { enabled: false }, { 'if-match': '"0"' })).statusCode, 200);
      assert.equal((await t.request('PUT', url, { redisUrl: 'redis://10.0.0.5:6379/15' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });
});
