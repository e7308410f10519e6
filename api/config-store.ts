// GET /api/v1/config-store: where this node's cluster-wide objects live and, with etcd, how
// well it follows them. Read-only: the location is a start-up option (--config-store). Also
// the contract's check of objects read from etcd.

import type { FastifyInstance } from 'fastify';
import type { Spec } from '../store/kinds.js';
import type { ClusterKind } from '../store/etcd/keys.js';
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

/**
 * Checks a spec read from etcd as a request body would be checked: whoever can write to etcd
 * is not trusted to have written a valid object.
 */
export function clusterSpecCheck(kind: ClusterKind, spec: Spec): string | undefined {
  const validate = componentValidator(schemaOf[kind]);
  if (validate({ name: 'checked', ...spec })) return undefined;
  const error = validate.errors?.[0];
  return `${error?.instancePath || '/'} ${error?.message ?? 'is not valid'}`;
}
