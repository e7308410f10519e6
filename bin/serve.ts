import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import type { Engine } from '../engine/engine.js';
import { DpdkEngine } from '../engine/dataplane/dpdk-engine.js';
import { HealthMonitor } from '../engine/health/monitor.js';
import { OffEngine } from '../engine/off-engine.js';
import { Reconciler } from '../engine/reconciler.js';
import { openDb } from '../store/db.js';
import { Store } from '../store/store.js';
import { hostname } from 'node:os';
import { clusterSpec } from '../api/config-store.js';
import { EtcdConfigStore } from '../store/etcd/etcd-config-store.js';
import type { ServeOptions } from './options.js';

function createEngine(options: ServeOptions): Engine {
  if (options.engine === 'off') return new OffEngine();
  return new DpdkEngine({ ...options, protectManagement: options.allowManagementInterface ? null : options.listen });
}

/**
 * With `--config-store etcd://…`, the etcd store of the cluster-wide objects. Without it,
 * objects copied from etcd by an earlier run become this node's own.
 */
function etcdStore(options: ServeOptions, store: Store): EtcdConfigStore | undefined {
  const { location, tls, auth } = options.configStore;
  if (location.backend === 'sqlite') {
    store.clearSource();
    return undefined;
  }
  return new EtcdConfigStore(store, {
    endpoints: location.endpoints,
    prefix: location.prefix,
    ...(tls ? { tls } : {}),
    ...(auth ? { auth } : {}),
    node: `${hostname()}:${process.pid}`,
    check: clusterSpec,
  });
}

/** Opens the store, starts the engine on the stored configuration and the health checker, then serves the API. */
export async function serve(options: ServeOptions): Promise<FastifyInstance> {
  const warnings: string[] = [];
  const store = new Store(openDb(options.db, (message) => warnings.push(message)));
  const etcd = etcdStore(options, store);
  const engine = createEngine(options);
  const reconciler = new Reconciler(store, engine);
  // Probes leave through the data plane's exception interfaces: without one there is nothing to check.
  const health = engine.mode === 'dpdk' ? new HealthMonitor(store, engine) : undefined;
  const app = await buildApp({
    store,
    ...(etcd ? { etcd } : {}),
    reconciler,
    ...(health ? { health } : {}),
    ...(options.token ? { token: options.token } : {}),
    rateLimit: { perSecond: options.rateLimit },
    allowedHosts: options.allowedHosts,
    trustProxy: options.trustProxy,
    logger: { level: options.logLevel, redact: ['req.headers.authorization'] },
  });
  for (const message of warnings) app.log.warn(message);
  if (options.insecureNoAuth && !options.token) app.log.warn({ listen: options.listen }, 'the API needs no token (--insecure-no-auth): anyone who reaches it can reconfigure the load balancer');
  reconciler.start(app.log);
  etcd?.start(app.log);
  health?.start(app.log);
  app.addHook('onClose', async () => {
    await etcd?.close();
    await health?.close();
    await engine.close();
    store.close();
  });
  if ('path' in options.listen) {
    rmSync(options.listen.path, { force: true });
    await app.listen({ path: options.listen.path });
  } else {
    await app.listen({ host: options.listen.host, port: options.listen.port });
  }
  return app;
}
