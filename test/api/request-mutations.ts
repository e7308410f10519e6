// Ways to spoil a valid request, each a fast-check arbitrary of a function from request to
// request: wrong types, missing and unknown fields, out-of-range numbers, huge strings, bodies
// that are not JSON or not objects, wrong content types, bad If-Match values, hostile path
// parameters, bad query parameters and wrong credentials. Most must be refused (with a problem); none may fail the server.

import fc from 'fast-check';
import { isObject, type ApiRequest } from './openapi-arbitraries.js';

type Mutation = (request: ApiRequest) => ApiRequest;

/** The request with one body field changed by `change` (the index picks which); bodies without fields get it as a new one. */
function onField(change: (body: Record<string, unknown>, key: string) => void): fc.Arbitrary<Mutation> {
  return fc.nat().map((index) => (request) => {
    const body = isObject(request.body) ? structuredClone(request.body) : {};
    const keys = Object.keys(body);
    change(body, keys.length > 0 ? keys[index % keys.length]! : 'name');
    return { ...request, body, headers: { 'content-type': 'application/json', ...request.headers } };
  });
}

const otherTypes = fc.constantFrom<unknown>(123, -1.5, 'text', true, null, [], {}, ['a'], { nested: { deep: [1] } });
const badNumbers = fc.constantFrom(0, -1, 65536, 2 ** 31, 2 ** 53 + 1, 1.5, 1e308, -1e308);
const hugeString = fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n));
const oddKeys = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'status ', ''));

const bodyMutations: fc.Arbitrary<Mutation>[] = [
  otherTypes.chain((value) => onField((body, key) => (body[key] = value))),
  onField((body, key) => delete body[key]),
  fc.tuple(oddKeys, otherTypes).chain(([extra, value]) => onField((body) => (body[extra] = value))),
  badNumbers.chain((n) => onField((body, key) => (body[key] = n))),
  hugeString.chain((s) => onField((body, key) => (body[key] = s))),
  fc.string({ unit: 'binary', maxLength: 40 }).chain((s) => onField((body, key) => (body[key] = s))),
  // A body that is valid JSON but not an object.
  fc.constantFrom<unknown>([], [1, 2], 'text', 42, null, true).map((body) => (r: ApiRequest) => ({ ...r, body, headers: { 'content-type': 'application/json', ...r.headers } })),
  // Broken JSON: a truncated body, stray bytes, a body over the 16 MiB limit.
  fc.oneof(
    fc.nat({ max: 40 }).map((n) => (r: ApiRequest) => JSON.stringify(r.body ?? { a: 1 }).slice(0, n)),
    fc.constantFrom('{', '{"a":1,}', "{'a':1}", 'nul', '\u0000', '{"a":1}{"b":2}', '[', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}').map((t) => () => t),
    fc.constant(() => `{"name":"${'y'.repeat(17 * 1024 * 1024)}"}`),
  ).map((payloadOf) => (r: ApiRequest) => ({ ...r, payload: payloadOf(r), headers: { 'content-type': 'application/json', ...r.headers } })),
  // Content types the API does not take, or none at all with a body.
  fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/jsonx', '').map(
    (type) => (r: ApiRequest) => ({ ...r, body: r.body ?? {}, headers: { ...r.headers, 'content-type': type } }),
  ),
  // A required body left out.
  fc.boolean().map((keepType) => (r: ApiRequest) => {
    const { body: _body, payload: _payload, ...rest } = r;
    const headers = { ...r.headers };
    if (!keepType) delete headers['content-type'];
    return { ...rest, headers };
  }),
  // A resourceVersion that rarely matches: a precondition in the body.
  fc.oneof(fc.nat({ max: 60 }), otherTypes).chain((v) => onField((body) => (body.resourceVersion = v))),
];

const badIfMatch = fc
  .oneof(fc.stringMatching(/^[\x20-\x7e]{0,80}$/), fc.constantFrom('"abc"', 'W/', '""', '*,*', '"1"'.repeat(30), ' '))
  .map((value) => (r: ApiRequest) => ({ ...r, headers: { ...r.headers, 'if-match': value } }));

// Names the pattern refuses, traversal attempts, encodings that decode to separators or NULs,
// malformed escapes. Not `.` or `..` (nor %2E): URL parsing, inject's included, removes them.
const hostileSegments = fc.oneof(
  fc.constantFrom('...', '.%2E.', '%2F', 'a%2Fb', '..%2F..%2Fetc%2Fpasswd', '%00', 'a%00b', '%E0%A4%A', '%ZZ', '%', 'a%20b', '%C3%A9', '%E5%90%8D%E5%89%8D', '%F0%9F%92%A9', '%0A', '%7F', 'x'.repeat(129), 'x'.repeat(5000)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, ''))).filter((s) => s !== ''),
);

/**
 * Replaces one path segment that holds a parameter with a hostile one; a collection gets one
 * more segment. (The probes and /metrics, outside /api, are left alone: a changed path is no
 * longer their operation.)
 */
const badPathParam = fc.tuple(hostileSegments, fc.nat()).map(([segment, index]) => (r: ApiRequest) => {
  const [path, search] = r.url.split('?');
  if (!path!.startsWith('/api/')) return r;
  const parts = path!.split('/');
  const params = parts.map((_, i) => i).filter((i) => i > 3 && i % 2 === 0);
  parts[params.length > 0 ? params[index % params.length]! : parts.length] = segment;
  return { ...r, url: parts.join('/') + (search ? `?${search}` : '') };
});

const badQuery = fc
  .oneof(
    fc.constantFrom('0', '-1', 'abc', '10001', '1.5', '', '1e3', '0x10', ' 5', '99999999999999999999').map((v) => `limit=${v}`),
    fc.constantFrom('%ZZ', '====', 'not-base64!', 'x'.repeat(600), 'AAAA', 'Li4', 'LS0tLQ').map((v) => `cursor=${v}`),
    fc.constant('limit=1&limit=2'),
    fc.constant('cursor=a&cursor=b'),
    fc.constantFrom('virtualService=..', 'protocol=icmp', 'clientAddress=1.2.3', 'realServer=%00'),
  )
  .map((query) => (r: ApiRequest) => ({ ...r, url: `${r.url.split('?')[0]}?${query}` }));

// Credentials that are not the test's token (which the test adds unless the request has its own).
const badAuthorization = fc
  .oneof(fc.constantFrom('', 'Bearer', 'Bearer ', 'Bearer wrong', 'Basic dXNlcjpwYXNz', 'Bearer a b', `Bearer ${'t'.repeat(10_000)}`), fc.stringMatching(/^[\x20-\x7e]{0,60}$/))
  .map((value) => (r: ApiRequest) => ({ ...r, headers: { ...r.headers, authorization: value } }));

/** A request with one mutation applied. */
export function mutatedRequest(valid: fc.Arbitrary<ApiRequest>): fc.Arbitrary<ApiRequest> {
  const mutation = fc.oneof(...bodyMutations, badIfMatch, badPathParam, badQuery, badAuthorization);
  return fc.tuple(valid, mutation).map(([request, mutate]) => mutate(request));
}
