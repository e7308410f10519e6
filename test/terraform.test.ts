// Replays what Terraform's generic REST provider does with a resource: POST to create, read
// the id from the answer, GET, PUT the object as it was read back (status and
// resourceVersion included), DELETE with `Content-Type: application/json` and no body, and
// a final GET that must say the object is gone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json, seed, testApp } from './helpers.js';

const cases = [
  {
    collection: '/api/v1/virtual-services',
    data: { address: '10.0.1.30', port: 443, protocol: 'tcp', nic: 'client', localAddressPool: 'lips' },
    change: { scheduler: 'mh' },
  },
  {
    collection: '/api/v1/virtual-services/web/real-servers',
    data: { address: '10.0.2.50', port: 8080 },
    change: { weight: 7 },
  },
  {
    collection: '/api/v1/health-checks',
    data: { name: 'tf-check', type: 'tcp' },
    change: { rise: 5 },
  },
];

for (const { collection, data, change } of cases) {
  test(`Terraform REST provider lifecycle on ${collection}`, async () => {
    const t = await testApp();
    try {
      await seed(t);
      const created = await t.request('POST', collection, data);
      assert.equal(created.statusCode, 201, created.body);
      const id = json(created).name as string;
      const url = `${collection}/${id}`;
      assert.equal(created.headers.location, url);

      const read = await t.request('GET', url);
      assert.equal(read.statusCode, 200);
      assert.equal(read.headers.etag, `"${json(read).resourceVersion}"`);

      const updated = await t.request('PUT', url, { ...json(read), ...change });
      assert.equal(updated.statusCode, 200, updated.body);
      const reread = json(await t.request('GET', url));
      for (const [key, value] of Object.entries(change)) assert.equal(reread[key], value);
      assert.ok(reread.resourceVersion > json(read).resourceVersion);

      const deleted = await t.app.inject({ method: 'DELETE', url, headers: { 'content-type': 'application/json' }, payload: '' });
      assert.equal(deleted.statusCode, 204, deleted.body);
      const gone = await t.request('GET', url);
      assert.equal(gone.statusCode, 404);
      assert.equal(gone.headers['content-type'], 'application/problem+json; charset=utf-8');
    } finally {
      await t.close();
    }
  });
}

test('a PUT of a stale read-back object is refused with 412, not silently applied', async () => {
  const t = await testApp();
  try {
    await seed(t);
    const url = '/api/v1/virtual-services/web/real-servers/rs1';
    const stale = json(await t.request('GET', url));
    assert.equal((await t.request('PATCH', url, { weight: 9 })).statusCode, 200);
    const put = await t.request('PUT', url, { ...stale, weight: 3 });
    assert.equal(put.statusCode, 412, put.body);
    assert.equal(json(await t.request('GET', url)).weight, 9);
  } finally {
    await t.close();
  }
});
