// What must hold of the stored configuration whatever requests came before: the store's own
// whole-configuration rules pass over every object, every reference resolves, no object is
// newer than the generation, the engine has applied that generation, and the API lists
// exactly what the store holds.

import assert from 'node:assert/strict';
import { kinds, type KindName } from '../../store/kinds.js';
import { checkConsistency } from '../../store/rules.js';
import type { Change, StoredObject } from '../../store/store.js';
import type { TestApp } from '../helpers.js';

const collections: Partial<Record<KindName, string>> = {
  nics: '/api/v1/nics',
  routes: '/api/v1/routes',
  'local-address-pools': '/api/v1/local-address-pools',
  'health-checks': '/api/v1/health-checks',
  'virtual-services': '/api/v1/virtual-services',
};

/** Each reference field of a kind, and the kind it names. */
const references: Partial<Record<KindName, [string, KindName][]>> = {
  routes: [['nic', 'nics']],
  'local-address-pools': [['nic', 'nics']],
  'virtual-services': [['nic', 'nics'], ['localAddressPool', 'local-address-pools'], ['healthCheck', 'health-checks']],
};

function allObjects(t: TestApp): [KindName, StoredObject][] {
  return (Object.keys(kinds) as KindName[]).flatMap((kind) => t.store.all(kind).map((o): [KindName, StoredObject] => [kind, o]));
}

function checkReferences(t: TestApp, kind: KindName, object: StoredObject): void {
  const where = `${kind} ${object.scope ? `${object.scope}/` : ''}${object.name}`;
  if (kind === 'real-servers') assert.ok(t.store.get('virtual-services', '', object.scope), `${where}: its virtual service is gone`);
  for (const [field, target] of references[kind] ?? []) {
    const name = object.spec[field];
    if (name !== undefined) assert.ok(t.store.get(target, '', name as string), `${where}: ${field} '${String(name)}' does not resolve`);
  }
}

/** name → [spec, resourceVersion] of what a list answer shows. */
async function listed(t: TestApp, url: string): Promise<Record<string, unknown>> {
  const response = await t.request('GET', url);
  assert.equal(response.statusCode, 200, `GET ${url}: ${response.body}`);
  const page = response.json() as { items: Record<string, unknown>[]; nextCursor?: string };
  assert.equal(page.nextCursor, undefined, `GET ${url}: more than one page`);
  return Object.fromEntries(page.items.map(({ name, resourceVersion, status: _status, ...spec }) => [name as string, [spec, resourceVersion]]));
}

function held(objects: StoredObject[]): Record<string, unknown> {
  return Object.fromEntries(objects.map((o) => [o.name, [o.spec, o.resourceVersion]]));
}

export async function assertConfigConsistent(t: TestApp): Promise<void> {
  const objects = allObjects(t);
  const everything: Change[] = objects.map(([kind, o]) => ({ kind, scope: o.scope, name: o.name, op: 'put' }));
  checkConsistency(t.store, everything);
  for (const [kind, object] of objects) checkReferences(t, kind, object);

  const generation = t.store.generation();
  const newest = Math.max(0, ...objects.map(([, o]) => o.resourceVersion));
  assert.ok(newest <= generation, `an object has resourceVersion ${newest}, beyond generation ${generation}`);
  assert.equal(t.app.reconciler.appliedGeneration, generation, 'the engine has not applied the stored generation');

  for (const [kind, url] of Object.entries(collections) as [KindName, string][]) {
    assert.deepEqual(await listed(t, url), held(t.store.all(kind)), `GET ${url} differs from the store`);
  }
  for (const service of t.store.all('virtual-services')) {
    const url = `/api/v1/virtual-services/${encodeURIComponent(service.name)}/real-servers`;
    assert.deepEqual(await listed(t, url), held(t.store.all('real-servers').filter((rs) => rs.scope === service.name)), `GET ${url} differs from the store`);
  }
}
