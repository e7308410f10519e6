// The session-sync settings: one object at /api/v1/sync (GET, PUT, PATCH). Until first
// written it reads as its defaults with resourceVersion 0. The Redis password is write-only:
// never shown, kept when a write leaves it out (so a read-back object can be PUT as is),
// removed by an empty string or a null in a patch. The status is the sync bridge's: its
// state, the peers heard from, records, batches, snapshots, lag and the last error.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hostname } from 'node:os';
import type { Spec } from '../store/kinds.js';
import type { StoredObject } from '../store/store.js';
import { invalid } from '../store/errors.js';
import { redisUrlProblem } from '../engine/sync/settings.js';
import { componentValidator, fastifyPath, operationSchema } from './openapi.js';
import { checkPreconditions, patchedSpec, render, sendObject, specFromBody, write, type Body } from './resource.js';

const path = '/api/v1/sync';
const name = 'sync';

/** A Name-shaped default node id from the host name. */
function defaultNodeId(): string {
  return hostname().replace(/[^A-Za-z0-9._~-]/g, '-').slice(0, 128) || 'node';
}

function defaults(): StoredObject {
  const spec: Spec = { nodeId: defaultNodeId() };
  componentValidator('Sync')(spec);
  return { name, scope: '', spec, resourceVersion: 0, createdAt: '', updatedAt: '' };
}

function show(app: FastifyInstance, object: StoredObject): Body {
  const { redisPassword, ...visible } = object.spec;
  // What the engine's sync bridge reports now; with sync off there is no bridge to ask.
  const bridge = app.engine.syncStatus();
  const shown = render(app, { ...object, spec: visible }, {
    redisPasswordSet: typeof redisPassword === 'string' && redisPassword !== '',
    ...bridge,
    state: visible.enabled ? bridge.state : 'disabled',
  });
  delete shown.name;
  if (object.resourceVersion === 0) {
    // Never written: the defaults have no history to show.
    const status = shown.status as Body;
    delete status.createdAt;
    delete status.updatedAt;
  }
  return shown;
}

function finish(spec: Spec, previous: Spec | undefined, request: FastifyRequest): Spec {
  const body = request.body as Body;
  if (!('redisPassword' in body) && previous?.redisPassword !== undefined) spec.redisPassword = previous.redisPassword;
  if (spec.redisPassword === '') delete spec.redisPassword;
  spec.nodeId ??= defaultNodeId();
  if (spec.enabled && !spec.redisUrl) throw invalid('/redisUrl', 'is required when sync is enabled');
  const problem = typeof spec.redisUrl === 'string' ? redisUrlProblem(spec.redisUrl) : undefined;
  if (problem) throw invalid('/redisUrl', problem);
  return spec;
}

export function registerSync(app: FastifyInstance): void {
  const current = () => app.store.get('settings', '', name);
  // Degraded means records are being lost: worth a warning; the rest is the normal course.
  app.engine.onSyncStateChange((change) =>
    app.log[change.state === 'degraded' ? 'warn' : 'info']({ sync: change }, `sync ${change.state}${change.role ? ` (${change.role})` : ''}: ${change.cause}`),
  );

  app.get(fastifyPath(path), { schema: operationSchema(path, 'get') }, async (_request, reply) => {
    const object = current() ?? defaults();
    return sendObject(reply, 200, object, show(app, object));
  });

  app.put(fastifyPath(path), { schema: operationSchema(path, 'put') }, async (request, reply) => {
    const object = write(request, (tx) => {
      const stored = tx.get('settings', '', name);
      checkPreconditions(request, stored ?? defaults());
      return tx.put('settings', '', name, finish(specFromBody(request.body as Body), stored?.spec, request));
    });
    return sendObject(reply, 200, object, show(app, object));
  });

  app.patch(fastifyPath(path), { schema: operationSchema(path, 'patch') }, async (request, reply) => {
    const object = write(request, (tx) => {
      const stored = tx.get('settings', '', name);
      const base = stored ?? defaults();
      checkPreconditions(request, base);
      const spec = patchedSpec('Sync', base.spec, request.body as Body);
      return tx.put('settings', '', name, finish(spec, stored?.spec, request));
    });
    return sendObject(reply, 200, object, show(app, object));
  });
}
