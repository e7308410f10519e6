// What every configuration object shares over HTTP: how it is rendered, how a request body
// becomes a stored spec, preconditions (If-Match / resourceVersion), merge patches and the
// timed write. Collections (crud.ts) and singletons (sync.ts) are built from these pieces.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KindName, Spec } from '../store/kinds.js';
import type { StoredObject, WriteTx } from '../store/store.js';
import { mergePatch } from './merge-patch.js';
import { componentValidator } from './openapi.js';
import { Problem, toProblem, validationProblem } from './problems.js';

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
  // A status in the patch is checked as in a PUT (only fields the server writes), then ignored.
  const checked = patch.status === undefined ? merged : { ...merged, status: patch.status };
  if (!validate(checked)) throw validationProblem('body', validate.errors ?? []);
  return specFromBody(merged);
}

/**
 * Runs one configuration write of `kind` for `request` (SQLite, or etcd for cluster-wide kinds
 * with an etcd store), records how long it took, and logs what it
 * changed once it committed, with the request that caused it (pino adds its reqId).
 */
export async function write<T>(request: FastifyRequest, kind: KindName, body: (tx: WriteTx) => T): Promise<T> {
  const app = request.server;
  const end = app.apiMetrics.configWriteSeconds.startTimer();
  let attempted: WriteTx | undefined;
  try {
    const value = await app.configWriter.write(kind, (tx) => {
      attempted = tx;
      return body(tx);
    });
    if (attempted && attempted.changes.length > 0) logChange(request, attempted);
    return value;
  } catch (err) {
    // Changes made and then refused (by the whole-configuration checks or the engine) are worth a line; a body that never got that far is not.
    if (attempted && attempted.changes.length > 0) logChange(request, attempted, err);
    throw err;
  } finally {
    end();
  }
}

function logChange(request: FastifyRequest, tx: WriteTx, refusal?: unknown): void {
  const changes = tx.changes.map((c) => ({ op: c.op, kind: c.kind, name: c.scope ? `${c.scope}/${c.name}` : c.name }));
  const what = changes.map((c) => `${c.op} ${c.kind} ${c.name}`).join(', ');
  // A write committed to etcd has an etcd revision; its dry run's generation was never used.
  const version = tx.etcdRevision !== undefined ? { revision: tx.etcdRevision } : { generation: tx.committedGeneration };
  const details = { ...version, changes, cause: { method: request.method, url: request.url, remoteAddress: request.ip } };
  if (refusal === undefined) return request.log.info(details, `configuration changed: ${what}`);
  const problem = toProblem(refusal as Error);
  const level = problem.status < 500 ? 'info' : 'warn';
  request.log[level]({ ...details, status: problem.status, reason: problem.message }, `configuration change refused: ${what}: ${problem.message}`);
}

export function sendObject(reply: FastifyReply, status: number, object: StoredObject, shown: Body): FastifyReply {
  return reply.code(status).header('etag', etag(object)).send(shown);
}
