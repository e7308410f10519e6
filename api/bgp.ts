// The BGP speaker's settings: one object at /api/v1/bgp (GET, PUT, PATCH), beside /api/v1/sync.
// Every neighbour must name a NIC with the probe address of its family (`probeAddress` or
// `probeAddress6`) whose networks hold the neighbour (the session runs from the NIC's kernel
// side, one hop); the status is the speaker's.

import type { FastifyInstance } from 'fastify';
import { invalid } from '../store/errors.js';
import { bgpSettingsName, bgpSettingsProblem, toBgpSettings, type BgpSpec } from '../engine/bgp/settings.js';
import { registerSettingsObject } from './settings-object.js';

export function registerBgp(app: FastifyInstance): void {
  registerSettingsObject(app, {
    path: '/api/v1/bgp',
    name: bgpSettingsName,
    schema: 'Bgp',
    defaults: () => ({}),
    visible: (spec) => spec,
    status: () => ({ ...app.engine.bgpStatus() }),
    finish: (spec, _previous, _request, tx) => {
      const nics = tx.all('nics').map(({ name, spec: { networks, probeAddress, probeAddress6 } }) => ({ name, networks, probeAddress, probeAddress6 }));
      const problem = bgpSettingsProblem(toBgpSettings(spec as BgpSpec), nics);
      if (problem) throw invalid(problem.field, problem.message);
      return spec;
    },
  });
}
