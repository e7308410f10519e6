// Prometheus metrics: process (prom-client defaults), HTTP requests, the configuration store,
// the data plane (engine-metrics.ts), health checks (health-metrics.ts) and session sync
// (sync-metrics.ts), an etcd configuration store (config-store-metrics.ts). Each app has its
// own registry so tests can build several apps.

import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ApplyCounts } from '../../engine/reconciler.js';
import { kinds, type KindName } from '../../store/kinds.js';
import { registerEngineMetrics } from './engine-metrics.js';
import { registerHealthMetrics } from './health-metrics.js';
import { restatedMetric, type Sample } from './restated-metric.js';
import { registerBgpMetrics } from './bgp-metrics.js';
import { registerConfigStoreMetrics } from './config-store-metrics.js';
import { registerSyncMetrics } from './sync-metrics.js';

export interface ApiMetrics {
  registry: Registry;
  configWriteSeconds: Histogram;
}

export function createMetrics(app: FastifyInstance): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'l4lb_' });

  const httpSeconds = new Histogram({
    name: 'l4lb_http_request_duration_seconds',
    help: 'HTTP requests served, by route, method and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const configWriteSeconds = new Histogram({
    name: 'l4lb_config_write_duration_seconds',
    help: 'Configuration write transactions, checks and engine apply included.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
    registers: [registry],
  });
  new Gauge({
    name: 'l4lb_config_objects',
    help: 'Configuration objects stored, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      for (const kind of Object.keys(kinds) as KindName[]) this.set({ kind }, app.store.count(kind));
    },
  });
  new Gauge({
    name: 'l4lb_engine_info',
    help: 'The data plane this appliance runs, as a label: dpdk, or off (API and store alone).',
    labelNames: ['mode'],
    registers: [registry],
    collect() {
      this.set({ mode: app.engine.mode }, 1);
    },
  });
  new Gauge({
    name: 'l4lb_config_generation',
    help: 'Generation of the stored configuration; every committed write adds one.',
    registers: [registry],
    collect() {
      this.set(app.store.generation());
    },
  });
  new Gauge({
    name: 'l4lb_config_applied_generation',
    help: 'Generation the engine has applied.',
    registers: [registry],
    collect() {
      this.set(app.reconciler.appliedGeneration);
    },
  });

  restatedMetric('counter', registry, 'l4lb_config_applies_total', 'Configuration commits the engine applied, refused (the write was rolled back), and restores after a write that failed to commit.', ['result'], (c: ApplyCounts): Sample[] => [
    [{ result: 'applied' }, c.applied],
    [{ result: 'refused' }, c.refused],
    [{ result: 'restored' }, c.restored],
  ], () => app.reconciler.counts);

  registerEngineMetrics(app, registry);
  registerHealthMetrics(app, registry);
  registerSyncMetrics(app, registry);
  registerBgpMetrics(app, registry);
  registerConfigStoreMetrics(app, registry);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpSeconds.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  return { registry, configWriteSeconds };
}
