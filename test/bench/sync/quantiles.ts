// Quantiles for the sync benchmark: of raw samples, and of a Prometheus histogram between two
// scrapes (the appliance keeps the lag histogram; the benchmark reads what one phase added).

/** The q-quantile (0..1) of `samples` by nearest rank; NaN when there are none. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Cumulative bucket counts of histogram `name` in a Prometheus text scrape, by upper bound. */
export function histogramBuckets(scrape: string, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  const pattern = new RegExp(`^${name}_bucket\\{(?:.*,)?le="([^"]+)"(?:,.*)?\\} (\\S+)$`, 'gm');
  for (const m of scrape.matchAll(pattern)) {
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

/**
 * The q-quantile of what a histogram gained between two scrapes, as the upper bound of the
 * bucket it falls in (so "≤ 2 ms" reads as 2). NaN when nothing was observed.
 */
export function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return NaN;
  for (const le of bounds) if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= q * total) return le;
  return Infinity;
}

/** The value of a counter or gauge sample, summed over its label sets; 0 when absent. */
export function sampleSum(scrape: string, name: string, labels = ''): number {
  const pattern = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm');
  let sum = 0;
  for (const m of scrape.matchAll(pattern)) if (!labels || (m[1] ?? '').includes(labels)) sum += Number(m[2]);
  return sum;
}
