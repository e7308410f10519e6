// Keeps web pages from driving the API through a user's browser.
//
// DNS rebinding: a page on attacker.example re-points its name at 127.0.0.1 and then talks to
// the appliance as a same-origin page, so a token-less API must refuse a Host it does not
// know. IP literals are safe (a page cannot own an address's origin without being there),
// and so are loopback names and the names the operator lists (--allowed-hosts). Requests on
// the Unix socket cannot come from a browser and are not checked.
//
// Cross-site writes: a state-changing request whose Origin is not the API's own (or an
// allowed host's) is refused whatever the authentication, so the admin panel keeps working
// from its own origin and nothing else can write through a browser. Tools that are not
// browsers (curl, Terraform) send no Origin.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { Problem, sendProblem } from './problems.js';

export interface BrowserGuard {
  /** Check Host against DNS rebinding: when the API has no token. */
  checkHost: boolean;
  /** Host names (lower case, no port) accepted besides loopback names and IP literals. */
  allowedHosts: string[];
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The host name of a Host header value, without port or brackets, in lower case. */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(host);
  if (bracketed) return bracketed[1].toLowerCase();
  const colon = host.lastIndexOf(':');
  return (colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host).toLowerCase();
}

export function registerBrowserGuard(app: FastifyInstance, guard: BrowserGuard): void {
  const allowed = new Set(guard.allowedHosts);
  const knownHost = (name: string) => isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || allowed.has(name);

  function foreignOrigin(request: FastifyRequest): string | undefined {
    const origin = request.headers.origin;
    if (origin === undefined || safeMethods.has(request.method)) return undefined;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return origin;
    }
    const sameOrigin = url.host.toLowerCase() === (request.headers.host ?? '').toLowerCase();
    return sameOrigin || allowed.has(url.hostname.toLowerCase()) ? undefined : origin;
  }

  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (guard.checkHost && host !== undefined && request.socket.remoteAddress !== undefined && !knownHost(hostName(host))) {
      return sendProblem(
        reply,
        request,
        new Problem(421, 'misdirected-request', `this API does not answer to host '${hostName(host)}'; list it with --allowed-hosts or use a token`),
      );
    }
    const origin = foreignOrigin(request);
    if (origin !== undefined) {
      return sendProblem(reply, request, new Problem(403, 'forbidden', `a ${request.method} from origin '${origin}' is refused: only the API's own origin may change it`));
    }
  });
}
