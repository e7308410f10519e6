// fast-check arbitraries read from openapi.yaml: a value for any schema of the document
// (types, enums, formats, patterns, bounds, required and read-only properties), and a valid
// request for every operation (path parameters, query, If-Match, body). Names, addresses and
// prefixes come mostly from small shared pools so that requests meet: a service names a NIC
// that a previous request created, a GET finds what a PUT wrote.

import fc from 'fast-check';
import { openapiDocument, resolveComponent } from '../../api/openapi.js';
import type { Operation } from '../contract-responses.js';

type Schema = Record<string, any>;

/** One HTTP request, kept apart from its encoding so that mutations can reach into the body. */
export interface ApiRequest {
  operationId: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Sent as JSON unless `payload` is set. */
  body?: unknown;
  /** The raw bytes to send instead of `body` (broken JSON, oversized bodies). */
  payload?: string;
}

// Names per collection, the fixture's among them.
const namePools: Record<string, string[]> = {
  nics: ['client', 'server', 'extra'],
  routes: ['far', 'near'],
  'local-address-pools': ['lips', 'p2'],
  'health-checks': ['web', 'dns'],
  'virtual-services': ['web', 'db'],
  'real-servers': ['rs1', 'rs2', 'rs3'],
};
const allNames = [...new Set(Object.values(namePools).flat())];
// Addresses in the fixture's networks (and one route's), VIPs, local addresses and a stranger;
// the IPv6 ones in networks the requests may add, some in a non-canonical spelling or mapped.
const ipv4Addresses = ['10.0.1.10', '10.0.1.20', '10.0.1.1', '10.0.2.1', '10.0.2.11', '10.0.2.12', '10.0.2.100', '10.0.2.101', '10.9.0.5', '10.50.0.1', '192.0.2.7'];
const ipv6Addresses = ['2001:db8:1::10', '2001:db8:2::1', '2001:db8:2::11', '2001:DB8:2:0::12', '2001:db8:2::100', '::ffff:10.0.2.11'];
const ipv4Prefixes = ['10.0.1.0/24', '10.0.2.0/24', '10.9.0.0/16', '10.0.1.2/24', '10.0.2.2/24', '10.50.0.0/16', '10.0.2.0/23', '0.0.0.0/0'];
const ipv6Prefixes = ['2001:db8:1::/64', '2001:db8:2::/64', '2001:db8:2::2/64', '2001:DB8:9::/48', '::/0'];
const ipv4Cidr = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, n]) => `${a}/${n}`);
const ipv6Cidr = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, n]) => `${a}/${n}`);
const devices = ['net_af_packet7,iface=dp7', 'net_af_packet8,iface=dp8', 'net_af_packet0,iface=c0', 'net_af_packet1,iface=s0', '0000:03:00.0', 'net_pcap0,tx_pcap=/tmp/x.pcap', 'net_af_packet9,iface=dp9,qpairs=2'];

const pooled = <T>(pool: T[], any: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: any });

const anyName = fc.stringMatching(/^[A-Za-z0-9._~-]{1,128}$/).filter((n) => n !== '.' && n !== '..');
const nameIn = (collection: string): fc.Arbitrary<string> => pooled(namePools[collection] ?? allNames, anyName);

/** Components whose values should meet each other more often than chance allows. */
const byComponent: Record<string, fc.Arbitrary<unknown>> = {
  Name: pooled(allNames, anyName),
  IPAddress: pooled([...ipv4Addresses, ...ipv6Addresses], fc.oneof(fc.ipV4(), fc.ipV6())),
  IPv4: pooled(ipv4Addresses, fc.ipV4()),
  CIDR: pooled([...ipv4Prefixes, ...ipv6Prefixes], fc.oneof(ipv4Cidr, ipv6Cidr)),
  IPv4CIDR: pooled(ipv4Prefixes, ipv4Cidr),
  Port: pooled([80, 53, 443, 8080], fc.integer({ min: 1, max: 65535 })),
};

