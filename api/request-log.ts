// One log line per request, after the response: reads (the admin panel polls every 2 s,
// Prometheus scrapes) at debug so they do not drown what matters, writes at info, failures
// of the server itself are logged where they happen (problems.ts). Fastify's own pair of
// lines per request is turned off in app.ts.

import type { FastifyInstance } from 'fastify';

const reads = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const level = reads.has(request.method) ? 'debug' : 'info';
    request.log[level](
      { method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime * 100) / 100 },
      'request completed',
    );
  });
}
