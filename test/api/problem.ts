// Assertions shared by the API tests: a response is an RFC 9457 problem with the expected
// status, naming the expected field, and saying the expected facts.

import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

export function assertProblem(
  response: LightMyRequestResponse,
  status: number,
  field?: string,
  ...facts: string[]
): ProblemBody {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const body = response.json() as ProblemBody;
  assert.equal(body.status, status);
  assert.ok(body.type.startsWith('urn:l4lb:problem:'), body.type);
  if (field !== undefined) {
    const fields = (body.errors ?? []).map((e) => e.field);
    assert.ok(fields.includes(field), `expected ${field} among ${JSON.stringify(fields)}`);
  }
  for (const fact of facts) assert.ok(body.detail.includes(fact), `expected "${fact}" in "${body.detail}"`);
  return body;
}
