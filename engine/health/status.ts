// Health as the API shows it: per real server, one entry per NIC that probes it; per virtual
// service, a summary.

import type { HealthState, TargetHealth } from './state.js';
import type { HealthTarget } from './targets.js';

type HealthOf = (target: HealthTarget) => TargetHealth | undefined;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `status.health` of a real server: by NIC name. */
export function serverHealth(targets: HealthTarget[], healthOf: HealthOf): Record<string, unknown> {
  const byNic: Record<string, unknown> = {};
  for (const target of targets) {
    const h = healthOf(target);
    if (!h) continue;
    byNic[target.nic] = {
      state: h.state,
      since: iso(h.since),
      egress: target.egress,
      ...(h.last ? { lastResult: h.last.ok ? 'success' : 'failure', lastProbeAt: iso(h.last.at) } : {}),
      ...(h.lastError !== undefined ? { lastError: h.lastError } : {}),
      transitions: h.transitions,
    };
  }
  return byNic;
}

/** What decides the server's weight: the state seen through the NIC it is forwarded through. */
export function effectiveState(targets: HealthTarget[], healthOf: HealthOf): HealthState {
  const egress = targets.find((t) => t.egress);
  return (egress && healthOf(egress)?.state) ?? 'unknown';
}

export interface ServiceHealth {
  /** `degraded` when health takes any server out, all of them included (see `up`). */
  state: 'unchecked' | 'healthy' | 'degraded';
  up: number;
  down: number;
  unknown: number;
  /** NICs of this service's servers through which every probe fails (or whose link is down). */
  failingNics: string[];
}

/** `status.health` of a virtual service, from its servers' targets (grouped by server). */
export function serviceHealth(servers: HealthTarget[][], healthOf: HealthOf, failingNics: ReadonlySet<string>): ServiceHealth {
  const counts = { up: 0, down: 0, unknown: 0 };
  const nics = new Set<string>();
  for (const targets of servers) {
    counts[effectiveState(targets, healthOf)]++;
    for (const t of targets) if (failingNics.has(t.nic)) nics.add(t.nic);
  }
  const checked = counts.up + counts.down + counts.unknown;
  const state = checked === 0 ? 'unchecked' : counts.down > 0 ? 'degraded' : 'healthy';
  return { state, ...counts, failingNics: [...nics].sort() };
}
