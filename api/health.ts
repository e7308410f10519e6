import type { FastifyInstance } from 'fastify';

/**
 * Liveness answers while the process serves HTTP. Readiness needs the engine to run the
 * stored configuration: its applied generation has caught up and its last apply succeeded.
 */
export function registerHealth(app: FastifyInstance): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const { reconciler, store } = app;
    const generation = store.generation();
    const ready = reconciler.lastError === undefined && reconciler.appliedGeneration === generation;
    const body: Record<string, unknown> = {
      status: ready ? 'ok' : 'unavailable',
      engine: app.engine.mode,
      generation,
      appliedGeneration: reconciler.appliedGeneration,
    };
    if (reconciler.lastError !== undefined) body.detail = reconciler.lastError;
    return reply.code(ready ? 200 : 503).send(body);
  });
}
