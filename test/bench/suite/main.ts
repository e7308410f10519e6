// npm run bench: l4lb beside the load balancers an operator would otherwise pick, on one
// machine in one run. Builds the namespace lab once, then in every repeat starts each system
// in turn, runs every workload against it and stops it, so a noisy minute hurts every system
// alike; reports medians with ratios to l4lb and to direct (Markdown, JSON, PNG), with the
// native, API and health benchmarks of the same run. docs/performance.md explains the numbers.
//
// Usage (root): npm run bench [-- --quick] [--repeats N] [--seconds S] [--systems a,b]
//   [--connections C] [--rate R] [--flows F] [--workers N] [--out FILE] [--no-engine-benches]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { requireRoot } from '../../e2e/netns.js';
import { drawChart } from './chart.js';
import { cpuBetween, readCpu } from './cpu.js';
import { renderDocument, type RunRecord } from './document.js';
import { runEngineBenches } from './engine-benches.js';
import { buildLab, type Lab } from './lab.js';
import { describeMachine } from './machine.js';
import { summarize } from './report.js';
import { allSystems, SkipError, type Running, type System } from './systems.js';
import { allWorkloads, type WorkloadSettings } from './workloads.js';

const reference = 'l4lb';
const ceiling = 'direct';
const defaultSystems = 'l4lb,l4lb-xdp,nftables,haproxy,direct';

function bounded(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} ${text}: expected an integer from ${min} to ${max}`);
  return n;
}

/** One round of one system: start it, run every workload, note what it counted, stop it. */
async function measureSystem(record: RunRecord, lab: Lab, system: System, repeat: number): Promise<void> {
  let running: Running;
  try {
    running = await system.start(lab);
  } catch (err) {
    if (err instanceof SkipError) {
      record.skipped.push({ system: system.name, reason: err.message });
      console.log(`skip ${system.name}: ${err.message}`);
    } else {
      record.failures.push({ system: system.name, repeat, step: 'start', error: (err as Error).message });
      console.log(`${system.name} did not start: ${(err as Error).message}`);
    }
    return;
  }
  if (!record.systems.some((x) => x.name === system.name)) record.systems.push({ name: system.name, settings: running.settings });
  try {
    for (const workload of allWorkloads) {
      try {
        const before = readCpu();
        const measurements = await workload.run(lab, running.address, record.settings);
        record.cpu.push({ system: system.name, workload: workload.name, repeat, ...cpuBetween(before, readCpu()) });
        for (const m of measurements) {
          record.samples.push({ system: system.name, metric: m.metric, repeat, value: m.value });
          const e = record.errors.find((x) => x.system === system.name && x.metric === m.metric);
          if (e) e.errors += m.errors;
          else record.errors.push({ system: system.name, metric: m.metric, errors: m.errors });
          console.log(`repeat ${repeat} ${system.name.padEnd(14)} ${m.metric.padEnd(10)} ${m.value.toFixed(2)}${m.errors ? ` (${m.errors} failed)` : ''}`);
        }
      } catch (err) {
        record.failures.push({ system: system.name, repeat, step: workload.name, error: (err as Error).message });
        console.log(`repeat ${repeat} ${system.name} ${workload.name} failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (running.observe) record.observations.push({ system: system.name, repeat, note: await running.observe() });
  } finally {
    await running.stop();
  }
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      repeats: { type: 'string' },
      seconds: { type: 'string' },
      systems: { type: 'string', default: defaultSystems },
      connections: { type: 'string' },
      rate: { type: 'string' },
      flows: { type: 'string' },
      workers: { type: 'string' },
      out: { type: 'string', default: 'var/bench/bench.json' },
      'no-engine-benches': { type: 'boolean', default: false },
    },
  });
  const skipRoot = requireRoot();
  if (skipRoot) throw new Error(skipRoot);
  const repeats = bounded('--repeats', v.repeats, v.quick ? 2 : 3, 1, 9);
  const settings: WorkloadSettings = {
    seconds: bounded('--seconds', v.seconds, v.quick ? 5 : 10, 1, 60),
    connections: bounded('--connections', v.connections, 32, 1, 1000),
    rate: bounded('--rate', v.rate, 500, 1, 20000),
    flows: bounded('--flows', v.flows, 2, 1, 16),
  };
  const workers = bounded('--workers', v.workers, 1, 1, 8);
  const names = v.systems!.split(',').map((s) => s.trim());
  const known = allSystems(workers);
  const systems = names.map((n) => {
    const system = known.find((s) => s.name === n);
    if (!system) throw new Error(`--systems: unknown ${n} (known: ${known.map((s) => s.name).join(', ')})`);
    return system;
  });
  const outFile = resolve(v.out!);
  mkdirSync(dirname(outFile), { recursive: true });

  const record: RunRecord = {
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    startedAt: new Date().toISOString(),
    finishedAt: '',
    repeats,
    settings,
    machine: await describeMachine(),
    reference,
    ceiling,
    systems: [],
    skipped: [],
    failures: [],
    errors: [],
    observations: [],
    cpu: [],
    samples: [],
    summaries: [],
    engineBenches: [],
    chart: undefined,
  };

  if (!v['no-engine-benches']) {
    console.log('running the native, API and health benchmarks…');
    record.engineBenches = await runEngineBenches(v.quick!, dirname(outFile));
  }

  console.log('building the lab…');
  const lab = await buildLab();
  const interrupted = () => void lab.close().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  try {
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const system of systems) {
        if (record.skipped.some((k) => k.system === system.name)) continue;
        await measureSystem(record, lab, system, repeat);
      }
    }
  } finally {
    process.off('SIGINT', interrupted);
    await lab.close();
  }

  const measured = names.filter((n) => record.samples.some((s) => s.system === n));
  record.summaries = summarize(record.samples, measured, reference, ceiling);
  record.finishedAt = new Date().toISOString();
  const png = `${outFile.replace(/\.json$/, '')}.png`;
  try {
    await drawChart(record.summaries, measured, png, `l4lb and its peers, medians of ${repeats} repeat(s), ${record.machine.cores} vCPU`);
    record.chart = png;
  } catch (err) {
    console.log(`no chart: ${(err as Error).message}`);
  }
  const document = renderDocument(record);
  writeFileSync(outFile, `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(outFile.replace(/\.json$/, '') + '.md', document);
  console.log(`\n${document}\nJSON: ${outFile}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
