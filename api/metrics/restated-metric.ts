// Metrics whose values something else keeps (the data plane's counters, the sync bridge's):
// each scrape restates them. A counter is reset and increased by the keeper's total, which
// stays monotonic because the keeper's is.

import { Counter, Gauge, type Registry } from 'prom-client';

export type Labels = Record<string, string>;
export type Sample = [labels: Labels, value: number];

/** Registers a metric that reads `read(status())` at every scrape (nothing when status() is undefined). */
export function restatedMetric<S>(kind: 'counter' | 'gauge', registry: Registry, name: string, help: string, labelNames: string[], read: (s: S) => Sample[], status: () => S | undefined): void {
  const collect = function (this: Counter | Gauge) {
    this.reset();
    const s = status();
    if (s === undefined) return;
    for (const [labels, value] of read(s)) {
      if (this instanceof Gauge) this.set(labels, value);
      else this.inc(labels, value);
    }
  };
  if (kind === 'counter') new Counter({ name, help, labelNames, registers: [registry], collect });
  else new Gauge({ name, help, labelNames, registers: [registry], collect });
}
