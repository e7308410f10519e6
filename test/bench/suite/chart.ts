// The PNG chart: one panel per workload, a bar per system (its median), drawn by gnuplot
// (Debian's gnuplot-nox) from data written inline into the script.

import { sh } from '../../e2e/netns.js';
import { metricOrder, metrics, type Summary } from './report.js';

/** The gnuplot script for the summaries, writing `png`. */
export function chartScript(summaries: readonly Summary[], systems: readonly string[], png: string, title: string): string {
  const shown = metricOrder.filter((m) => summaries.some((s) => s.metric === m));
  const lines = [
    `set terminal pngcairo size ${Math.max(1, shown.length) * 320},420 font ",9"`,
    `set output ${JSON.stringify(png)}`,
    `set multiplot layout 1,${Math.max(1, shown.length)} title ${JSON.stringify(title)}`,
    'set style data histograms',
    'set style fill solid 0.8 border -1',
    'set boxwidth 0.8',
    'set xtics rotate by -45 noenhanced',
    'set grid ytics',
    'set yrange [0:*]',
    'unset key',
  ];
  for (const metric of shown) {
    const info = metrics[metric];
    const rows = systems
      .map((system) => summaries.find((s) => s.metric === metric && s.system === system))
      .filter((s): s is Summary => s !== undefined)
      .map((s) => `"${s.system}" ${s.median}`);
    lines.push(`$${metric} << EOD`, ...rows, 'EOD');
    lines.push(`set title ${JSON.stringify(`${info.label}\n(${info.unit}${info.higherIsBetter ? '' : ', lower is better'})`)} noenhanced`);
    lines.push(`plot $${metric} using 2:xtic(1) linecolor rgb "#3070b0"`);
  }
  lines.push('unset multiplot');
  return `${lines.join('\n')}\n`;
}

export async function drawChart(summaries: readonly Summary[], systems: readonly string[], png: string, title: string): Promise<void> {
  await sh('gnuplot', [], { input: chartScript(summaries, systems, png, title), timeoutMs: 30_000 });
}
