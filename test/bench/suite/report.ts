// The comparison benchmark's numbers, without any load: samples → medians → ratios → Markdown.
// Pure functions, so test/bench-report.test.ts covers them without namespaces or root.

/** What a workload measures; `higherIsBetter` is false for latencies. */
export interface MetricInfo {
  readonly label: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  /** Digits after the decimal point in the table. */
  readonly digits: number;
}

export const metrics = {
  cps: { label: 'short connections', unit: 'conn/s', higherIsBetter: true, digits: 0 },
  rps: { label: 'keep-alive requests', unit: 'req/s', higherIsBetter: true, digits: 0 },
  throughput: { label: 'bulk throughput', unit: 'Gbit/s', higherIsBetter: true, digits: 2 },
  p50: { label: 'latency p50 at fixed rate', unit: 'ms', higherIsBetter: false, digits: 3 },
  p99: { label: 'latency p99 at fixed rate', unit: 'ms', higherIsBetter: false, digits: 3 },
} as const satisfies Record<string, MetricInfo>;

export type Metric = keyof typeof metrics;
export const metricOrder = Object.keys(metrics) as Metric[];

/** One measurement of one system on one workload in one repeat. */
export interface Sample {
  system: string;
  metric: Metric;
  repeat: number;
  value: number;
}

export interface Summary {
  system: string;
  metric: Metric;
  median: number;
  min: number;
  max: number;
  runs: number;
  /** median / the reference system's median (l4lb); undefined when either is missing. */
  vsReference: number | undefined;
  /** median / the ceiling's median (direct). */
  vsCeiling: number | undefined;
}

/** The middle value; the mean of the two middle ones for an even count. Throws on none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The q-quantile (0..1) of sorted values by the nearest-rank method. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** a / b, or undefined when it would mean nothing (missing or zero denominator). */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return a / b;
}

/** Medians per (system, metric) in the given system order, each with its two ratios. */
export function summarize(samples: readonly Sample[], systems: readonly string[], reference: string, ceiling: string): Summary[] {
  const values = new Map<string, number[]>();
  const key = (system: string, metric: Metric) => `${system}\u0000${metric}`;
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    const list = values.get(key(s.system, s.metric)) ?? [];
    list.push(s.value);
    values.set(key(s.system, s.metric), list);
  }
  const medianOf = (system: string, metric: Metric) => {
    const list = values.get(key(system, metric));
    return list ? median(list) : undefined;
  };
  const out: Summary[] = [];
  for (const metric of metricOrder) {
    for (const system of systems) {
      const list = values.get(key(system, metric));
      if (!list) continue;
      const m = median(list);
      out.push({
        system,
        metric,
        median: m,
        min: Math.min(...list),
        max: Math.max(...list),
        runs: list.length,
        vsReference: ratio(m, medianOf(reference, metric)),
        vsCeiling: ratio(m, medianOf(ceiling, metric)),
      });
    }
  }
  return out;
}

/** A number with thin grouping (12 345.6), so wide figures stay readable in a table. */
export function formatNumber(value: number, digits: number): string {
  const [whole, fraction] = Math.abs(value).toFixed(digits).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return `${value < 0 ? '-' : ''}${grouped}${fraction ? `.${fraction}` : ''}`;
}

export function formatRatio(r: number | undefined): string {
  return r === undefined ? '–' : `${r.toFixed(2)}×`;
}

/** A Markdown table; `right` marks the columns aligned right (numbers). */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const line = (cells: readonly string[]) => `| ${cells.map(escape).join(' | ')} |`;
  const rule = `| ${headers.map((_, i) => (right[i] ? '---:' : '---')).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** The comparison: one row per workload and system, the median with its spread and ratios. */
export function comparisonTable(summaries: readonly Summary[], reference: string, ceiling: string): string {
  const rows = summaries.map((s) => {
    const info: MetricInfo = metrics[s.metric];
    const spread = s.runs > 1 ? `${formatNumber(s.min, info.digits)} – ${formatNumber(s.max, info.digits)}` : '';
    return [
      `${info.label} (${info.unit}${info.higherIsBetter ? '' : ', lower is better'})`,
      s.system,
      formatNumber(s.median, info.digits),
      spread,
      String(s.runs),
      formatRatio(s.vsReference),
      formatRatio(s.vsCeiling),
    ];
  });
  return markdownTable(['workload', 'system', 'median', 'min – max', 'runs', `× ${reference}`, `× ${ceiling}`], rows, [false, false, true, true, true, true, true]);
}

/** Per metric, the systems `reference` is ahead of and behind (by median), for the summary lines. */
export function standing(summaries: readonly Summary[], reference: string): { metric: Metric; ahead: string[]; behind: string[] }[] {
  return metricOrder.flatMap((metric) => {
    const own = summaries.find((s) => s.metric === metric && s.system === reference);
    if (!own) return [];
    const better = metrics[metric].higherIsBetter ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    const others = summaries.filter((s) => s.metric === metric && s.system !== reference);
    return [{
      metric,
      ahead: others.filter((o) => better(own.median, o.median)).map((o) => o.system),
      behind: others.filter((o) => better(o.median, own.median)).map((o) => o.system),
    }];
  });
}
