// The shipped Grafana dashboard (examples/grafana/l4lb.json) imports as is and only asks for
// metrics the appliance serves: every l4lb_ name in its queries is registered in /metrics of
// an app with a health checker (not started: registration is what counts here).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildApp } from '../api/app.js';
import { HealthMonitor } from '../engine/health/monitor.js';
import { OffEngine } from '../engine/off-engine.js';
import { Reconciler } from '../engine/reconciler.js';
import { projectFile } from '../lib/project-files.js';
import { openDb } from '../store/db.js';
import { Store } from '../store/store.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(readFileSync(projectFile('examples/grafana/l4lb.json'), 'utf8')) as {
  __inputs: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
};
const queried = dashboard.panels.filter((p) => p.type !== 'row');

test('the dashboard imports as is: one Prometheus input, every panel on it, unique ids, a 24-column grid', () => {
  assert.deepEqual(dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
  for (const p of queried) assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, p.title);
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const p of dashboard.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
});

test('every metric the dashboard queries is one the appliance registers', async () => {
  const store = new Store(openDb(':memory:'));
  const engine = new OffEngine();
  const app = await buildApp({ store, reconciler: new Reconciler(store, engine), health: new HealthMonitor(store, engine, { runIp: async () => {} }) });
  try {
    const scrape = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const registered = new Set([...scrape.matchAll(/^# TYPE (l4lb_\w+) /gm)].map((m) => m[1]));
    const used = new Set(queried.flatMap((p) => (p.targets ?? []).flatMap((target) => [...target.expr.matchAll(/\bl4lb_\w+/g)].map((m) => m[0]))));
    assert.ok(used.size >= 15, `only ${used.size} metrics queried`);
    const missing = [...used].filter((name) => !registered.has(name) && !registered.has(name.replace(/_(bucket|sum|count)$/, '')));
    assert.deepEqual(missing, []);
  } finally {
    await app.close();
  }
});
