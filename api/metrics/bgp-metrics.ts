// BGP metrics: the speaker's state, each neighbour's session and what this node announces,
// read from the engine at scrape time (the speaker caches bird's answers; reading is cheap).

import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { restatedMetric, type Sample } from './restated-metric.js';

export function registerBgpMetrics(app: FastifyInstance, registry: Registry): void {
  const status = () => app.engine.bgpStatus();
  const gauge = (name: string, help: string, labelNames: string[], read: (s: ReturnType<typeof status>) => Sample[]) =>
    restatedMetric('gauge', registry, name, help, labelNames, read, status);

  gauge('l4lb_bgp_speaker_running', '1 while bird runs as this appliance\'s BGP speaker.', [], (s) => [[{}, s.speakerRunning ? 1 : 0]]);
  gauge('l4lb_bgp_draining', '1 while drained: every route withdrawn, forwarding going on.', [], (s) => [[{}, s.draining ? 1 : 0]]);
  gauge('l4lb_bgp_neighbor_up', 'Each BGP neighbour: 1 while its session is established, with its state.', ['neighbor', 'nic', 'state'], (s) =>
    s.neighbors.map((n): Sample => [{ neighbor: n.address, nic: n.nic, state: n.state }, n.state === 'established' ? 1 : 0]));
  gauge('l4lb_bgp_announced', 'Each prefix this node announces now (1).', ['prefix'], (s) => s.announced.map((prefix): Sample => [{ prefix }, 1]));
}
