import type { FastifyInstance } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isPanelPath } from './panel.js';
import { Problem, sendProblem } from './problems.js';

/**
 * Paths anyone may read: probes for orchestrators, the API's own documentation, and the admin
 * panel's static files (its data comes from the API, with the token).
 */
function isPublic(url: string): boolean {
  const path = url.split('?')[0];
  return path === '/healthz' || path === '/readyz' || path === '/openapi.json' || path === '/openapi.yaml' || path === '/docs' || path.startsWith('/docs/') || isPanelPath(path);
}

// Comparing SHA-256 digests keeps the comparison constant-time whatever the lengths.
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** With a token configured, every other request needs `Authorization: Bearer <token>`. */
export function registerAuth(app: FastifyInstance, token: string | undefined): void {
  if (!token) return;
  const expected = digest(token);
  app.addHook('onRequest', async (request, reply) => {
    if (isPublic(request.url)) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match && timingSafeEqual(digest(match[1].trim()), expected)) return;
    reply.header('www-authenticate', 'Bearer realm="l4lb"');
    return sendProblem(reply, request, new Problem(401, 'unauthorized', match ? 'the bearer token is wrong' : 'this request needs Authorization: Bearer <token>'));
  });
}
