// The IPv6 part of a sync lab built with `ipv6: true` (topology.ts `plan6`): servers on the real
// servers' IPv6 addresses, and what every appliance of the lab gets through its API besides the
// lab's IPv4 services (SyncSettings.configureMore): IPv6 networks on both NICs, an IPv6 probe
// address on the server NIC, an IPv6 local address pool, and services on an IPv6 VIP, FullNAT to the IPv6 servers or NAT64 to the lab's
// IPv4 ones (its nginx with the PROXY-protocol listener on 8080).

import type { Appliance } from './appliance.js';
import { startEcho, startNginx, type Server } from './servers.js';
import { plan, plan6, type LbRole, type RsRole, type Topology } from './topology.js';

export const vip6 = plan6.vips[0];
export const localAddress6 = plan6.localAddresses[0];
const realServers: RsRole[] = ['rs1', 'rs2'];

/** Servers' ports, the same on both families: nginx's plain and PROXY-protocol listeners, echo. */
export const serverPorts = { http: 80, proxied: 8080, echo: 7, udpEcho: 5353 } as const;

interface Service6 {
  port: number;
  protocol: 'tcp' | 'udp';
  clientAddress: 'none' | 'toa' | 'proxy-protocol-v1' | 'proxy-protocol-v2';
  /** `6`: FullNAT to the IPv6 servers through the IPv6 pool; `4`: NAT64 through the IPv4 pool. */
  servers: 4 | 6;
  serverPort: number;
  only?: RsRole;
}

/** The IPv6 VIP's TCP services, by name. */
export const services6 = {
  web6: { port: 80, protocol: 'tcp', clientAddress: 'proxy-protocol-v2', servers: 6, serverPort: serverPorts.proxied },
  nat64v1: { port: 8081, protocol: 'tcp', clientAddress: 'proxy-protocol-v1', servers: 4, serverPort: serverPorts.proxied },
  nat64v2: { port: 8082, protocol: 'tcp', clientAddress: 'proxy-protocol-v2', servers: 4, serverPort: serverPorts.proxied },
  toa6: { port: 81, protocol: 'tcp', clientAddress: 'toa', servers: 6, serverPort: serverPorts.http, only: 'rs1' },
  echo6: { port: 7, protocol: 'tcp', clientAddress: 'none', servers: 6, serverPort: serverPorts.echo },
} as const satisfies Record<string, Service6>;

/** The UDP echo service, created by POST without names: the API names it, and its servers. */
export const udp6 = { port: 5353, name: '2001-db8-1--10-5353-udp', serverNames: ['2001-db8-2--11-5353', '2001-db8-2--12-5353'] } as const;

export interface Ipv6Servers {
  /** nginx on each real server's IPv6 address (`/` and the PROXY-protocol listener, as on IPv4). */
  readonly nginx: Record<RsRole, Server>;
  stop(): Promise<void>;
}

/** nginx, TCP echo and UDP echo (tagged `rs1 `/`rs2 `) on rs1's and rs2's IPv6 addresses. */
export async function startIpv6Servers(topo: Topology): Promise<Ipv6Servers> {
  const started: Server[] = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.stop();
  };
  try {
    const nginx = {} as Record<RsRole, Server>;
    for (const rs of realServers) {
      const address = plan6.realServers[rs];
      nginx[rs] = await startNginx(topo.ns[rs], address, { name: rs, port: serverPorts.http, proxyProtocolPort: serverPorts.proxied });
      started.push(nginx[rs]);
      started.push(await startEcho(topo.ns[rs], 'tcp', address, serverPorts.echo));
      started.push(await startEcho(topo.ns[rs], 'udp', address, serverPorts.udpEcho, `${rs} `));
    }
    return { nginx, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Adds the IPv6 configuration to appliance `lb` of the lab (its IPv4 NICs and pool `lips` exist). */
export async function configureIpv6(a: Appliance, lb: LbRole): Promise<void> {
  await a.ok('PATCH', '/api/v1/nics/client', { networks: [plan.clientNetwork, plan6.clientNetwork] });
  await a.ok('PATCH', '/api/v1/nics/server', { networks: [plan.serverNetwork, plan6.serverNetwork], probeAddress6: plan6.probeAddresses[lb] });
  await a.ok('PUT', '/api/v1/local-address-pools/lips6', { nic: 'server', addresses: [localAddress6] });
  for (const [name, s] of Object.entries(services6) as [string, Service6][]) {
    const pool = s.servers === 6 ? 'lips6' : 'lips';
    await a.ok('PUT', `/api/v1/virtual-services/${name}`, { address: vip6, port: s.port, protocol: s.protocol, nic: 'client', localAddressPool: pool, scheduler: 'rr', clientAddress: s.clientAddress });
    for (const rs of s.only ? [s.only] : realServers) {
      const address = s.servers === 6 ? plan6.realServers[rs] : plan.realServers[rs];
      await a.ok('PUT', `/api/v1/virtual-services/${name}/real-servers/${rs}`, { address, port: s.serverPort });
    }
  }
  const udp = await a.ok('POST', '/api/v1/virtual-services', { address: vip6, port: udp6.port, protocol: 'udp', nic: 'client', localAddressPool: 'lips6', scheduler: 'rr' });
  for (const rs of realServers) await a.ok('POST', `/api/v1/virtual-services/${udp.name}/real-servers`, { address: plan6.realServers[rs], port: serverPorts.udpEcho });
}
