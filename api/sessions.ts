import type { FastifyInstance } from 'fastify';
import type { SessionQuery } from '../engine/engine.js';
import { decodeCursor, encodeCursor } from './crud.js';
import { fastifyPath, operationSchema } from './openapi.js';
import { Problem } from './problems.js';

const path = '/api/v1/sessions';

type Query = Omit<SessionQuery, 'skip'> & { cursor?: string };

/** A sessions cursor carries how many matches came before the page (the collections' encoding). */
function skipOf(cursor: string | undefined): number {
  const text = decodeCursor(cursor) ?? '0';
  if (!/^\d+$/.test(text)) {
    throw new Problem(400, 'validation', 'cursor is not one this server issued', [
      { field: '/query/cursor', message: 'is not a valid cursor' },
    ]);
  }
  return Number(text);
}

/** Live sessions, read from the engine; 503 (engine-unavailable) when it is off. */
export function registerSessions(app: FastifyInstance): void {
  const engine = () => app.engine;

  app.get(fastifyPath(path), { schema: operationSchema(path, 'get') }, async (request) => {
    const { cursor, ...query } = request.query as Query;
    const page = await engine().sessions({ ...query, skip: skipOf(cursor) });
    return {
      items: page.items,
      ...(page.nextSkip !== undefined ? { nextCursor: encodeCursor(String(page.nextSkip)) } : {}),
    };
  });

  app.delete(fastifyPath(path), { schema: operationSchema(path, 'delete') }, async (request, reply) => {
    await engine().flushSessions((request.query as { virtualService?: string }).virtualService);
    return reply.code(204).send();
  });
}
