// Many API requests at once over the appliance's Unix socket (the rate limiter applies to
// TCP clients only): reads of lists, status and metrics mixed with writes that change a
// server's weight (both weights above 0, so traffic is only re-spread) and a health check no
// service uses. Half of the weight changes carry the resourceVersion read before them, so
// concurrent writers collide: 412 is the one refusal expected.

import type { Appliance } from './appliance.js';

export interface HammerOptions {
  requests: number;
  concurrency: number;
  /** The real server whose weight toggles between 1 and 2, as `service/server`. */
  weightOf: string;
}

export interface HammerResult {
  byStatus: Record<number, number>;
  /** Requests answered with a status nothing expects, or that failed outright. */
  unexpected: { method: string; path: string; status: number | string; detail: string }[];
}

interface Op {
  method: string;
  path: string;
  body?: () => Promise<unknown> | unknown;
  /** 4xx statuses this operation may get besides 2xx. */
  allowed?: number[];
}

function operations(a: Appliance, weightOf: string): Op[] {
  const [service, server] = weightOf.split('/');
  const rsPath = `/api/v1/virtual-services/${service}/real-servers/${server}`;
  let weight = 1;
  const nextWeight = () => (weight = 3 - weight);
  return [
    { method: 'GET', path: '/api/v1/virtual-services' },
    { method: 'GET', path: `/api/v1/virtual-services/${service}/real-servers` },
    { method: 'GET', path: '/api/v1/nics' },
    { method: 'GET', path: '/api/v1/sync' },
    { method: 'GET', path: '/api/v1/sessions?limit=100' },
    { method: 'GET', path: '/metrics' },
    { method: 'GET', path: '/readyz' },
    { method: 'PATCH', path: rsPath, body: () => ({ weight: nextWeight() }) },
    {
      method: 'PATCH',
      path: rsPath,
      body: async () => ({ weight: nextWeight(), resourceVersion: (await a.ok('GET', rsPath)).resourceVersion }),
      allowed: [412],
    },
    { method: 'PUT', path: '/api/v1/health-checks/spare', body: () => ({ type: 'tcp', intervalMs: 1000 + Math.floor(Math.random() * 1000) }) },
  ];
}

export async function hammerApi(a: Appliance, o: HammerOptions): Promise<HammerResult> {
  const ops = operations(a, o.weightOf);
  const result: HammerResult = { byStatus: {}, unexpected: [] };
  let next = 0;
  const worker = async () => {
    while (next < o.requests) {
      const op = ops[next++ % ops.length]!;
      try {
        const r = await a.api(op.method, op.path, op.body ? await op.body() : undefined);
        result.byStatus[r.status] = (result.byStatus[r.status] ?? 0) + 1;
        if ((r.status < 200 || r.status > 299) && !op.allowed?.includes(r.status))
          result.unexpected.push({ method: op.method, path: op.path, status: r.status, detail: JSON.stringify(r.body).slice(0, 300) });
      } catch (err) {
        result.unexpected.push({ method: op.method, path: op.path, status: 'error', detail: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return result;
}
