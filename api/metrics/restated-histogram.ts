// A histogram whose buckets something else keeps (the data plane's burst durations): each
// scrape restates them, like restated-metric.ts does for counters and gauges. prom-client's
// Histogram only grows by observe(), so this is a small metric of its own that the registry
// formats like a Histogram: cumulative `_bucket` series with `le` up to +Inf, `_sum`, `_count`.

import type { Histogram, Registry } from 'prom-client';
import type { Labels } from './restated-metric.js';

/** One labelled histogram as its keeper holds it. */
export interface HistogramSample {
  labels: Labels;
  /** Finite upper bounds (inclusive), ascending, in the metric's unit. */
  bounds: number[];
  /** Per bucket, not cumulative: one more than bounds, the last for values above them (+Inf). */
  counts: number[];
  sum: number;
}

interface Value {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

function exposition(name: string, { labels, bounds, counts, sum }: HistogramSample): Value[] {
  let cumulative = 0;
  const buckets = counts.map((count, i): Value => {
    cumulative += count;
    return { metricName: `${name}_bucket`, labels: { ...labels, le: i < bounds.length ? bounds[i] : '+Inf' }, value: cumulative };
  });
  return [...buckets, { metricName: `${name}_sum`, labels, value: sum }, { metricName: `${name}_count`, labels, value: cumulative }];
}

/** Registers a histogram that reads `read(status())` at every scrape (no series when status() is undefined). */
export function restatedHistogram<S>(registry: Registry, name: string, help: string, read: (s: S) => HistogramSample[], status: () => S | undefined): void {
  const get = async () => {
    const s = status();
    return { name, help, type: 'histogram' as const, aggregator: 'sum' as const, values: s === undefined ? [] : read(s).flatMap((sample) => exposition(name, sample)) };
  };
  // The registry asks a metric for name, type, get() (metrics() prefers getForPromString(), as
  // it does of a Histogram) and reset(); nothing to reset here, the keeper holds the values.
  const metric = { name, help, type: 'histogram', aggregator: 'sum', get, getForPromString: get, reset: () => {} };
  registry.registerMetric(metric as unknown as Histogram);
}