/** Fields whose values are best drawn from a pool: references by the collection they name. */
const byProperty: Record<string, fc.Arbitrary<unknown>> = {
  device: pooled(devices, fc.stringMatching(/^net_[a-z_]{1,12}[0-9]{0,3}$/)),
  nic: nameIn('nics'),
  localAddressPool: nameIn('local-address-pools'),
  healthCheck: nameIn('health-checks'),
  virtualService: nameIn('virtual-services'),
  realServer: nameIn('real-servers'),
};

export const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const componentName = (ref: string): string => ref.split('/').pop()!;

/** The schema itself with `$ref` and single-element `allOf` (used to attach a description) resolved. */
function resolved(schema: Schema): Schema {
  if (schema.$ref) return resolved(resolveComponent<Schema>(schema as { $ref: string }));
  if (schema.allOf?.length === 1) return { ...resolved(schema.allOf[0]), ...schema, allOf: undefined };
  return schema;
}

function isReadOnly(schema: Schema): boolean {
  return resolved(schema).readOnly === true;
}

function stringValue(schema: Schema): fc.Arbitrary<string> {
  const maxLength = schema.maxLength ?? 64;
  if (schema.format === 'ipv4') return byComponent.IPv4 as fc.Arbitrary<string>;
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= maxLength);
  return fc.string({ maxLength: Math.min(maxLength, 64) });
}

const absent = Symbol('absent');

/** Each optional field is left out two times in three: the more fields, the likelier one breaks a cross-object rule. */
function objectValue(schema: Schema, collection?: string): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set((schema.required ?? []) as string[]);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    if (isReadOnly(property)) continue;
    // A create names its object from the collection's pool, and only sometimes leaves the name to the server.
    const named = key === 'name' && collection !== undefined;
    const value = named ? nameIn(collection) : valueOf(property, key);
    const weights = named ? [1, 5] : [2, 1];
    model[key] = required.has(key) ? value : fc.oneof({ weight: weights[0]!, arbitrary: fc.constant(absent) }, { weight: weights[1]!, arbitrary: value });
  }
  return fc.record(model).map((record) => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== absent)));
}

/** A value valid against `schema` (as far as one schema can say: cross-object rules are the server's). */
export function valueOf(schema: Schema, property?: string, collection?: string): fc.Arbitrary<unknown> {
  if (property && byProperty[property]) return byProperty[property];
  if (schema.$ref && byComponent[componentName(schema.$ref)]) return byComponent[componentName(schema.$ref)];
  if (schema.allOf?.length === 1 && schema.allOf[0].$ref && byComponent[componentName(schema.allOf[0].$ref)]) {
    return byComponent[componentName(schema.allOf[0].$ref)];
  }
  const s = resolved(schema);
  if (s.enum) return fc.constantFrom(...(s.enum as unknown[]));
  switch (s.type) {
    case 'string':
      return stringValue(s);
    case 'integer':
      return fc.integer({ min: s.minimum ?? -(2 ** 31), max: s.maximum ?? 2 ** 31 });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const constraints = { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 4, 4) };
      return s.uniqueItems
        ? fc.uniqueArray(valueOf(s.items), { ...constraints, selector: (v) => JSON.stringify(v) })
        : fc.array(valueOf(s.items), constraints);
    }
    case 'object':
      return objectValue(s, collection);
    default:
      throw new Error(`openapi-arbitraries: no generator for ${JSON.stringify(s).slice(0, 200)}`);
  }
}

/** A merge patch for objects of `component`: some of its fields, each set to a valid value or (if optional) null, removing it. */
function mergePatchOf(component: Schema): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set((component.required ?? []) as string[]);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries((component.properties ?? {}) as Record<string, Schema>)) {
    if (key === 'name' || isReadOnly(property)) continue;
    const value = valueOf(property, key);
    model[key] = required.has(key) ? value : fc.oneof({ weight: 4, arbitrary: value }, fc.constant(null));
  }
  return fc.record(model, { requiredKeys: [] });
}

