// A restated histogram (api/metrics/restated-histogram.ts) is valid exposition beside prom-client's own
// metrics: cumulative buckets up to +Inf equal to _count, _sum, HELP and TYPE; and the
// registry's JSON form still works with it registered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { restatedHistogram, type HistogramSample } from '../../api/metrics/restated-histogram.js';
import { parsePrometheusText } from '../prometheus-text.js';

function registryWith(status: () => HistogramSample[] | undefined): Registry {
  const registry = new Registry();
  new Counter({ name: 'x_requests_total', help: 'Beside it.', registers: [registry] }).inc();
  restatedHistogram(registry, 'x_burst_duration_seconds', 'Bursts.', (samples: HistogramSample[]) => samples, status);
  return registry;
}

const worker = (id: string, counts: number[], sum: number): HistogramSample => ({ labels: { worker: id }, bounds: [0.001, 0.002, 0.004], counts, sum });

test('a restated histogram is served with cumulative buckets, +Inf, _sum and _count', async () => {
  const registry = registryWith(() => [worker('0', [1, 0, 2, 3], 0.5), worker('1', [0, 0, 0, 0], 0)]);
  const family = parsePrometheusText(await registry.metrics()).get('x_burst_duration_seconds');
  assert.ok(family);
  assert.equal(family.type, 'histogram');
  assert.equal(family.help, 'Bursts.');
  const of = (name: string, id: string) => family.samples.filter((s) => s.name === name && s.labels.worker === id);
  assert.deepEqual(of('x_burst_duration_seconds_bucket', '0').map((s) => [s.labels.le, s.value]), [['0.001', 1], ['0.002', 1], ['0.004', 3], ['+Inf', 6]]);
  assert.deepEqual(of('x_burst_duration_seconds_sum', '0').map((s) => s.value), [0.5]);
  assert.deepEqual(of('x_burst_duration_seconds_count', '0').map((s) => s.value), [6]);
  assert.deepEqual(of('x_burst_duration_seconds_count', '1').map((s) => s.value), [0]);
});

test('every scrape restates the keeper\'s values, and none are served without a status', async () => {
  let counts: number[] | undefined = [1, 0, 0, 0];
  const registry = registryWith(() => (counts ? [worker('0', counts, 0.001)] : undefined));
  const count = async () => parsePrometheusText(await registry.metrics()).get('x_burst_duration_seconds')!.samples.find((s) => s.name.endsWith('_count'))?.value;
  assert.equal(await count(), 1);
  counts = [1, 4, 0, 0];
  assert.equal(await count(), 5);
  counts = undefined;
  assert.equal(await count(), undefined);
});

test('the registry\'s JSON form and reset still work with it registered', async () => {
  const registry = registryWith(() => [worker('0', [0, 1, 0, 0], 0.0015)]);
  const json = await registry.getMetricsAsJSON();
  const histogram = json.find((m) => m.name === 'x_burst_duration_seconds');
  assert.equal(histogram?.type, 'histogram');
  assert.equal(histogram?.values.length, 6);
  assert.ok(json.some((m) => m.name === 'x_requests_total'));
  registry.resetMetrics();
  assert.match(await registry.metrics(), /^x_burst_duration_seconds_count\{worker="0"\} 1$/m);
});
