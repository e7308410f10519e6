import type { FastifyInstance } from 'fastify';
import { addressInName } from './canonical.js';
import { registerCollection } from './crud.js';

/** VIP:port/protocol services; unnamed ones are called `<address>-<port>-<protocol>` (IPv6 colons as `-`). */
export function registerVirtualServices(app: FastifyInstance): void {
  registerCollection(app, {
    kind: 'virtual-services',
    collection: '/api/v1/virtual-services',
    schema: 'VirtualService',
    title: 'virtual service',
    defaultName: (spec) => `${addressInName(spec.address as string)}-${spec.port as number}-${spec.protocol as string}`,
  });
}