/** The component an operation's 200 answer carries (`Nic` for patchNic): what a merge patch must leave valid. */
function resourceComponent(operation: Schema): Schema {
  const response = resolveComponent<Schema>(operation.responses['200']);
  return resolved(response.content['application/json'].schema);
}

function parametersOf(op: Operation): Schema[] {
  const pathItem = openapiDocument.paths[op.path] as Schema;
  return [...(pathItem.parameters ?? []), ...(op.operation.parameters ?? [])].map((p: Schema) => resolveComponent<Schema>(p));
}

const cursorOf = (name: string): string => Buffer.from(name, 'utf8').toString('base64url');

/** Query values that page through what exists: small limits, cursors of pooled names. */
const queryValue: Record<string, fc.Arbitrary<unknown>> = {
  limit: fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: 10000 })),
  // Collections page by name, sessions by position.
  cursor: fc.constantFrom(...allNames, '0', '2').map(cursorOf),
};

const ifMatch = fc.oneof(fc.constant('*'), fc.nat({ max: 60 }).map((n) => `"${n}"`), fc.nat({ max: 60 }).map((n) => `W/"${n}", "${n + 1}"`));

/** The collection each `{parameter}` of a path names (the segment before it), and the last one. */
function collectionsOf(path: string): { params: string[]; last: string | undefined } {
  const segments = path.split('/');
  const params = segments.flatMap((segment, i) => (segment.startsWith('{') ? [segments[i - 1]!] : []));
  const last = segments.filter((segment) => segment !== '' && !segment.startsWith('{')).pop();
  return { params, last };
}

function bodyOf(op: Operation): { body: fc.Arbitrary<unknown>; contentType: fc.Arbitrary<string> } | undefined {
  const requestBody = op.operation.requestBody && resolveComponent<Schema>(op.operation.requestBody);
  if (!requestBody) return undefined;
  const contentTypes = Object.keys(requestBody.content);
  const schema = requestBody.content[contentTypes[0]].schema as Schema;
  const isPatch = schema.$ref && componentName(schema.$ref) === 'MergePatch';
  return {
    body: isPatch ? mergePatchOf(resourceComponent(op.operation)) : valueOf(schema, undefined, op.method === 'post' ? collectionsOf(op.path).last : undefined),
    contentType: fc.constantFrom(...contentTypes),
  };
}

/** A request to `op` that the schema accepts (the configuration may still refuse it). */
export function validRequest(op: Operation): fc.Arbitrary<ApiRequest> {
  const parameters = parametersOf(op);
  const query: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of parameters.filter((p) => p.in === 'query')) query[p.name] = queryValue[p.name] ?? valueOf(p.schema);
  const withIfMatch = parameters.some((p) => p.in === 'header' && p.name === 'If-Match');
  const body = bodyOf(op);
  return fc
    .record({
      path: fc.tuple(...collectionsOf(op.path).params.map(nameIn)),
      query: fc.record(query, { requiredKeys: [] }),
      ifMatch: withIfMatch ? fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, ifMatch) : fc.constant(null),
      body: body ? body.body : fc.constant(undefined),
      contentType: body ? body.contentType : fc.constant(undefined),
    })
    .map(({ path, query, ifMatch, body, contentType }) => {
      let i = 0;
      const pathPart = op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(path[i++]!));
      const search = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
      // A replaced object's body may carry its name back (as read); any other name is a rename.
      const sent = op.method === 'put' && isObject(body) && body.name !== undefined ? { ...body, name: path[path.length - 1] } : body;
      const headers: Record<string, string> = {};
      if (ifMatch !== null) headers['if-match'] = ifMatch;
      if (contentType) headers['content-type'] = contentType;
      return {
        operationId: op.operation.operationId as string,
        method: op.method.toUpperCase(),
        url: search ? `${pathPart}?${search}` : pathPart,
        headers,
        ...(sent === undefined ? {} : { body: sent }),
      };
    });
}
