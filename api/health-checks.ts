import type { FastifyInstance } from 'fastify';
import { registerCollection } from './crud.js';

/** Probe definitions (tcp, http, udp) that virtual services refer to by name. */
export function registerHealthChecks(app: FastifyInstance): void {
  registerCollection(app, {
    kind: 'health-checks',
    collection: '/api/v1/health-checks',
    schema: 'HealthCheck',
    title: 'health check',
  });
}
