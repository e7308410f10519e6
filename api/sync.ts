// The session-sync settings: one object at /api/v1/sync (GET, PUT, PATCH). Until first
// written it reads as its defaults with resourceVersion 0. The Redis password is write-only:
// never shown, kept when a write leaves it out (so a read-back object can be PUT as is),
// removed by an empty string or a null in a patch. The status is the sync bridge's: its
// state, the peers heard from, records, batches, snapshots, lag and the last error.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hostname } from 'node:os';
import type { Spec } from '../store/kinds.js';
import { invalid } from '../store/errors.js';
import { redisUrlProblem } from '../engine/sync/settings.js';
import type { Body } from './resource.js';
import { registerSettingsObject } from './settings-object.js';

/** A Name-shaped default node id from the host name. */
function defaultNodeId(): string {
  return hostname().replace(/[^A-Za-z0-9._~-]/g, '-').slice(0, 128) || 'node';
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
  // Degraded means records are being lost: worth a warning; the rest is the normal course.
  app.engine.onSyncStateChange((change) =>
    app.log[change.state === 'degraded' ? 'warn' : 'info']({ sync: change }, `sync ${change.state}${change.role ? ` (${change.role})` : ''}: ${change.cause}`),
  );
  registerSettingsObject(app, {
    path: '/api/v1/sync',
    name: 'sync',
    schema: 'Sync',
    defaults: () => ({ nodeId: defaultNodeId() }),
    visible: ({ redisPassword: _, ...visible }) => visible,
    status: (spec) => {
      // What the engine's sync bridge reports now; with sync off there is no bridge to ask.
      const bridge = app.engine.syncStatus();
      return {
        redisPasswordSet: typeof spec.redisPassword === 'string' && spec.redisPassword !== '',
        ...bridge,
        state: spec.enabled ? bridge.state : 'disabled',
      };
    },
    finish,
  });
}
