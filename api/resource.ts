// What every configuration object shares over HTTP: how it is rendered, how a request body
// becomes a stored spec, preconditions (If-Match / resourceVersion), merge patches and the
// timed write. Collections (crud.ts) and singletons (sync.ts) are built from these pieces.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Spec } from '../store/kinds.js';
import type { StoredObject, WriteTx } from '../store/store.js';
import { mergePatch } from './merge-patch.js';
import { componentValidator } from './openapi.js';
import { Problem, validationProblem } from './problems.js';

export type Body = Record<string, unknown>;

/** Fields the server owns; accepted back in a body (as read) but never stored from it. */
const readOnlyFields = ['name', 'resourceVersion', 'status'];

export function specFromBody(body: Body): Spec {
  const spec: Spec = { ...body };
  for (const field of readOnlyFields) delete spec[field];
  return spec;
}

export function etag(object: StoredObject): string {
  return `"${object.resourceVersion}"`;
}

/**
 * The object as the API shows it: name, spec, resourceVersion, then status. `status` adds
 * kind-specific computed fields to the common ones.
 */
export function render(app: FastifyInstance, object: StoredObject, status: Body = {}): Body {
  return {
    name: object.name,
    ...object.spec,
    resourceVersion: object.resourceVersion,
    status: {
      createdAt: object.createdAt,
      updatedAt: object.updatedAt,
      generation: object.resourceVersion,
      appliedGeneration: app.reconciler.appliedGeneration,
      ...status,
    },
  };
}

function matches(header: string, current: StoredObject): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag(current));
}

/**
 * If-Match and a resourceVersion carried in the body are both preconditions on the current
 * object: a mismatch, or either one aimed at an object that does not exist, is 412.
 */
export function checkPreconditions(request: FastifyRequest, current: StoredObject | undefined): void {
  const ifMatch = request.headers['if-match'];
  const body = request.body as Body | undefined;
  const version = body?.resourceVersion;
  if (ifMatch !== undefined && (!current || !matches(ifMatch, current))) {
    throw new Problem(412, 'precondition-failed', current
      ? `If-Match ${ifMatch} does not match the current ETag ${etag(current)}`
      : `If-Match ${ifMatch} names a version of an object that does not exist`);
  }
  if (version !== undefined && version !== current?.resourceVersion) {
    throw new Problem(412, 'precondition-failed', current
      ? `resourceVersion ${String(version)} is not the current ${current.resourceVersion}; read the object again`
      : `resourceVersion ${String(version)} names a version of an object that does not exist`,
      [{ field: '/body/resourceVersion', message: 'does not match the current version' }]);
  }
}

/** A name in the body of PUT or PATCH must be the one in the path: renaming is a new object. */
export function checkNameMatches(body: Body, name: string): void {
  if (body.name !== undefined && body.name !== name) {
    throw new Problem(400, 'validation', `name '${String(body.name)}' differs from '${name}' in the path; objects cannot be renamed`, [
      { field: '/body/name', message: `must be '${name}' as in the path` },
    ]);
  }
}

/**
 * Applies a merge patch to an object in its written form (`written`: name and spec, without
 * the read-only fields) and validates the result against the schema.
 */
export function patchedSpec(schema: string, written: Body, patch: Body): Spec {
  const merged = mergePatch(written, specFromBody(patch)) as Body;
  const validate = componentValidator(schema);
  if (!validate(merged)) throw validationProblem('body', validate.errors ?? []);
  return specFromBody(merged);
}

/** Runs one store transaction and records how long it took. */
export function write<T>(app: FastifyInstance, body: (tx: WriteTx) => T): T {
  const end = app.apiMetrics.configWriteSeconds.startTimer();
  try {
    return app.store.write(body);
  } finally {
    end();
  }
}

export function sendObject(reply: FastifyReply, status: number, object: StoredObject, shown: Body): FastifyReply {
  return reply.code(status).header('etag', etag(object)).send(shown);
}
