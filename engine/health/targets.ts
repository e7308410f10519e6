// What to probe, from the stored configuration: every real server of a service with a health
// check, through every NIC that reaches it and has a probe address (the exception path the
// probe leaves by). The NIC the data plane forwards through (the best route, store/reach.ts)
// is the target's `egress`: its result alone decides the server's effective weight, the
// others are shown for diagnosis.

import type { SpecOf } from '../../store/kinds.js';
import { nicsReaching } from '../../store/reach.js';
import type { ConfigReader } from '../../store/store.js';
import type { CheckTarget } from './checker.js';
import type { ProbeEndpoint } from './probes/endpoint.js';
import type { HttpExpectation } from './probes/http.js';
import { proxyHeader, type ProxyVersion } from './probes/proxy-header.js';
import type { UdpExpectation } from './probes/udp.js';

export interface HealthTarget extends CheckTarget {
  service: string;
  server: string;
  nic: string;
  /** The data plane sends the server's sessions through this NIC. */
  egress: boolean;
  check: string;
  type: 'tcp' | 'http' | 'udp';
  endpoint: ProbeEndpoint;
  http?: HttpExpectation;
  udp?: UdpExpectation;
}

type CheckSpec = SpecOf<'health-checks'>;
type ServiceSpec = SpecOf<'virtual-services'>;

const proxyVersions: Record<string, ProxyVersion> = { 'proxy-protocol-v1': 'v1', 'proxy-protocol-v2': 'v2' };

/** A PROXY header goes only where the service's servers expect one: on the service's own transport. */
function headerFor(service: ServiceSpec, check: CheckSpec): Buffer | undefined {
  const transport = check.type === 'udp' ? 'udp' : 'tcp';
  return transport === service.protocol ? proxyHeader(proxyVersions[service.clientAddress]) : undefined;
}

function expectations(check: CheckSpec): Pick<HealthTarget, 'http' | 'udp'> {
  if (check.type === 'http') {
    const h = check.http;
    return { http: { path: h?.path ?? '/', host: h?.host, expectStatus: h?.expectStatus ?? [200], expectBody: h?.expectBody } };
  }
  if (check.type === 'udp') return { udp: { payload: check.udp!.payload, expect: check.udp!.expect } };
  return {};
}

export function healthTargets(config: ConfigReader): HealthTarget[] {
  const nics = new Map(config.all('nics').map((o) => [o.name, o.spec]));
  const reaching = nicsReaching(
    [...nics].map(([name, spec]) => ({ name, networks: spec.networks, ...(spec.gateway ? { gateway: spec.gateway } : {}) })),
    config.all('routes').map((o) => o.spec),
  );
  const checks = new Map(config.all('health-checks').map((o) => [o.name, o.spec]));
  const services = new Map(config.all('virtual-services').map((o) => [o.name, o.spec]));
  const targets: HealthTarget[] = [];
  for (const rs of config.all('real-servers')) {
    const service = services.get(rs.scope);
    const server = rs.spec;
    if (!service?.enabled || !server.enabled || service.healthCheck === undefined) continue;
    const check = checks.get(service.healthCheck)!;
    const header = headerFor(service, check);
    reaching(server.address).forEach((nic, rank) => {
      const probe = nics.get(nic)!.probeAddress;
      if (!probe) return;
      targets.push({
        id: [rs.scope, rs.name, nic, service.healthCheck, server.address, server.port].join('\u0000'),
        service: rs.scope,
        server: rs.name,
        nic,
        egress: rank === 0,
        check: service.healthCheck!,
        type: check.type,
        intervalMs: check.intervalMs,
        timeoutMs: check.timeoutMs,
        rise: check.rise,
        fall: check.fall,
        endpoint: { address: server.address, port: server.port, source: probe.split('/')[0], header },
        ...expectations(check),
      });
    });
  }
  return targets;
}
