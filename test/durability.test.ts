// Durability (issue 9): the appliance is killed with SIGKILL at a random moment while lanes of
// writes stream into it, again and again on the same database. After every kill the file
// must pass `PRAGMA integrity_check`, the restarted appliance must log that it replayed the
// stored configuration (its generation and object count), and every write acknowledged
// before the kill must be served exactly; a write in flight may have landed or not, whole.
//
// DURABILITY_KILLS sets the number of kills (200 under CI=true, the bar; 20 otherwise),
// DURABILITY_SEED the seed of the write choices and kill moments (the interleaving of lanes
// and the kill itself still race, so a replay is close, not identical).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { startAppliance, type KillableAppliance } from './durability-appliance.js';
import { checkLane, inspectDb, readBack } from './durability-check.js';
import { acknowledge, heldOf, Lane, seededRng, type Held, type Holding, type Rng, type Write } from './durability-writes.js';

const kills = Number(process.env.DURABILITY_KILLS ?? (process.env.CI === 'true' ? 200 : 20));
const seed = Number(process.env.DURABILITY_SEED ?? 20261123);
const lanes = [0, 1, 2].map((i) => new Lane(i));
/** A lane stops after this many writes in one cycle even if the kill has not come. */
const maxWritesPerCycle = 500;

interface Tally {
  acknowledged: number;
  inFlight: number;
  landed: number;
}

/** Sends one write; the holding it produced if a 2xx came back whole, undefined for a 204. */
async function send(base: string, write: Write): Promise<{ status: number; shown?: Held }> {
  const response = await fetch(base + write.url, {
    method: write.method,
    headers: write.body ? { 'content-type': 'application/json' } : {},
    ...(write.body ? { body: JSON.stringify(write.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status === 204 || response.status >= 300) return { status: response.status };
  const shown = heldOf(JSON.parse(text) as Record<string, unknown>);
  assert.equal(response.headers.get('etag'), `"${shown.resourceVersion}"`);
  return { status: response.status, shown };
}

/**
 * Streams every lane's writes until the appliance dies (killed `killAfterMs` in); returns the
 * write each lane had in flight then. Only a complete 2xx counts as acknowledged.
 */
async function streamUntilKilled(appliance: KillableAppliance, held: Holding, rng: Rng, killAfterMs: number, tally: Tally): Promise<Map<Lane, Write>> {
  const inFlight = new Map<Lane, Write>();
  const killed = new Promise((r) => setTimeout(r, killAfterMs)).then(() => appliance.kill());
  await Promise.all(
    lanes.map(async (lane) => {
      const laneRng = seededRng(Math.floor(rng() * 2 ** 32));
      for (let n = 0; n < maxWritesPerCycle; n++) {
        const write = lane.next(laneRng, held);
        inFlight.set(lane, write);
        let reply;
        try {
          reply = await send(appliance.url, write);
        } catch {
          return; // the appliance died under this write: it stays in flight
        }
        assert.ok(reply.status >= 200 && reply.status < 300, `${write.method} ${write.url} ${JSON.stringify(write.body)} → ${reply.status}`);
        acknowledge(held, write, reply.shown);
        inFlight.delete(lane);
        tally.acknowledged++;
      }
    }),
  );
  await killed;
  return inFlight;
}

test(`acknowledged writes survive ${kills} kill -9s mid-stream, and the restart replays them`, { timeout: 30 * 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-durability-'));
  const db = join(dir, 'l4lb.db');
  const rng = seededRng(seed);
  const tally: Tally = { acknowledged: 0, inFlight: 0, landed: 0 };
  const started = performance.now();
  let held: Holding = new Map();
  let appliance = await startAppliance(db);
  try {
    for (let cycle = 1; cycle <= kills; cycle++) {
      const where = `cycle ${cycle} (DURABILITY_SEED=${seed})`;
      const killAfterMs = 5 + Math.floor(rng() * 196);
      const inFlight = await streamUntilKilled(appliance, held, rng, killAfterMs, tally);
      const stored = inspectDb(db);
      const acknowledgedVersions = [...held.values()].map((h) => h.resourceVersion);
      assert.ok(stored.generation >= Math.max(0, ...acknowledgedVersions), `${where}: generation ${stored.generation} is behind an acknowledged write`);

      appliance = await startAppliance(db);
      assert.deepEqual(appliance.start, stored, `${where}: the start-up replay is not what the file holds`);
      const ready = (await (await fetch(`${appliance.url}/readyz`)).json()) as { generation: number; appliedGeneration: number };
      assert.equal(ready.generation, stored.generation, where);
      assert.equal(ready.appliedGeneration, stored.generation, where);

      const seen = await readBack(appliance.url);
      for (const lane of lanes) checkLane(lane, held, inFlight.get(lane), seen);
      tally.inFlight += inFlight.size;
      tally.landed += [...inFlight.values()].filter((w) => !isDeepStrictEqual(held.get(w.key), seen.get(w.key))).length;
      held = seen;
    }
  } finally {
    await appliance.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  t.diagnostic(`${kills} kills in ${((performance.now() - started) / 1000).toFixed(1)} s: ${tally.acknowledged} acknowledged writes kept, ${tally.inFlight} in flight at a kill (${tally.landed} of them landed)`);
  // Kills that always came before the first answer would prove nothing.
  assert.ok(tally.acknowledged >= kills, `only ${tally.acknowledged} writes were acknowledged over ${kills} kills`);
});
