// The comparison benchmark's report code without running any load: medians, quantiles,
// ratios, number and table formatting, the standing lines, and the parsers of the tools'
// output (wrk, the API and health benchmarks, native-bench's JSON) and the chart script.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chartScript } from './bench/suite/chart.js';
import { cpuBetween } from './bench/suite/cpu.js';
import { apiFigures, healthFigures, nativeFigures } from './bench/suite/engine-benches.js';
import { comparisonTable, formatNumber, markdownTable, median, quantile, ratio, standing, summarize, type Sample } from './bench/suite/report.js';
import { parseWrk } from './bench/suite/workloads.js';

const samples: Sample[] = [
  { system: 'l4lb', metric: 'cps', repeat: 1, value: 1000 },
  { system: 'l4lb', metric: 'cps', repeat: 2, value: 3000 },
  { system: 'l4lb', metric: 'cps', repeat: 3, value: 2000 },
  { system: 'nftables', metric: 'cps', repeat: 1, value: 1500 },
  { system: 'direct', metric: 'cps', repeat: 1, value: 4000 },
  { system: 'l4lb', metric: 'p99', repeat: 1, value: 2 },
  { system: 'nftables', metric: 'p99', repeat: 1, value: 3 },
  { system: 'direct', metric: 'p99', repeat: 1, value: 1 },
];

