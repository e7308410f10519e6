// Property-based test of the whole API (issue 9): sequences of requests generated from
// openapi.yaml, valid ones and spoiled ones mixed, against one app (engine off, in-memory
// store, a bearer token required) whose configuration is cleared, and three times in four
// seeded, before each sequence.
// For every response: no 5xx (but the 503 of the session operations without an engine),
// every 4xx a problem document (validation problems naming their fields), every response as
// the contract declares it, and the generation moves by one exactly on each acknowledged
// write. After every sequence: the stored configuration is consistent (config-invariants.ts),
// and nothing was rejected or thrown unhandled.
//
// FC_RUNS sets the number of sequences; each run draws a new seed and prints it, and FC_SEED
// replays one. A failure prints both, with the shrunk sequence and the `path` to pass as
// FC_PATH to replay it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { assertDeclared, operationById, operations } from '../contract-responses.js';
import { seed as seedFixture, testApp, type TestApp } from '../helpers.js';
import { assertConfigConsistent } from './config-invariants.js';
import { validRequest, type ApiRequest } from './openapi-arbitraries.js';
import { mutatedRequest } from './request-mutations.js';

const numRuns = Number(process.env.FC_RUNS ?? 2000);
const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const path = process.env.FC_PATH;

const publicOperations = new Set(['getHealthz', 'getReadyz']);
const sessionOperations = new Set(['listSessions', 'flushSessions']);
const writeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Writes twice as often as reads; valid requests a little more often than spoiled ones.
const anyRequest = fc.oneof(
  ...operations.map((op) => {
    const valid = validRequest(op);
    const arbitrary = fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: mutatedRequest(valid) });
    return { weight: op.method === 'get' ? 1 : 2, arbitrary };
  }),
);

/** The app requires a bearer token, as an exposed appliance would: requests carry it unless spoiled. */
const token = 'property-test-token';

function send(t: TestApp, r: ApiRequest): Promise<LightMyRequestResponse> {
  const payload = r.payload ?? (r.body === undefined ? undefined : JSON.stringify(r.body));
  const headers = { authorization: `Bearer ${token}`, ...r.headers };
  return t.app.inject({ method: r.method as 'GET', url: r.url, headers, ...(payload === undefined ? {} : { payload }) });
}

function describe(r: ApiRequest, response: LightMyRequestResponse): string {
  const sent = r.payload ?? (r.body === undefined ? '' : JSON.stringify(r.body));
  return `${r.operationId}: ${r.method} ${r.url.slice(0, 200)} ${JSON.stringify(r.headers)} ${sent.slice(0, 300)} → ${response.statusCode} ${response.body.slice(0, 500)}`;
}

function checkResponse(r: ApiRequest, response: LightMyRequestResponse): void {
  const where = describe(r, response);
  const status = response.statusCode;
  const engineOff = status === 503 && sessionOperations.has(r.operationId);
  assert.ok(status < 500 || engineOff, `a server error: ${where}`);
  if (r.headers.authorization !== undefined && !publicOperations.has(r.operationId)) assert.equal(status, 401, `wrong credentials let through: ${where}`);
  if (status >= 400) {
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/, where);
    const problem = response.json() as { type: string; title: string; status: number; detail: string; errors?: { field: string }[] };
    assert.equal(problem.status, status, where);
    assert.match(problem.type, /^urn:l4lb:problem:[a-z]+(-[a-z]+)*$/, `a problem type of the framework's, not l4lb's: ${where}`);
    assert.ok(problem.title && problem.detail, `a problem without title or detail: ${where}`);
    if (problem.type === 'urn:l4lb:problem:validation') {
      assert.ok(problem.errors && problem.errors.length > 0, `a validation problem naming no field: ${where}`);
      for (const e of problem.errors) assert.match(e.field, /^\/(body|query|params|headers)(\/|$)/, where);
    }
  }
  assertDeclared(operationById.get(r.operationId)!.operation, response, where);
}

/** Deletes every object through the API (services first, taking their real servers), and the sync and BGP settings back to defaults. */
async function clear(t: TestApp): Promise<void> {
  // BGP first: its neighbors hold on to their NICs.
  assert.equal((await t.request('PUT', '/api/v1/bgp', {})).statusCode, 200);
  for (const collection of ['virtual-services', 'routes', 'local-address-pools', 'health-checks', 'nics']) {
    const page = (await t.request('GET', `/api/v1/${collection}`)).json() as { items: { name: string }[] };
    for (const { name } of page.items) {
      const response = await t.request('DELETE', `/api/v1/${collection}/${encodeURIComponent(name)}`);
      assert.equal(response.statusCode, 204, `clearing ${collection}/${name}: ${response.body}`);
    }
  }
  assert.equal((await t.request('PUT', '/api/v1/sync', {})).statusCode, 200);
}

test('generated and mutated requests from openapi.yaml: no 5xx, problems for 4xx, the contract kept, the configuration consistent', { timeout: 20 * 60_000 }, async (ctx) => {
  const app = await testApp({ token });
  // The fixture, clearing and the final checks speak with the token too.
  const t: TestApp = { ...app, request: (method, url, body, headers = {}) => app.request(method, url, body, { authorization: `Bearer ${token}`, ...headers }) };
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  const started = performance.now();
  const statuses = new Map<number, number>();
  try {
    const property = fc.asyncProperty(fc.constantFrom(true, true, true, false), fc.array(anyRequest, { minLength: 1, maxLength: 40, size: "medium" }), async (seeded, sequence) => {
      await clear(t);
      if (seeded) await seedFixture(t);
      let generation = t.store.generation();
      for (const r of sequence) {
        const response = await send(t, r);
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        checkResponse(r, response);
        const acknowledged = response.statusCode >= 200 && response.statusCode < 300;
        const wrote = acknowledged && writeMethods.has(r.method) && !sessionOperations.has(r.operationId);
        if (wrote) generation++;
        assert.equal(t.store.generation(), generation, `the generation did not move by exactly one per acknowledged write: ${describe(r, response)}`);
        if (wrote && response.statusCode !== 204) {
          assert.equal(response.json().resourceVersion, generation, `a write answered with another version than its generation: ${describe(r, response)}`);
          assert.equal(response.headers.etag, `"${generation}"`, describe(r, response));
        }
      }
      // Rejections surface a turn later: give them one before looking.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, [], 'an unhandled rejection or exception');
      await assertConfigConsistent(t);
    });
    await fc.assert(property, { numRuns, seed, includeErrorInReport: true, ...(path ? { path } : {}) });
  } finally {
    process.off('unhandledRejection', record);
    process.off('uncaughtException', record);
    await t.close();
  }
  const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`).join(', ');
  ctx.diagnostic(`${numRuns} sequences, FC_SEED=${seed}, ${((performance.now() - started) / 1000).toFixed(1)} s; responses by status: ${byStatus}`);
});
