import type { FastifyInstance } from 'fastify';
import { registerCollection } from './crud.js';

/** FullNAT source addresses towards the real servers, with the ports each may use. */
export function registerLocalAddressPools(app: FastifyInstance): void {
  registerCollection(app, {
    kind: 'local-address-pools',
    collection: '/api/v1/local-address-pools',
    schema: 'LocalAddressPool',
    title: 'local address pool',
  });
}
