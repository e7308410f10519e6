// Builds the HTTP application: plugins first (errors, auth, docs, metrics), then one file per
// resource. The server entry (bin/l4lb.ts) is separate so tests build the app and `inject`.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Store } from '../store/store.js';
import { LocalWriter, type ConfigWriter } from '../store/config-writer.js';
import type { ConfigStoreStatus, EtcdConfigStore } from '../store/etcd/etcd-config-store.js';
import type { Engine } from '../engine/engine.js';
import type { Reconciler } from '../engine/reconciler.js';
import type { HealthMonitor } from '../engine/health/monitor.js';
import { registerAuth } from './auth.js';
import { registerBrowserGuard } from './browser-guard.js';
import { registerDocs } from './docs.js';
import { registerHealth } from './health.js';
import { registerHealthChecks } from './health-checks.js';
import { registerLocalAddressPools } from './local-address-pools.js';
import { createMetrics, type ApiMetrics } from './metrics/metrics.js';
import { registerNics } from './nics.js';
import { compileValidator } from './openapi.js';
import { registerPanel } from './panel.js';
import { registerProblems, sendProblem, toProblem } from './problems.js';
import { registerRateLimit, type RateLimit } from './rate-limit.js';
import { registerRealServers } from './real-servers.js';
import { RequestLog } from './request-log.js';
import { registerRoutes } from './routes.js';
import { registerSessions } from './sessions.js';
import { registerBgp } from './bgp.js';
import { registerSync } from './sync.js';
import { registerConfigStore } from './config-store.js';
import { registerVirtualServices } from './virtual-services.js';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    /** Where writes commit: SQLite, or etcd for cluster-wide kinds (`--config-store etcd://…`). */
    configWriter: ConfigWriter;
    /** What the configuration store reports: backend, and for etcd its connection and revisions. */
    configStore: () => ConfigStoreStatus;
    reconciler: Reconciler;
    /** The data plane, through its contract: status, sessions, sync. Writes go through the store. */
    engine: Engine;
    /** The health checker, when one runs (not with --engine off). */
    health: HealthMonitor | null;
    apiMetrics: ApiMetrics;
  }
}

export interface AppOptions {
  store: Store;
  /** An etcd configuration store; without it every write commits to `store`. */
  etcd?: EtcdConfigStore;
  reconciler: Reconciler;
  health?: HealthMonitor;
  /** Bearer token every non-public request must carry; none means open (loopback only by default). */
  token?: string;
  /** Requests per second each client address may make (none: unlimited, as in tests). */
  rateLimit?: RateLimit;
  /** Host names a token-less API answers to besides loopback names and IP literals. */
  allowedHosts?: string[];
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For names the client (rate limit, logs). */
  trustProxy?: string[];
  logger?: FastifyServerOptions['logger'];
}

/**
 * Largest request body accepted. Most objects are a few KiB; a virtual service's accessControl
 * may hold 2 × 65536 prefixes, up to 49 characters each: ~6.8 MB as compact JSON, ~8 MB
 * indented. Validating such a body takes a few hundred ms (test/api/access-control.test.ts).
 */
const bodyLimit = 16 * 1024 * 1024;

/**
 * JSON and JSON merge patch bodies. An empty body is accepted as "no body" (the Terraform
 * REST provider sends `Content-Type: application/json` with an empty DELETE); where a body
 * is required, validation then says so.
 */
function registerBodyParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // JSON only: Fastify's own text/plain parser would make other bodies a 400, not a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string', bodyLimit },
    (request, body, done) => {
      if (body === '') return done(null, undefined);
      return parseJson(request, body as string, done);
    },
  );
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new RequestLog(),
    bodyLimit,
    ...(options.trustProxy?.length ? { trustProxy: options.trustProxy } : {}),
    // A name may be 128 characters (openapi.yaml Name); the router's default limit is 100.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 128 },
    // What the router refuses before any route runs (a malformed escape, a parameter over the limit) is a problem too.
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, toProblem(error)),
  });
  app.decorate('store', options.store);
  app.decorate<ConfigWriter>('configWriter', options.etcd ?? new LocalWriter(options.store));
  app.decorate('configStore', options.etcd ? () => options.etcd!.status() : () => ({ backend: 'sqlite' as const }));
  app.decorate('reconciler', options.reconciler);
  app.decorate('engine', options.reconciler.engine);
  app.decorate('health', options.health ?? null);
  app.setValidatorCompiler(({ schema, httpPart }) => compileValidator(schema as Record<string, unknown>, httpPart));
  registerBodyParsers(app);
  registerProblems(app);
  registerRateLimit(app, options.rateLimit);
  registerBrowserGuard(app, { checkHost: !options.token, allowedHosts: options.allowedHosts ?? [] });
  registerAuth(app, options.token);
  await registerDocs(app);
  app.decorate('apiMetrics', createMetrics(app));
  registerHealth(app);
  registerNics(app);
  registerRoutes(app);
  registerLocalAddressPools(app);
  registerHealthChecks(app);
  registerVirtualServices(app);
  registerRealServers(app);
  registerSync(app);
  registerConfigStore(app);
  registerBgp(app);
  registerSessions(app);
  registerPanel(app);
  return app;
}
