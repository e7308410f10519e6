// Health-check metrics: every probe's result and duration, every state change, and each
// target's state now. Targets are labelled by service, real server and the NIC probed through.

import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { HealthTarget } from '../../engine/health/monitor.js';

const states = ['unknown', 'up', 'down'] as const;
const serviceStates = ['unchecked', 'healthy', 'degraded'] as const;

function labels(t: HealthTarget): Record<string, string> {
  return { service: t.service, real_server: t.server, nic: t.nic };
}

export function registerHealthMetrics(app: FastifyInstance, registry: Registry): void {
  const monitor = app.health;
  if (!monitor) return;
  const probes = new Counter({
    name: 'l4lb_health_probes_total',
    help: 'Health probes finished, by check type and result (success, failure).',
    labelNames: ['type', 'result'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'l4lb_health_probe_duration_seconds',
    help: 'Time from sending a health probe to its verdict (timeouts included), by check type.',
    labelNames: ['type'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registers: [registry],
  });
  const changes = new Counter({
    name: 'l4lb_health_state_changes_total',
    help: 'Health state changes of a real server seen through a NIC, by the state entered.',
    labelNames: ['service', 'real_server', 'nic', 'to'],
    registers: [registry],
  });
  new Gauge({
    name: 'l4lb_health_state',
    help: 'Health of a real server seen through a NIC: 1 for its current state, 0 for the others.',
    labelNames: ['service', 'real_server', 'nic', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { target, state } of monitor.states())
        for (const s of states) this.set({ ...labels(target), state: s }, s === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'l4lb_service_health',
    help: 'Health of a virtual service with a health check: 1 for its state (healthy; degraded when health takes any server out; unchecked with no server to check), 0 for the others.',
    labelNames: ['service', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { service, health } of monitor.serviceStates())
        for (const state of serviceStates) this.set({ service, state }, health.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'l4lb_service_real_servers',
    help: 'Real servers of a checked virtual service by the health that sets their weight: as seen through the NIC each is forwarded through.',
    labelNames: ['service', 'health'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { service, health } of monitor.serviceStates())
        for (const state of states) this.set({ service, health: state }, health[state]);
    },
  });
  new Gauge({
    name: 'l4lb_service_failing_nic',
    help: '1 for each NIC of a virtual service\'s real servers whose link is down or through which every probe fails.',
    labelNames: ['service', 'nic'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { service, health } of monitor.serviceStates()) for (const nic of health.failingNics) this.set({ service, nic }, 1);
    },
  });
  monitor.observe({
    probed: (target, outcome, ms) => {
      probes.inc({ type: target.type, result: outcome.ok ? 'success' : 'failure' });
      seconds.observe({ type: target.type }, ms / 1000);
    },
    changed: (target, transition) => changes.inc({ ...labels(target), to: transition.to }),
  });
}
