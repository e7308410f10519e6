// What to probe, from the stored configuration: every real server of a service with a health
// check, through every NIC that reaches it and has a probe address of its family (the exception
// path the probe leaves by). The NIC the data plane forwards through (the best route, store/reach.ts)
// is the target's `egress`: its result alone decides the server's effective weight, the
// others are shown for diagnosis.

import type { SpecOf } from '../../store/kinds.js';
import { familyOf } from '../../store/ip.js';
import { nicsReaching } from '../../store/reach.js';
import type { ConfigReader, StoredObject } from '../../store/store.js';
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

/** A checked service's targets, and its real servers' targets each (empty when none reach it). */
export interface ServiceTargets {
  targets: HealthTarget[];
  servers: Map<string, HealthTarget[]>;
}

/** What the targets of any service depend on beside the service: NICs, routes and checks. */
export class TargetContext {
  private readonly nics: Map<string, SpecOf<'nics'>>;
  private readonly reaching: (address: string) => string[];
  private readonly checks: Map<string, CheckSpec>;

  constructor(config: ConfigReader) {
    this.nics = new Map(config.all('nics').map((o) => [o.name, o.spec]));
    this.reaching = nicsReaching(
      [...this.nics].map(([name, spec]) => ({ name, networks: spec.networks, ...(spec.gateway ? { gateway: spec.gateway } : {}) })),
      config.all('routes').map((o) => o.spec),
    );
    this.checks = new Map(config.all('health-checks').map((o) => [o.name, o.spec]));
  }

  /** The targets of service `name`; undefined when it is not checked (absent, or no health check). */
  service(name: string, service: ServiceSpec | undefined, realServers: StoredObject<SpecOf<'real-servers'>>[]): ServiceTargets | undefined {
    if (service?.healthCheck === undefined) return undefined;
    const check = this.checks.get(service.healthCheck)!;
    const header = headerFor(service, check);
    const result: ServiceTargets = { targets: [], servers: new Map() };
    for (const rs of realServers) {
      const server = rs.spec;
      const mine: HealthTarget[] = [];
      result.servers.set(rs.name, mine);
      if (!service.enabled || !server.enabled) continue;
      this.reaching(server.address).forEach((nic, rank) => {
        // A probe leaves from the NIC's probe address of the server's family.
        const spec = this.nics.get(nic)!;
        const probe = familyOf(server.address) === 6 ? spec.probeAddress6 : spec.probeAddress;
        if (!probe) return;
        mine.push({
          id: [name, rs.name, nic, service.healthCheck, server.address, server.port].join('\u0000'),
          service: name,
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
      result.targets.push(...mine);
    }
    return result;
  }
}

/** Every checked service's targets, by service name. */
export function healthTargets(config: ConfigReader): Map<string, ServiceTargets> {
  const context = new TargetContext(config);
  const servers = new Map<string, StoredObject<SpecOf<'real-servers'>>[]>();
  for (const rs of config.all('real-servers')) {
    const list = servers.get(rs.scope);
    if (list) list.push(rs);
    else servers.set(rs.scope, [rs]);
  }
  const result = new Map<string, ServiceTargets>();
  for (const service of config.all('virtual-services')) {
    const targets = context.service(service.name, service.spec, servers.get(service.name) ?? []);
    if (targets) result.set(service.name, targets);
  }
  return result;
}

/** The targets of one service as stored now (undefined when it is gone or not checked). */
export function serviceTargets(config: ConfigReader, context: TargetContext, name: string): ServiceTargets | undefined {
  const service = config.get('virtual-services', '', name)?.spec;
  if (service?.healthCheck === undefined) return undefined;   // unchecked: its servers are not read
  return context.service(name, service, config.list('real-servers', name, { limit: -1 }));
}
