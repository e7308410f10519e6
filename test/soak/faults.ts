// The soak's faults, played in turn on a schedule: rs2 flapping once, the second server
// line cut and restored, Redis killed and restarted, a short SYN burst. Each waits for the
// appliance to report the fault and then its recovery (bounded waits), and records the
// traffic window in which failures are expected, as the fault test does
// (test/e2e/faults.test.ts); a fault not reported or not recovered is an error of its own.

import { services, type FaultLab } from '../e2e/fault-lab.js';
import { waitFor } from '../e2e/netns.js';
import { synFlood } from '../e2e/syn-flood.js';
import { waitSyncState } from '../e2e/sync-lab.js';
import type { AllowedWindow } from '../e2e/traffic-watch.js';

export interface FaultRecord {
  fault: string;
  at: number;
  /** From the fault to the appliance reporting it recovered. */
  recoveredMs?: number;
  error?: string;
}

type Fault = (lab: FaultLab, windows: AllowedWindow[]) => Promise<void>;

const faults: Record<string, Fault> = {
  'rs2 flap': async (lab, windows) => {
    const from = Date.now();
    await lab.stopNginx('rs2');
    try {
      await lab.waitHealth('web', 'rs2', 'server', 'down');
      windows.push({ why: 'rs2 stopped, not yet marked down', from, to: Date.now(), servers: [null, 'rs2'] });
    } finally {
      await lab.startNginx('rs2');
    }
    await lab.waitHealth('web', 'rs2', 'server', 'up');
  },
  'line cut': async (lab) => {
    await lab.cutLine();
    try {
      await lab.waitHealth('side', 'rs3', 'server2', 'down');
    } finally {
      await lab.restoreLine();
    }
    await lab.waitHealth('side', 'rs3', 'server2', 'up');
  },
  'redis restart': async (lab) => {
    await lab.redis.stop('SIGKILL');
    try {
      await waitSyncState(lab.lb, 'degraded');
    } finally {
      await lab.redis.start();
    }
    await waitSyncState(lab.lb, 'synced');
  },
  'SYN burst': async (lab, windows) => {
    const from = Date.now();
    try {
      await synFlood(lab.topo, { address: services.flood.vip, port: services.flood.port, count: 3000, rate: 3000, maxSeconds: 2 });
      await waitFor('the burst\'s sessions to expire', async () => (await lab.metrics())('l4lb_sessions') < lab.capacity / 2, 100, 100);
    } finally {
      windows.push({ why: 'a SYN burst filled the session table', from, to: Date.now(), kind: 'new' });
    }
  },
};

export const faultNames = Object.keys(faults);

/** Plays faults in turn, one every `everyMs`, until `until()`; records each. */
export async function playFaults(lab: FaultLab, everyMs: number, until: () => boolean, windows: AllowedWindow[]): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (let i = 0; ; i++) {
    const next = Date.now() + everyMs;
    while (!until() && Date.now() < next) await new Promise((r) => setTimeout(r, Math.min(500, next - Date.now())));
    if (until()) return records;
    const fault = faultNames[i % faultNames.length]!;
    const record: FaultRecord = { fault, at: Date.now() };
    try {
      await faults[fault]!(lab, windows);
      record.recoveredMs = Date.now() - record.at;
    } catch (err) {
      record.error = (err as Error).message;
    }
    records.push(record);
  }
}
