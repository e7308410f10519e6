// A settings object: one object at a fixed path (GET, PUT, PATCH), such as /api/v1/sync and
// /api/v1/bgp, stored in the `settings` kind under its name. Until first written it reads as
// its defaults with resourceVersion 0 (and no history in its status). What differs between
// them — defaults, hidden fields, the live status, the checks a write must pass — is given.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Spec } from '../store/kinds.js';
import type { StoredObject, WriteTx } from '../store/store.js';
import { canonicalizeSpec } from './canonical.js';
import { componentValidator, fastifyPath, operationSchema } from './openapi.js';
import { checkPreconditions, patchedSpec, render, sendObject, specFromBody, write, type Body } from './resource.js';

export interface SettingsObject {
  path: string;
  /** Its name in the `settings` kind. */
  name: string;
  /** Its schema in openapi.yaml. */
  schema: string;
  /** The spec before any write (validated against the schema, which fills the rest). */
  defaults(): Spec;
  /** What a read shows of the spec (write-only fields left out). */
  visible(spec: Spec): Spec;
  /** The live part of its status. */
  status(spec: Spec): Body;
  /** The spec to store from what the request asked for; throws a ConfigError when it cannot be. */
  finish(spec: Spec, previous: Spec | undefined, request: FastifyRequest, tx: WriteTx): Spec;
}

export function registerSettingsObject(app: FastifyInstance, o: SettingsObject): void {
  const defaults = (): StoredObject => {
    const spec = o.defaults();
    componentValidator(o.schema)(spec);
    return { name: o.name, scope: '', spec, resourceVersion: 0, createdAt: '', updatedAt: '' };
  };
  const show = (object: StoredObject): Body => {
    const shown = render(app, { ...object, spec: o.visible(object.spec) }, o.status(object.spec));
    delete shown.name;
    if (object.resourceVersion === 0) {
      // Never written: the defaults have no history to show.
      const status = shown.status as Body;
      delete status.createdAt;
      delete status.updatedAt;
    }
    return shown;
  };
  const store = (request: FastifyRequest, next: (base: StoredObject) => Spec) =>
    write(request, 'settings', (tx) => {
      const stored = tx.get('settings', '', o.name);
      const base = stored ?? defaults();
      checkPreconditions(request, base);
      const spec = next(base);
      canonicalizeSpec(o.schema, spec);
      return tx.put('settings', '', o.name, o.finish(spec, stored?.spec, request, tx));
    });

  app.get(fastifyPath(o.path), { schema: operationSchema(o.path, 'get') }, async (_request, reply) => {
    const object = app.store.get('settings', '', o.name) ?? defaults();
    return sendObject(reply, 200, object, show(object));
  });
  app.put(fastifyPath(o.path), { schema: operationSchema(o.path, 'put') }, async (request, reply) => {
    const object = await store(request, () => specFromBody(request.body as Body));
    return sendObject(reply, 200, object, show(object));
  });
  app.patch(fastifyPath(o.path), { schema: operationSchema(o.path, 'patch') }, async (request, reply) => {
    const object = await store(request, (base) => patchedSpec(o.schema, base.spec, request.body as Body));
    return sendObject(reply, 200, object, show(object));
  });
}
