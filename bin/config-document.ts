// The document `l4lb config export` writes and `l4lb config import` reads: the cluster-wide
// objects as the API shows them (name first, then the spec; no resourceVersion or status),
// real servers nested in their virtual service, every list sorted by name:
//   {"apiVersion": "l4lb/v1", "kind": "ClusterConfig",
//    "healthChecks": [{"name": …, …}], "virtualServices": [{"name": …, …, "realServers": [{"name": …, …}]}]}
// Reading one checks all of it before anything is written: each object against its schema in
// openapi.yaml (defaults filled as the API fills them), names unique per kind, references
// and addresses consistent within the document. What only a node can check (its NICs and
// pools) is left to the store that takes the objects.

import { clusterSpec } from '../api/config-store.js';
import { componentValidator } from '../api/openapi.js';
import { hostPort } from '../store/ip.js';
import type { Spec } from '../store/kinds.js';
import type { ClusterKind, ObjectId } from '../store/etcd/keys.js';

export const apiVersion = 'l4lb/v1';
export const documentKind = 'ClusterConfig';

/** One object of the document, flattened: real servers carry their service as scope. */
export interface Entry extends ObjectId {
  spec: Spec;
}

/** `health check 'web'`, `real server 'rs1' of virtual service 'web'`. */
export function describe(id: ObjectId): string {
  if (id.kind === 'health-checks') return `health check '${id.name}'`;
  if (id.kind === 'virtual-services') return `virtual service '${id.name}'`;
  return `real server '${id.name}' of virtual service '${id.scope}'`;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The document holding `entries`; throws for a real server without its service (it has no place there). */
export function toDocument(entries: Entry[]): Record<string, unknown> {
  const of = (kind: ClusterKind) => entries.filter((e) => e.kind === kind).sort(byName);
  const services = new Map(of('virtual-services').map((e) => [e.name, { name: e.name, ...e.spec, realServers: [] as Record<string, unknown>[] }]));
  for (const rs of of('real-servers')) {
    const service = services.get(rs.scope);
    if (!service) throw new Error(`${describe(rs)}: there is no such virtual service to put it under`);
    service.realServers.push({ name: rs.name, ...rs.spec });
  }
  return {
    apiVersion,
    kind: documentKind,
    healthChecks: of('health-checks').map((e) => ({ name: e.name, ...e.spec })),
    virtualServices: [...services.values()],
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const validName = componentValidator('Name');

/** Addresses used twice among `entries` (of one kind, one scope): the later holder's message. */
export function duplicateAddresses(entries: Entry[], address: (spec: Spec) => string, taken = new Map<string, string>()): string[] {
  const errors: string[] = [];
  for (const e of entries) {
    const text = address(e.spec);
    const holder = taken.get(text);
    if (holder !== undefined) errors.push(`${describe(e)}: /address ${text} is also the address of ${describe({ ...e, name: holder })}`);
    else taken.set(text, e.name);
  }
  return errors;
}

export const serviceAddress = (spec: Spec) => `${hostPort(String(spec.address), spec.port)}/${String(spec.protocol)}`;
export const serverAddress = (spec: Spec) => hostPort(String(spec.address), spec.port);

/** Checks a list of the document and gives its items as entries (those good enough to check further). */
function readList(
  doc: Record<string, unknown>,
  field: string,
  kind: ClusterKind,
  scope: string,
  errors: string[],
  each?: (item: Record<string, unknown>, entry: Entry) => void,
): Entry[] {
  const list = doc[field] ?? [];
  const where = scope ? `${describe({ kind: 'virtual-services', scope: '', name: scope })}: /${field}` : `/${field}`;
  if (!Array.isArray(list)) {
    errors.push(`${where} must be an array`);
    return [];
  }
  const entries: Entry[] = [];
  const seen = new Set<string>();
  const readItem = (item: unknown, path: string): string | undefined => {
    if (!isObject(item)) return `${path} must be an object`;
    const { name, resourceVersion: _version, status: _status, realServers: servers, ...spec } = item;
    if (name === undefined) return `${path}/name is required`;
    if (typeof name !== 'string' || !validName(name)) return `${path}/name ${JSON.stringify(name)} is not a name: letters, digits and -._~, at most 128, not . or ..`;
    const entry: Entry = { kind, scope, name, spec };
    if (seen.has(name)) errors.push(`${describe(entry)}: /name is used by two ${field === 'realServers' ? 'real servers of the service' : kind.replace('-', ' ')}`);
    seen.add(name);
    // Only a service holds real servers: anywhere else the schema reports the field.
    if (kind !== 'virtual-services' && servers !== undefined) spec.realServers = servers;
    const completed = clusterSpec(kind, spec);
    if (typeof completed !== 'string') {
      entry.spec = completed;
      entries.push(entry);
    } else errors.push(`${describe(entry)}: ${completed}`);
    // A service's real servers are checked even when the service itself is not valid.
    each?.(item, entry);
    return undefined;
  };
  list.forEach((item: unknown, i) => {
    const problem = readItem(item, `${where}/${i}`);
    if (problem) errors.push(problem);
  });
  return entries;
}

/** The document's objects (health checks, then services, then real servers), or every reason it is not valid. */
export function readDocument(text: string): { entries: Entry[] } | { errors: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { errors: [`the document is not JSON: ${(err as Error).message}`] };
  }
  if (!isObject(doc)) return { errors: ['the document must be a JSON object'] };
  const errors: string[] = [];
  if (doc.apiVersion !== apiVersion) errors.push(`/apiVersion must be '${apiVersion}', not ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== documentKind) errors.push(`/kind must be '${documentKind}', not ${JSON.stringify(doc.kind)}`);
  for (const field of Object.keys(doc)) {
    if (!['apiVersion', 'kind', 'healthChecks', 'virtualServices'].includes(field)) errors.push(`/${field} is not a field of a ${documentKind}`);
  }
  const checks = readList(doc, 'healthChecks', 'health-checks', '', errors);
  const servers: Entry[] = [];
  const services = readList(doc, 'virtualServices', 'virtual-services', '', errors, (item, service) => {
    const ofService = readList(item, 'realServers', 'real-servers', service.name, errors);
    for (const rs of ofService) rs.spec.port ??= service.spec.port;
    errors.push(...duplicateAddresses(ofService, serverAddress));
    servers.push(...ofService);
  });
  const names = new Set(checks.map((c) => c.name));
  for (const service of services) {
    const check = service.spec.healthCheck;
    if (typeof check === 'string' && !names.has(check)) {
      errors.push(`${describe(service)}: /healthCheck names health check '${check}', which the document does not hold`);
    }
  }
  errors.push(...duplicateAddresses(services, serviceAddress));
  return errors.length > 0 ? { errors } : { entries: [...checks, ...services, ...servers] };
}
