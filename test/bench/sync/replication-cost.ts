// What replication costs each node while sessions open at a fixed rate: records it publishes
// and installs per second, and its CPU (the whole appliance process: workers forwarding the
// SYNs, the bridge encoding and decoding) per 100k records a second it handles (sent +
// installed). Measured the same way on the active/backup pair and on the three-node cluster,
// so the report can put them side by side.

import type { Appliance } from '../../e2e/appliance.js';
import { processCpuSeconds } from '../suite/cpu.js';

export interface NodeCost {
  node: string;
  sentPerSecond: number;
  installedPerSecond: number;
  /** CPU seconds per second (cores) for each 100k records/s sent or installed. */
  coresPer100k: number;
}

interface Reading {
  sent: number;
  installed: number;
  cpu: number;
}

async function read(a: Appliance): Promise<Reading> {
  const records = (await a.ok('GET', '/api/v1/sync')).status.records as { sent: number; installed: number };
  return { sent: records.sent, installed: records.installed, cpu: processCpuSeconds(a.child.pid!) };
}

/**
 * Runs `load` and returns each node's cost over it: rates over the load's duration, CPU per
 * record over the load and the second after it (the last batches landing), so that CPU time
 * spent on records sent near the end is counted with them.
 */
export async function replicationCost(nodes: Record<string, Appliance>, load: () => Promise<unknown>): Promise<NodeCost[]> {
  const entries = Object.entries(nodes);
  const before = await Promise.all(entries.map(([, a]) => read(a)));
  const t0 = performance.now();
  await load();
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const after = await Promise.all(entries.map(([, a]) => read(a)));
  return entries.map(([node], i) => {
    const sent = after[i]!.sent - before[i]!.sent;
    const installed = after[i]!.installed - before[i]!.installed;
    const cpu = after[i]!.cpu - before[i]!.cpu;
    // cores per 100k records/s = (cpu / s) / (records / s) × 100k = cpu / records × 100k
    return { node, sentPerSecond: sent / seconds, installedPerSecond: installed / seconds, coresPer100k: sent + installed > 0 ? (cpu / (sent + installed)) * 100_000 : NaN };
  });
}
