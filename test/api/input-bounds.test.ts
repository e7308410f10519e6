// Every input the API accepts is bounded by its contract: each string a request can carry
// has a length limit (maxLength, an enum, a format of fixed size, or a pattern that cannot
// repeat without bound), each array a maxItems, each object no unlisted properties; the body
// as a whole is capped at 16 MiB (app.ts) and list pages at 10000 items.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openapiDocument, resolveComponent } from '../../api/openapi.js';
import { testApp } from '../helpers.js';

type Schema = Record<string, any>;

const boundedFormats = new Set(['ipv4', 'ipv6', 'date-time']);
// A pattern is bounded when it is anchored and every repetition in it has an upper bound.
const boundedPattern = (p: string) => p.startsWith('^') && p.endsWith('$') && !/[*+]|\{\d+,\}/.test(p);

/** Paths (JSON-pointer-like) of the unbounded parts of `schema`. */
function unbounded(schema: Schema, at: string, seen = new Set<Schema>()): string[] {
  const s = resolveComponent(schema) as Schema;
  if (seen.has(s)) return [];
  seen.add(s);
  const nested = [...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.anyOf ?? [])].flatMap((sub: Schema) => unbounded(sub, at, seen));
  if (s.readOnly) return nested;
  switch (s.type) {
    case 'string':
      return s.maxLength !== undefined || s.enum || s.const !== undefined || boundedFormats.has(s.format) || (s.pattern && boundedPattern(s.pattern)) ? nested : [...nested, `${at} (string)`];
    case 'array':
      return [...nested, ...(s.maxItems === undefined ? [`${at} (array)`] : []), ...unbounded(s.items ?? {}, `${at}/items`, seen)];
    case 'object': {
      const open = s.additionalProperties !== false && !(s.allOf || s.oneOf) ? [`${at} (open object)`] : [];
      // `status` is the server's: accepted back as read, never stored (api/resource.ts).
      const properties = Object.entries(s.properties ?? {}).filter(([name]) => name !== 'status').flatMap(([name, p]) => unbounded(p as Schema, `${at}/${name}`, seen));
      return [...nested, ...open, ...properties];
    }
    default:
      return nested;
  }
}

// A merge patch is any object until merged; the merged object is then checked against the
// object's own schema (the PUT body, walked here), so its bounds are what count.
const mergePatch = '#/components/schemas/MergePatch';
const methods = ['put', 'post', 'patch'];
const requestBodies = Object.entries(openapiDocument.paths as Record<string, Schema>).flatMap(([path, item]) =>
  methods.filter((m) => item[m]?.requestBody).flatMap((m) =>
    Object.entries(resolveComponent(item[m].requestBody as Schema).content as Record<string, Schema>)
      .filter(([, c]) => c.schema.$ref !== mergePatch)
      .map(([type, c]) => ({ where: `${m.toUpperCase()} ${path} ${type}`, schema: c.schema as Schema })),
  ),
);

test('every string, array and object in every request body has a bound', () => {
  assert.ok(requestBodies.length >= 13, `found ${requestBodies.length} request bodies`);
  const found = requestBodies.flatMap(({ where, schema }) => unbounded(schema, where));
  assert.deepEqual(found, []);
});

test('a body over 16 MiB is refused with a 413 problem, before it is parsed', async () => {
  const t = await testApp();
  try {
    const response = await t.request('POST', '/api/v1/nics', { name: 'big', device: 'net_af_packet0,iface=dp0', networks: ['10.0.0.0/24'], padding: 'x'.repeat(16 * 1024 * 1024) });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().status, 413);
  } finally {
    await t.close();
  }
});

test('a list page is at most 10000 items', async () => {
  const t = await testApp();
  try {
    const response = await t.request('GET', '/api/v1/nics?limit=10001');
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().errors[0].field, '/query/limit');
  } finally {
    await t.close();
  }
});
