import type { FastifyInstance } from 'fastify';
import { addressInName } from './canonical.js';
import { registerCollection } from './crud.js';

/**
 * Real servers of one virtual service. The port defaults to the service's, and unnamed
 * servers are called `<address>-<port>` (IPv6 colons as `-`: `2001-db8--11-80`).
 */
export function registerRealServers(app: FastifyInstance): void {
  registerCollection(app, {
    kind: 'real-servers',
    collection: '/api/v1/virtual-services/{vs}/real-servers',
    schema: 'RealServer',
    title: 'real server',
    parent: { kind: 'virtual-services', param: 'vs', title: 'virtual service' },
    complete: (spec, scope, config) => {
      spec.port ??= config.get('virtual-services', '', scope)!.spec.port;
    },
    defaultName: (spec) => `${addressInName(spec.address as string)}-${spec.port as number}`,
  });
}
