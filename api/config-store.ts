// GET /api/v1/config-store: where this node's cluster-wide objects live and, with etcd, how
// well it follows them. Read-only: the location is a start-up option (--config-store). Also
// the contract's check of objects read from etcd or an imported document.

import type { FastifyInstance } from 'fastify';
import type { Spec } from '../store/kinds.js';
import type { ClusterKind } from '../store/etcd/keys.js';
import { canonicalizeSpec } from './canonical.js';
import { componentValidator, fastifyPath, operationSchema } from './openapi.js';

export function registerConfigStore(app: FastifyInstance): void {
  const path = '/api/v1/config-store';
  app.get(fastifyPath(path), { schema: operationSchema(path, 'get') }, async () => app.configStore());
}

const schemaOf: Record<ClusterKind, string> = {
  'health-checks': 'HealthCheck',
  'virtual-services': 'VirtualService',
  'real-servers': 'RealServer',
};

/** Fields the server owns: a request may carry them back, a stored spec never has them. */
const serverOwned = ['name', 'resourceVersion', 'status'];

/**
 * A spec read from etcd or from a `config import` document, checked as a request body is and
 * completed with the defaults the API fills: whoever can write there is not trusted to have
 * written a valid object. The completed spec, addresses canonical, or why it is not one.
 */
export function clusterSpec(kind: ClusterKind, spec: Spec): Spec | string {
  const owned = serverOwned.find((field) => field in spec);
  if (owned) return `/${owned} is the server's to set, never part of a stored object`;
  const body: Spec = { name: 'checked', ...structuredClone(spec) };
  const validate = componentValidator(schemaOf[kind]);
  if (!validate(body)) {
    const error = validate.errors?.[0];
    return `${error?.instancePath || '/'} ${error?.message ?? 'is not valid'}`;
  }
  delete body.name;
  canonicalizeSpec(schemaOf[kind], body);
  return body;
}
