// An l4lb appliance running for real inside an LB namespace: the built binary started with
// `ip netns exec`, its API on a Unix socket under a per-run directory (a filesystem path, so
// the test in the root namespace reaches it), stopped by its PID.

import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../../lib/project-files.js';
import { nsSpawn, stopChild, waitFor } from './netns.js';
import { plan, type LbRole, type Topology } from './topology.js';

export interface ApiResponse {
  status: number;
  body: any;
}

export interface Appliance {
  readonly ns: string;
  readonly child: ChildProcess;
  readonly log: () => string;
  api(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** Like api() but throws unless the status is 2xx. */
  ok(method: string, path: string, body?: unknown): Promise<any>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it with SIGTERM and starts it again on the same database and socket. */
  restart(): Promise<Appliance>;
}

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text && /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(text) : text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Starts `l4lb serve --engine dpdk` in `ns` with `args` added, and waits until it answers.
 * `dir` holds its database and API socket (a new one unless given).
 */
export async function startAppliance(ns: string, args: string[] = [], dir = mkdtempSync(join(tmpdir(), 'l4e-lb-'))): Promise<Appliance> {
  const socketPath = join(dir, 'api.sock');
  const child = nsSpawn(ns, process.execPath, [
    projectFile('dist/bin/l4lb.js'),
    'serve',
    '--engine',
    'dpdk',
    '--listen',
    socketPath,
    '--db',
    join(dir, 'l4lb.db'),
    '--log-level',
    'warn',
    ...args,
  ]);
  let output = '';
  const keep = (d: Buffer) => {
    if (output.length < 65536) output += d.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const appliance: Appliance = {
    ns,
    child,
    log: () => output,
    api: (method, path, body) => call(socketPath, method, path, body),
    ok: async (method, path, body) => {
      const r = await call(socketPath, method, path, body);
      if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path} → ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    },
    stop: async (signal = 'SIGTERM') => {
      await stopChild(child, signal);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopChild(child, 'SIGTERM');
      return startAppliance(ns, args, dir);
    },
  };
  try {
    await waitFor('the appliance to answer', async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}): ${output}`);
      return (await appliance.api('GET', '/healthz')).status === 200;
    }, 150, 100);
  } catch (err) {
    await appliance.stop('SIGKILL');
    throw err;
  }
  return appliance;
}

export interface ServicePlan {
  lb: 'lb1' | 'lb2';
  vip: string;
  localAddress: string;
  probe: { client: string; server: string };
  vdev: (side: 'client' | 'server') => string;
}

/** The addressing of `lb`'s appliance: the `index`-th VIP and local address of the plan. */
export function servicePlan(topo: Topology, lb: LbRole, index: number): ServicePlan {
  return {
    lb,
    vip: plan.vips[index]!,
    localAddress: plan.localAddresses[index]!,
    probe: plan.probeAddresses[lb],
    vdev: (side) => topo.vdev(side, side === 'client' ? 0 : 1),
  };
}

/** The two NICs and the local address pool every forwarding test starts from. */
export async function configureNetwork(a: Appliance, p: ServicePlan): Promise<void> {
  await a.ok('PUT', '/api/v1/nics/client', { device: p.vdev('client'), networks: ['10.0.1.0/24'], probeAddress: p.probe.client });
  await a.ok('PUT', '/api/v1/nics/server', { device: p.vdev('server'), networks: ['10.0.2.0/24'], probeAddress: p.probe.server });
  await a.ok('PUT', '/api/v1/local-address-pools/lips', { nic: 'server', addresses: [p.localAddress] });
}

/** A virtual service on the plan's VIP with rs1 and rs2 as its real servers. */
export async function addService(
  a: Appliance,
  p: ServicePlan,
  name: string,
  port: number,
  protocol: 'tcp' | 'udp',
  scheduler: string,
  servers: Record<string, { address: string; weight?: number }>,
): Promise<void> {
  await a.ok('PUT', `/api/v1/virtual-services/${name}`, { address: p.vip, port, protocol, nic: 'client', localAddressPool: 'lips', scheduler });
  for (const [server, s] of Object.entries(servers))
    await a.ok('PUT', `/api/v1/virtual-services/${name}/real-servers/${server}`, { address: s.address, weight: s.weight ?? 1 });
}
