import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seed, testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

describe('sessions', () => {
  test('with the engine off, listing and flushing are 503 problems that say why', async () => {
    const t = await testApp();
    try {
      await seed(t);
      for (const [method, url] of [
        ['GET', '/api/v1/sessions'],
        ['GET', '/api/v1/sessions?virtualService=web&protocol=tcp&limit=10'],
        ['DELETE', '/api/v1/sessions'],
        ['DELETE', '/api/v1/sessions?virtualService=web'],
      ]) {
        const body = assertProblem(await t.request(method, url), 503, undefined, 'engine is off');
        assert.equal(body.type, 'urn:l4lb:problem:engine-unavailable', `${method} ${url}`);
      }
    } finally {
      await t.close();
    }
  });

  test('bad filters are 400 naming the query parameter', async () => {
    const t = await testApp();
    try {
      assertProblem(await t.request('GET', '/api/v1/sessions?protocol=icmp'), 400, '/query/protocol');
      assertProblem(await t.request('GET', '/api/v1/sessions?clientAddress=1.2.3'), 400, '/query/clientAddress');
      assertProblem(await t.request('GET', '/api/v1/sessions?limit=0'), 400, '/query/limit');
      assertProblem(await t.request('GET', '/api/v1/sessions?cursor=bm90LWEtbnVtYmVy'), 400, '/query/cursor');
    } finally {
      await t.close();
    }
  });
});
