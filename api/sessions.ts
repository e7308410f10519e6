import type { FastifyInstance } from 'fastify';
import type { SessionQuery } from '../engine/engine.js';
import { fastifyPath, operationSchema } from './openapi.js';

const path = '/api/v1/sessions';

/** Live sessions, read from the engine; 503 (engine-unavailable) when it is off. */
export function registerSessions(app: FastifyInstance): void {
  const engine = () => app.reconciler.engine;

  app.get(fastifyPath(path), { schema: operationSchema(path, 'get') }, async (request) =>
    engine().sessions(request.query as SessionQuery),
  );

  app.delete(fastifyPath(path), { schema: operationSchema(path, 'delete') }, async (request, reply) => {
    engine().flushSessions((request.query as { virtualService?: string }).virtualService);
    return reply.code(204).send();
  });
}
