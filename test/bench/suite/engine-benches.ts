// The project's own benchmarks, run from the same command so one report holds them all:
// the native engine benchmark (its --json file), the API write benchmark and the health-check
// benchmark (their printed tables). Each yields named figures; a failure is reported, not fatal.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectFile } from '../../../lib/project-files.js';
import { sh } from '../../e2e/netns.js';

export interface Figure {
  name: string;
  value: number;
  unit: string;
}

export interface EngineBench {
  bench: string;
  command: string;
  figures: Figure[];
  /** Why it produced nothing, when it failed. */
  error?: string;
}

interface NativeMeasured {
  per_second: number;
  cycles_per_item: number;
}

interface NativeJson {
  workers: number;
  sessions_per_worker: number;
  results: {
    established: NativeMeasured;
    raw_loop: NativeMeasured;
    new_sessions: NativeMeasured;
    ratio: number;
    bytes_per_session: { total: number };
  }[];
}

/** Figures of worker 0 from native-bench's JSON. */
export function nativeFigures(json: NativeJson): Figure[] {
  const r = json.results[0];
  if (!r) throw new Error('native bench: no results');
  return [
    { name: `established forwarding (${json.sessions_per_worker} sessions)`, value: r.established.per_second / 1e6, unit: 'Mpps' },
    { name: 'established forwarding', value: r.established.cycles_per_item, unit: 'cycles/packet' },
    { name: 'raw rx→tx loop', value: r.raw_loop.per_second / 1e6, unit: 'Mpps' },
    { name: 'established / raw loop', value: r.ratio, unit: 'ratio' },
    { name: 'new sessions', value: r.new_sessions.per_second / 1e6, unit: 'M/s' },
    { name: 'memory', value: r.bytes_per_session.total, unit: 'bytes/session' },
  ];
}

/** Rows of api-bench's Markdown table: `| operation | requests | requests/s | p50 ms | p99 ms | … |`. */
export function apiFigures(output: string): Figure[] {
  const figures: Figure[] = [];
  for (const line of output.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 7 || !/^\d+$/.test(cells[2]!)) continue;
    // The baseline row repeats per size: the request count tells them apart.
    const name = `${cells[1]}, ${cells[2]} requests`;
    figures.push({ name: `${name}: throughput`, value: Number(cells[3]), unit: 'req/s' });
    figures.push({ name: `${name}: p99`, value: Number(cells[5]), unit: 'ms' });
  }
  if (figures.length === 0) throw new Error(`api bench printed no table:\n${output}`);
  return figures;
}

/** health-bench lines: `<name>  N probes/s  X % of a core  Y % of a core per 1000 probes/s`. */
export function healthFigures(output: string): Figure[] {
  const figures: Figure[] = [];
  for (const m of output.matchAll(/^(.+?)\s+(\d+) probes\/s\s+([\d.]+) % of a core\s+([\d.]+) % of a core per 1000 probes\/s/gm)) {
    figures.push({ name: `${m[1]!.trim()}: CPU per 1000 probes/s (at ${m[2]}/s)`, value: Number(m[4]), unit: '% of a core' });
  }
  if (figures.length === 0) throw new Error(`health bench printed no figures:\n${output}`);
  return figures;
}

async function attempt(bench: string, command: string, run: () => Promise<Figure[]>): Promise<EngineBench> {
  try {
    return { bench, command, figures: await run() };
  } catch (err) {
    return { bench, command, figures: [], error: (err as Error).message.slice(0, 500) };
  }
}

/** Runs the three; native-bench's JSON is kept as `outDir`/native.json. */
export async function runEngineBenches(quick: boolean, outDir: string): Promise<EngineBench[]> {
  const jsonFile = join(outDir, 'native.json');
  const nativeArgs = `${quick ? '--quick ' : ''}--json ${jsonFile}`;
  const apiSizes = quick ? '1000' : '1000,10000';
  const health = quick ? ['--targets', '1000', '--seconds', '3'] : ['--targets', '2000', '--seconds', '5'];
  return [
    await attempt('native engine (net_ring, 1 worker)', `make -C native bench ARGS="${nativeArgs}"`, async () => {
      await sh('make', ['-C', projectFile('native'), 'bench', `ARGS=${nativeArgs}`], { timeoutMs: 600_000 });
      return nativeFigures(JSON.parse(readFileSync(jsonFile, 'utf8')) as NativeJson);
    }),
    await attempt('API writes', `node dist/test/bench/api-bench.js --sizes ${apiSizes}`, async () => {
      const { stdout } = await sh(process.execPath, [projectFile('dist/test/bench/api-bench.js'), '--sizes', apiSizes], { timeoutMs: 600_000 });
      return apiFigures(stdout);
    }),
    await attempt('health checks', `node dist/test/bench/health-bench.js ${health.join(' ')}`, async () => {
      const { stdout } = await sh(process.execPath, [projectFile('dist/test/bench/health-bench.js'), ...health], { timeoutMs: 300_000 });
      return healthFigures(stdout);
    }),
  ];
}
