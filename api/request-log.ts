// Fastify's per-request log lines at sensible levels: nothing when a request arrives, one
// line when it completes — reads (the admin panel polls every 2 s, Prometheus scrapes) at
// debug so they do not drown what matters, writes at info, errors at error as Fastify does.
// Unknown routes are logged like any other request rather than as a line of their own.

import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

const reads = new Set(['GET', 'HEAD', 'OPTIONS']);

export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override routeNotFound(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const details = { method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime * 100) / 100 };
    if (error) return reply.log.error({ ...details, err: error }, 'request errored');
    reply.log[reads.has(request.method) ? 'debug' : 'info'](details, 'request completed');
  }
}
