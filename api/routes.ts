import type { FastifyInstance } from 'fastify';
import { registerCollection } from './crud.js';

/** Static IPv4 routes of the data plane (the `routes` resource, not HTTP routes). */
export function registerRoutes(app: FastifyInstance): void {
  registerCollection(app, { kind: 'routes', collection: '/api/v1/routes', schema: 'Route', title: 'route' });
}