describe('bench report', () => {
  test('median of odd and even counts, unsorted input left alone', () => {
    const input = [5, 1, 3];
    assert.equal(median(input), 3);
    assert.deepEqual(input, [5, 1, 3]);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    assert.throws(() => median([]));
  });

  test('quantile by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(quantile(sorted, 0.5), 50);
    assert.equal(quantile(sorted, 0.99), 99);
    assert.equal(quantile(sorted, 1), 100);
    assert.equal(quantile([3], 0.99), 3);
  });

  test('ratio is undefined when it would mean nothing', () => {
    assert.equal(ratio(3, 2), 1.5);
    assert.equal(ratio(3, 0), undefined);
    assert.equal(ratio(undefined, 2), undefined);
    assert.equal(ratio(1, Number.NaN), undefined);
  });

  test('summaries: medians, spread, runs and both ratios, in metric then system order', () => {
    const s = summarize(samples, ['l4lb', 'nftables', 'direct'], 'l4lb', 'direct');
    assert.deepEqual(s.map((x) => `${x.metric}/${x.system}`), ['cps/l4lb', 'cps/nftables', 'cps/direct', 'p99/l4lb', 'p99/nftables', 'p99/direct']);
    const l4lb = s[0]!;
    assert.deepEqual([l4lb.median, l4lb.min, l4lb.max, l4lb.runs], [2000, 1000, 3000, 3]);
    assert.equal(l4lb.vsReference, 1);
    assert.equal(l4lb.vsCeiling, 0.5);
    assert.equal(s[1]!.vsReference, 0.75);
  });

  test('a system without the reference measured has no ratio to it', () => {
    const s = summarize(samples.filter((x) => x.system !== 'l4lb'), ['nftables', 'direct'], 'l4lb', 'direct');
    assert.equal(s[0]!.vsReference, undefined);
    assert.equal(s[0]!.vsCeiling, 0.375);
  });

  test('numbers are grouped by thousands and keep their digits', () => {
    assert.equal(formatNumber(1234567.891, 0), '1 234 568');
    assert.equal(formatNumber(1234.5, 2), '1 234.50');
    assert.equal(formatNumber(-999, 1), '-999.0');
    assert.equal(formatNumber(0.1234, 3), '0.123');
  });

  test('Markdown tables: header rule with alignment, pipes escaped', () => {
    assert.equal(markdownTable(['a', 'b'], [['x|y', '1']], [false, true]), '| a | b |\n| --- | ---: |\n| x\\|y | 1 |');
  });

  test('the comparison table has a row per summary with ratios and lower-is-better labels', () => {
    const table = comparisonTable(summarize(samples, ['l4lb', 'nftables', 'direct'], 'l4lb', 'direct'), 'l4lb', 'direct');
    const lines = table.split('\n');
    assert.equal(lines.length, 2 + 6);
    assert.equal(lines[0], '| workload | system | median | min – max | runs | × l4lb | × direct |');
    assert.equal(lines[2], '| short connections (conn/s) | l4lb | 2 000 | 1 000 – 3 000 | 3 | 1.00× | 0.50× |');
    assert.equal(lines[3], '| short connections (conn/s) | nftables | 1 500 |  | 1 | 0.75× | 0.38× |');
    assert.match(lines[5]!, /^\| latency p99 at fixed rate \(ms, lower is better\) \| l4lb \| 2\.000 \|/);
  });

  test('standing counts a lower latency as ahead', () => {
    const lines = standing(summarize(samples, ['l4lb', 'nftables', 'direct'], 'l4lb', 'direct'), 'l4lb');
    assert.deepEqual(lines, [
      { metric: 'cps', ahead: ['nftables'], behind: ['direct'] },
      { metric: 'p99', ahead: ['nftables'], behind: ['direct'] },
    ]);
  });

  test('wrk output: requests per second, and lost work but not closes counted as errors', () => {
    const out = `Running 5s test @ http://10.0.1.10:80/
  1 threads and 32 connections
  Socket errors: connect 2, read 9000, write 1, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   6107.54
Transfer/sec:      1.02MB
`;
    assert.deepEqual(parseWrk(out), { perSecond: 6107.54, errors: 10 });
    assert.throws(() => parseWrk('nothing'));
  });

  test('the other benchmarks\' output becomes figures', () => {
    const api = apiFigures('| operation | requests | requests/s | p50 ms | p99 ms | x |\n| --- |\n| GET /healthz (baseline) | 1000 | 5123 | 0.15 | 0.40 | 1.0× |\n');
    assert.deepEqual(api, [
      { name: 'GET /healthz (baseline), 1000 requests: throughput', value: 5123, unit: 'req/s' },
      { name: 'GET /healthz (baseline), 1000 requests: p99', value: 0.4, unit: 'ms' },
    ]);
    const health = healthFigures('checker: tcp                 1000 probes/s    3.1 % of a core    3.10 % of a core per 1000 probes/s\n');
    assert.deepEqual(health, [{ name: 'checker: tcp: CPU per 1000 probes/s (at 1000/s)', value: 3.1, unit: '% of a core' }]);
    const measured = (per_second: number) => ({ per_second, cycles_per_item: 100 });
    const native = nativeFigures({
      workers: 1,
      sessions_per_worker: 65536,
      results: [{ established: measured(2e7), raw_loop: measured(4e7), new_sessions: measured(3e6), ratio: 0.5, bytes_per_session: { total: 140 } }],
    });
    assert.equal(native[0]!.value, 20);
    assert.equal(native.find((f) => f.unit === 'bytes/session')!.value, 140);
  });

  test('the chart script has one panel per measured workload with each system\'s median', () => {
    const script = chartScript(summarize(samples, ['l4lb', 'nftables', 'direct'], 'l4lb', 'direct'), ['l4lb', 'nftables', 'direct'], '/tmp/x.png', 'title');
    assert.match(script, /set multiplot layout 1,2/);
    assert.match(script, /\$cps << EOD\n"l4lb" 2000\n"nftables" 1500\n"direct" 4000\nEOD/);
    assert.match(script, /set output "\/tmp\/x.png"/);
  });

  test('CPU use in cores from two /proc/stat readings one second apart', () => {
    // user nice system idle iowait irq softirq steal, in USER_HZ (100 per second per CPU)
    const a = { fields: [1000, 0, 500, 9000, 10, 0, 100, 0], at: 0 };
    const b = { fields: [1100, 0, 550, 9040, 10, 0, 110, 0], at: 1000 };
    const use = cpuBetween(a, b);
    assert.ok(Math.abs(use.busyCores - 1.6) < 1e-9);
    assert.ok(Math.abs(use.softirqCores - 0.1) < 1e-9);
  });
});
