import type { FastifyInstance } from 'fastify';
import { registerCollection } from './crud.js';

/** Data-plane ports: a DPDK device, its connected networks, gateway and probe address. */
export function registerNics(app: FastifyInstance): void {
  registerCollection(app, { kind: 'nics', collection: '/api/v1/nics', schema: 'Nic', title: 'NIC' });
}
