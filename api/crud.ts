// The six operations of a collection of named objects (list, create, get, replace, patch,
// delete), registered from a short description of the resource. Each resource file says only
// what is particular to it.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KindName, Spec } from '../store/kinds.js';
import type { ConfigReader, StoredObject } from '../store/store.js';
import { canonicalizeSpec } from './canonical.js';
import { fastifyPath, operationSchema } from './openapi.js';
import { notFound, Problem } from './problems.js';
import {
  checkNameMatches,
  checkPreconditions,
  patchedSpec,
  render,
  sendObject,
  specFromBody,
  write,
  type Body,
} from './resource.js';

export interface ResourceDefinition {
  kind: KindName;
  /** Path of the collection in openapi.yaml, e.g. `/api/v1/nics`. */
  collection: string;
  /** Component schema of one object, e.g. `Nic`. */
  schema: string;
  /** How messages call one object, e.g. `NIC`. */
  title: string;
  /** For nested collections: the path parameter naming the parent, and its kind. */
  parent?: { kind: KindName; param: string; title: string };
  /** The name given when a create request has none; without it, `name` is required. */
  defaultName?(spec: Spec): string;
  /** Fills fields that default from other objects (a real server's port from its service). */
  complete?(spec: Spec, scope: string, config: ConfigReader): void;
}

interface Params {
  name?: string;
  [param: string]: string | undefined;
}

interface ListQuery {
  limit: number;
  cursor?: string;
}

export function encodeCursor(lastName: string): string {
  return Buffer.from(lastName, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(name) !== cursor) {
    throw new Problem(400, 'validation', 'cursor is not one this server issued', [
      { field: '/query/cursor', message: 'is not a valid cursor' },
    ]);
  }
  return name;
}

export function registerCollection(app: FastifyInstance, def: ResourceDefinition): void {
  const item = `${def.collection}/{name}`;
  const route = (method: string, openapiPath: string) => ({
    method: method.toUpperCase() as 'GET',
    url: fastifyPath(openapiPath),
    schema: operationSchema(openapiPath, method),
  });

  /** The parent's name (the scope) of a nested collection, checking that the parent exists. */
  function scopeOf(request: FastifyRequest, config: ConfigReader): string {
    if (!def.parent) return '';
    const parentName = (request.params as Params)[def.parent.param]!;
    if (!config.get(def.parent.kind, '', parentName)) throw notFound(`there is no ${def.parent.title} named '${parentName}'`);
    return parentName;
  }

  function location(request: FastifyRequest, name: string): string {
    const base = request.url.split('?')[0].replace(/\/$/, '');
    return request.method === 'POST' ? `${base}/${encodeURIComponent(name)}` : base;
  }

  function existing(config: ConfigReader, scope: string, name: string): StoredObject {
    const object = config.get(def.kind, scope, name);
    if (!object) throw notFound(`there is no ${def.title} named '${name}'`);
    return object;
  }

  /** What the engine reports of the object now (link state, counters), and its health. */
  function live(object: StoredObject): Body {
    return {
      ...app.engine.liveStatus(def.kind, object.scope, object.name),
      ...app.health?.status(def.kind, object.scope, object.name),
    };
  }

  /** Canonical addresses and derived defaults, then the name (which may be derived from them). */
  function prepare(spec: Spec, scope: string, config: ConfigReader, name: unknown): string {
    canonicalizeSpec(def.schema, spec);
    def.complete?.(spec, scope, config);
    if (typeof name === 'string') return name;
    if (def.defaultName) return def.defaultName(spec);
    throw new Problem(400, 'validation', `a ${def.title} needs a name`, [{ field: '/body/name', message: 'is required' }]);
  }

  app.route({
    ...route('get', def.collection),
    handler: async (request) => {
      const query = request.query as ListQuery;
      const scope = scopeOf(request, app.store);
      const objects = app.store.list(def.kind, scope, { after: decodeCursor(query.cursor), limit: query.limit });
      const page: Body = { items: objects.map((o) => render(app, o, live(o))) };
      if (objects.length === query.limit) page.nextCursor = encodeCursor(objects[objects.length - 1].name);
      return page;
    },
  });

  app.route({
    ...route('post', def.collection),
    handler: async (request, reply) => {
      const body = request.body as Body;
      const created = await write(request, def.kind, (tx) => {
        const scope = scopeOf(request, tx);
        const spec = specFromBody(body);
        const name = prepare(spec, scope, tx, body.name);
        if (tx.get(def.kind, scope, name)) {
          throw new Problem(409, 'conflict', `a ${def.title} named '${name}' already exists`, [
            { field: '/body/name', message: 'is taken' },
          ]);
        }
        return tx.put(def.kind, scope, name, spec);
      });
      reply.header('location', location(request, created.name));
      return sendObject(reply, 201, created, render(app, created, live(created)));
    },
  });

  app.route({
    ...route('get', item),
    handler: async (request, reply) => {
      const object = existing(app.store, scopeOf(request, app.store), (request.params as Params).name!);
      return sendObject(reply, 200, object, render(app, object, live(object)));
    },
  });

  app.route({
    ...route('put', item),
    handler: async (request, reply) => {
      const name = (request.params as Params).name!;
      const body = request.body as Body;
      checkNameMatches(body, name);
      let replaced = false;
      const object = await write(request, def.kind, (tx) => {
        const scope = scopeOf(request, tx);
        const current = tx.get(def.kind, scope, name);
        checkPreconditions(request, current);
        replaced = current !== undefined;
        const spec = specFromBody(body);
        prepare(spec, scope, tx, name);
        return tx.put(def.kind, scope, name, spec);
      });
      if (!replaced) reply.header('location', location(request, name));
      return sendObject(reply, replaced ? 200 : 201, object, render(app, object, live(object)));
    },
  });

  app.route({
    ...route('patch', item),
    handler: async (request, reply) => {
      const name = (request.params as Params).name!;
      const object = await write(request, def.kind, (tx) => {
        const scope = scopeOf(request, tx);
        const current = existing(tx, scope, name);
        checkPreconditions(request, current);
        const patch = request.body as Body;
        checkNameMatches(patch, name);
        const spec = patchedSpec(def.schema, { name, ...current.spec }, patch);
        prepare(spec, scope, tx, name);
        return tx.put(def.kind, scope, name, spec);
      });
      return sendObject(reply, 200, object, render(app, object, live(object)));
    },
  });

  app.route({
    ...route('delete', item),
    handler: async (request, reply) => {
      const name = (request.params as Params).name!;
      await write(request, def.kind, (tx) => {
        const scope = scopeOf(request, tx);
        checkPreconditions(request, existing(tx, scope, name));
        tx.delete(def.kind, scope, name);
      });
      return reply.code(204).send();
    },
  });
}
