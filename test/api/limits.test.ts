// A real server's maxConnections and a virtual service's clientRateLimit through the API:
// accepted, returned and removed; out-of-range or malformed values a 400 naming the field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json, withSeededApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const within = withSeededApp;

const service = '/api/v1/virtual-services/web';
const server = `${service}/real-servers/rs1`;

test('maxConnections is accepted, returned and removed', () =>
  within(async (t) => {
    const created = await t.request('PUT', `${service}/real-servers/rs3`, { address: '10.0.2.13', maxConnections: 3 });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(json(created).maxConnections, 3);
    const patched = await t.request('PATCH', server, { maxConnections: 1_000_000 });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(json(await t.request('GET', server)).maxConnections, 1_000_000);
    const removed = await t.request('PATCH', server, { maxConnections: null });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.equal(json(await t.request('GET', server)).maxConnections, undefined);
  }));

test('a bad maxConnections is a 400 naming it', () =>
  within(async (t) => {
    for (const bad of [0, -1, 1.5, 1_000_001, '3'])
      assertProblem(await t.request('PATCH', server, { maxConnections: bad }), 400, '/body/maxConnections');
    assert.equal(json(await t.request('GET', server)).maxConnections, undefined);
  }));

test('clientRateLimit is accepted, returned and removed', () =>
  within(async (t) => {
    const patched = await t.request('PATCH', service, { clientRateLimit: { connectionsPerSecond: 2, burst: 4 } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual(json(await t.request('GET', service)).clientRateLimit, { connectionsPerSecond: 2, burst: 4 });
    const removed = await t.request('PATCH', service, { clientRateLimit: null });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.equal(json(await t.request('GET', service)).clientRateLimit, undefined);
  }));

test('a bad clientRateLimit is a 400 naming the field', () =>
  within(async (t) => {
    const patch = (clientRateLimit: unknown) => t.request('PATCH', service, { clientRateLimit });
    assertProblem(await patch({ connectionsPerSecond: 0, burst: 4 }), 400, '/body/clientRateLimit/connectionsPerSecond');
    assertProblem(await patch({ connectionsPerSecond: 2, burst: 2.5 }), 400, '/body/clientRateLimit/burst');
    assertProblem(await patch({ connectionsPerSecond: 2, burst: 1_000_001 }), 400, '/body/clientRateLimit/burst');
    assertProblem(await patch({ connectionsPerSecond: 2 }), 400, '/body/clientRateLimit/burst');
    assertProblem(await patch({ connectionsPerSecond: 2, burst: 4, per: 'client' }), 400, '/body/clientRateLimit/per');
    assertProblem(await patch(5), 400, '/body/clientRateLimit');
    assert.equal(json(await t.request('GET', service)).clientRateLimit, undefined);
  }));
