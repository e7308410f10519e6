// Requests Fastify refuses before a handler runs (a body that is not JSON, a media type the
// API does not take, a body over the limit) leave as l4lb problems: a type of l4lb's own,
// never Fastify's internal error code, and a malformed body named as the field at fault.
// Found by the property test (property.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

test('a body that is not JSON is a validation problem naming /body, prototype keys included', async () => {
  const t = await testApp();
  try {
    for (const payload of ['{', '{"name":"a",}', '{"__proto__":{"x":1}}']) {
      const response = await t.app.inject({ method: 'POST', url: '/api/v1/nics', headers: { 'content-type': 'application/json' }, payload });
      assert.equal(assertProblem(response, 400, '/body').type, 'urn:l4lb:problem:validation');
    }
  } finally {
    await t.close();
  }
});

test('other refusals of the framework take the type of their status', async () => {
  const t = await testApp();
  try {
    const xml = await t.app.inject({ method: 'POST', url: '/api/v1/nics', headers: { 'content-type': 'application/xml' }, payload: '<nic/>' });
    assert.equal(assertProblem(xml, 415).type, 'urn:l4lb:problem:unsupported-media-type');
    const huge = await t.request('POST', '/api/v1/nics', { name: 'x'.repeat(17 * 1024 * 1024) });
    assert.equal(assertProblem(huge, 413).type, 'urn:l4lb:problem:content-too-large');
  } finally {
    await t.close();
  }
});
