// The whole run as one Markdown document (printed, and written next to the JSON): the command,
// the machine, the comparison table, what l4lb is ahead of and behind, what was skipped or
// failed, and the project's own benchmarks.

import type { CpuUse } from './cpu.js';
import type { EngineBench } from './engine-benches.js';
import { machineLines, type Machine } from './machine.js';
import { comparisonTable, formatNumber, markdownTable, median, metrics, standing, type Sample, type Summary } from './report.js';
import type { WorkloadSettings } from './workloads.js';

export interface RunRecord {
  command: string;
  startedAt: string;
  finishedAt: string;
  repeats: number;
  settings: WorkloadSettings;
  machine: Machine;
  reference: string;
  ceiling: string;
  /** How each measured system ran. */
  systems: { name: string; settings: string }[];
  skipped: { system: string; reason: string }[];
  failures: { system: string; repeat: number; step: string; error: string }[];
  /** Failed requests reported by the load tools, per system and metric, summed over repeats. */
  errors: { system: string; metric: string; errors: number }[];
  /** What a system counted itself during one repeat (l4lb: its NICs' drops). */
  observations: { system: string; repeat: number; note: string }[];
  /** The machine's CPU use while each workload ran against each system. */
  cpu: ({ system: string; workload: string; repeat: number } & CpuUse)[];
  samples: Sample[];
  summaries: Summary[];
  engineBenches: EngineBench[];
  chart: string | undefined;
}

/** Busy cores of the whole VM per system and workload (median over repeats), softirq in brackets. */
function cpuTable(r: RunRecord): string {
  const workloads = [...new Set(r.cpu.map((c) => c.workload))];
  const systems = [...new Set(r.cpu.map((c) => c.system))];
  const rows = systems.map((system) => [
    system,
    ...workloads.map((workload) => {
      const runs = r.cpu.filter((c) => c.system === system && c.workload === workload);
      if (!runs.length) return '–';
      return `${median(runs.map((c) => c.busyCores)).toFixed(2)} (${median(runs.map((c) => c.softirqCores)).toFixed(2)})`;
    }),
  ]);
  return markdownTable(['system', ...workloads], rows, [false, ...workloads.map(() => true)]);
}

export function renderDocument(r: RunRecord): string {
  const s = r.settings;
  const out: string[] = [
    `## Load balancers side by side (${r.startedAt.slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `Command: \`${r.command}\`, ${r.repeats} repeat(s), systems interleaved within each repeat; medians of the repeats.`,
    '',
    ...machineLines(r.machine),
    `- workloads: ${s.seconds} s each; wrk -t1 -c${s.connections} (cps with \`Connection: close\`, rps keep-alive); iperf3 -P ${s.flows}; latency: one connection per request at ${s.rate}/s`,
    '',
    comparisonTable(r.summaries, r.reference, r.ceiling),
    '',
  ];
  for (const line of standing(r.summaries, r.reference)) {
    const label = metrics[line.metric].label;
    out.push(`- ${label}: ${r.reference} ahead of ${line.ahead.join(', ') || 'none'}; behind ${line.behind.join(', ') || 'none'}`);
  }
  if (r.cpu.length) {
    out.push('', `CPU of the whole VM while each workload ran, in busy cores of ${r.machine.cores} (softirq part in brackets; other users of the VM included):`, '', cpuTable(r));
  }
  out.push('', '| system | how it ran |', '| --- | --- |', ...r.systems.map((x) => `| ${x.name} | ${x.settings} |`));
  const errors = r.errors.filter((e) => e.errors > 0);
  if (errors.length) out.push('', `Failed requests reported by the load tools: ${errors.map((e) => `${e.system} ${e.metric} ${e.errors}`).join('; ')}.`);
  for (const o of r.observations) out.push('', `${o.system}, repeat ${o.repeat}, after all workloads: ${o.note}.`);
  for (const k of r.skipped) out.push('', `Skipped **${k.system}**: ${k.reason}`);
  for (const f of r.failures) out.push('', `Failed: ${f.system} repeat ${f.repeat} ${f.step}: ${f.error.split('\n')[0]}`);
  if (r.chart) out.push('', `Chart: \`${r.chart}\``);
  if (r.engineBenches.length) {
    out.push('', '### The project\'s own benchmarks, same run', '');
    const rows = r.engineBenches.flatMap((b) =>
      b.error ? [[b.bench, `failed: ${b.error.split('\n')[0]}`, '', '']] : b.figures.map((f) => [b.bench, f.name, formatNumber(f.value, f.value < 100 ? 2 : 0), f.unit]),
    );
    out.push(markdownTable(['benchmark', 'figure', 'value', 'unit'], rows, [false, false, true, false]));
    out.push('', ...r.engineBenches.map((b) => `- ${b.bench}: \`${b.command}\``));
  }
  return `${out.join('\n')}\n`;
}
