// Per-client rate limiting of the API: a token bucket per remote address, refilled at
// `perSecond` and holding at most one second's worth, so a client may burst that many
// requests and then gets 429 problems with Retry-After. It runs before authentication, so
// guessing tokens is limited too. Not limited: the orchestrators' probes, and requests over
// a Unix socket (local processes the socket file's permissions already admit).

import type { FastifyInstance } from 'fastify';
import { Problem, sendProblem } from './problems.js';

export interface RateLimit {
  /** Requests per second per client address; 0 turns limiting off. */
  perSecond: number;
}

/** Above this many tracked clients, buckets that have refilled are forgotten (they start full anyway). */
const maxTrackedClients = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

const unlimitedPaths = new Set(['/healthz', '/readyz']);

export function registerRateLimit(app: FastifyInstance, limit: RateLimit | undefined): void {
  if (!limit || limit.perSecond <= 0) return;
  const { perSecond } = limit;
  const buckets = new Map<string, Bucket>();
  const forgetFull = (now: number) => {
    for (const [key, bucket] of buckets) if (now - bucket.at >= 1000) buckets.delete(key);
  };

  app.addHook('onRequest', async (request, reply) => {
    // request.ip is the socket's address, or X-Forwarded-For's from a --trust-proxy proxy.
    const client = request.socket.remoteAddress === undefined ? undefined : request.ip;
    if (!client || unlimitedPaths.has(request.url.split('?')[0])) return;
    const now = performance.now();
    let bucket = buckets.get(client);
    if (!bucket) {
      if (buckets.size >= maxTrackedClients) forgetFull(now);
      bucket = { tokens: perSecond, at: now };
      buckets.set(client, bucket);
    }
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryAfter = Math.ceil((1 - bucket.tokens) / perSecond);
    reply.header('retry-after', String(retryAfter));
    return sendProblem(reply, request, new Problem(429, 'rate-limited', `more than ${perSecond} requests per second from ${client}; retry after ${retryAfter} s`));
  });
}
