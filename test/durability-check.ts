// What the durability test checks after each kill: the database file as the dead appliance
// left it (integrity, generation, object count), and the configuration the restarted one
// serves against what was acknowledged before the kill.

import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { isDeepStrictEqual } from 'node:util';
import { kinds, type KindName } from '../store/kinds.js';
import { ConfigReader } from '../store/store.js';
import { cascade, heldOf, type Held, type Holding, type Lane, type Spec, type Write } from './durability-writes.js';

export interface StoredFacts {
  generation: number;
  /** Rows of every kind: what the reconciler must replay at start. */
  objects: number;
}

/** Opens the file read-only (the WAL stays for the appliance to recover) and checks it whole. */
export function inspectDb(file: string): StoredFacts {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const reader = new ConfigReader(db);
    const objects = (Object.keys(kinds) as KindName[]).reduce((sum, kind) => sum + reader.count(kind), 0);
    return { generation: reader.generation(), objects };
  } finally {
    db.close();
  }
}

async function getJson(base: string, path: string): Promise<any> {
  const response = await fetch(base + path, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200, `GET ${path}`);
  return response.json();
}

/** Every NIC, pool, service and real server the appliance serves, by key. */
export async function readBack(base: string): Promise<Holding> {
  const held: Holding = new Map();
  for (const kind of ['nics', 'local-address-pools', 'virtual-services']) {
    const page = await getJson(base, `/api/v1/${kind}`);
    for (const object of page.items as Spec[]) held.set(`${kind}/${String(object.name)}`, heldOf(object));
  }
  for (const key of [...held.keys()].filter((k) => k.startsWith('virtual-services/'))) {
    const service = key.slice('virtual-services/'.length);
    const page = await getJson(base, `/api/v1/virtual-services/${service}/real-servers`);
    for (const object of page.items as Spec[]) held.set(`real-servers/${service}/${String(object.name)}`, heldOf(object));
  }
  return held;
}

function only(held: Holding, keys: string[]): Record<string, Held> {
  return Object.fromEntries(keys.filter((k) => held.has(k)).map((k) => [k, held.get(k)!]));
}

/** Whether `seen` shows the unacknowledged `write` applied: its fields written, a newer version. */
function landed(write: Write, before: Held | undefined, seen: Held | undefined): boolean {
  if (write.method === 'DELETE') return seen === undefined;
  if (!seen || seen.resourceVersion <= (before?.resourceVersion ?? 0)) return false;
  const { name: _name, ...fields } = write.body ?? {};
  return Object.entries(fields).every(([field, value]) => isDeepStrictEqual(seen.spec[field], value));
}

/**
 * One lane's objects after the restart must be exactly what was acknowledged, or that with
 * the lane's write in flight at the kill applied as a whole (its cascade included).
 */
export function checkLane(lane: Lane, acknowledged: Holding, inFlight: Write | undefined, seen: Holding): void {
  const expected = only(acknowledged, lane.keys);
  const actual = only(seen, lane.keys);
  if (isDeepStrictEqual(actual, expected)) return;
  assert.ok(inFlight, `lane ${lane.index} lost or changed acknowledged writes:\nexpected ${JSON.stringify(expected)}\nserved ${JSON.stringify(actual)}`);
  const gone = new Set(cascade(inFlight, acknowledged));
  const rest = (held: Record<string, Held>) => Object.fromEntries(Object.entries(held).filter(([k]) => k !== inFlight.key && !gone.has(k)));
  assert.deepEqual(rest(actual), rest(expected), `lane ${lane.index}: objects the write in flight (${inFlight.method} ${inFlight.url}) did not touch changed`);
  for (const key of gone) assert.equal(seen.has(key), false, `${key} outlived the deletion of its service`);
  assert.ok(
    landed(inFlight, acknowledged.get(inFlight.key), seen.get(inFlight.key)),
    `lane ${lane.index}: ${inFlight.key} is neither as acknowledged (${JSON.stringify(expected[inFlight.key])}) nor as written by ${inFlight.method} ${JSON.stringify(inFlight.body)}: ${JSON.stringify(actual[inFlight.key])}`,
  );
}
