// Configuration churn for the soak: a service that is created, given real servers, patched
// and deleted again, one write at a time at a bounded rate, for as long as the soak runs. It
// lives on the second VIP beside `flood` and `side` and sends to the same nginx, so every
// write is a real apply in the data plane without touching the services traffic is watched on.

import type { Appliance } from '../e2e/appliance.js';
import { plan } from '../e2e/topology.js';

export interface ChurnStats {
  writes: number;
  /** Writes refused or failed, by `METHOD status`. */
  errors: Record<string, number>;
}

const base = '/api/v1/virtual-services/churn';

/** One round: every step a single write. */
function round(i: number): [method: string, path: string, body?: unknown][] {
  return [
    ['PUT', base, { address: plan.vips[1], port: 81, protocol: 'tcp', nic: 'client', localAddressPool: 'lips', scheduler: 'rr' }],
    ['PUT', `${base}/real-servers/rs1`, { address: plan.realServers.rs1, port: 80 }],
    ['PUT', `${base}/real-servers/rs2`, { address: plan.realServers.rs2, port: 80, weight: 1 + (i % 3) }],
    ['PATCH', base, { scheduler: i % 2 ? 'wrr' : 'mh' }],
    ['PATCH', `${base}/real-servers/rs2`, { weight: 0 }],
    ['DELETE', `${base}/real-servers/rs1`],
    ['DELETE', base],
  ];
}

/** Writes until `until()` says stop, one every `intervalMs`. */
export async function churn(a: Appliance, intervalMs: number, until: () => boolean): Promise<ChurnStats> {
  const stats: ChurnStats = { writes: 0, errors: {} };
  for (let i = 0; !until(); i++) {
    for (const [method, path, body] of round(i)) {
      if (until()) break;
      const status = await a.api(method, path, body).then((r) => r.status, (err: Error) => err.message);
      stats.writes++;
      if (typeof status !== 'number' || status >= 300) stats.errors[`${method} ${status}`] = (stats.errors[`${method} ${status}`] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
  // Leave nothing behind for the next round of a later run.
  await a.api('DELETE', base).catch(() => undefined);
  return stats;
}
