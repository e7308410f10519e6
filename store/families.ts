// Address-family rules (DESIGN.md, "Addresses"). IPv4 and IPv6 are peers, and a service
// translates in one direction only: FullNAT keeps the family (an IPv4 VIP, pool and real
// servers; or all IPv6), and NAT64 takes an IPv6 VIP to IPv4 real servers through an IPv4
// pool. So a pool holds one family, a service's real servers are of its pool's family, and an
// IPv4 VIP never takes an IPv6 pool: IPv4 clients cannot be translated to IPv6 servers.
//
// IPv4-mapped IPv6 text (`::ffff:10.0.0.1`) passes the schema but no object may hold it: the
// data plane keeps IPv4 in that space internally, so such an address would alias an IPv4 one.

import { conflict, invalid } from './errors.js';
import { contains, familyOf, formatAddress, parseAddress, parseCidr, type Family } from './ip.js';
import type { ConfigReader } from './store.js';

const v4Mapped = parseCidr('::ffff:0:0/96');

export const familyName = (family: Family): string => `IPv${family}`;

/** Refuses an IPv4-mapped address, or a prefix inside ::ffff:0:0/96, naming the IPv4 form to write instead. */
export function notV4Mapped(text: string, field: string): void {
  const [address, length = '128'] = text.split('/');
  const parsed = parseAddress(address);
  if (!contains(v4Mapped, parsed) || Number(length) < 96) return;
  const ipv4 = formatAddress({ family: 4, value: parsed.value & 0xffffffffn });
  const instead = text.includes('/') ? `${ipv4}/${Number(length) - 96}` : ipv4;
  throw invalid(field, `${text} is an IPv4-mapped IPv6 address (::ffff:0:0/96), which the data plane keeps for IPv4 itself; write ${instead} instead`);
}

/** The family of a pool's addresses; a pool holding both is refused. */
export function poolFamily(addresses: string[]): Family {
  const v4 = addresses.find((a) => familyOf(a) === 4);
  const v6 = addresses.find((a) => familyOf(a) === 6);
  if (v4 && v6) throw invalid('/addresses', `the addresses mix IPv4 (${v4}) and IPv6 (${v6}); a pool's addresses are all of one family`);
  return familyOf(addresses[0]);
}

interface Service {
  name: string;
  address: string;
  localAddressPool: string;
}

/** Why service `s` cannot take a pool of `family` (an IPv4 VIP with an IPv6 pool); undefined when it can. */
function vipProblem(s: Service, family: Family): string | undefined {
  if (familyOf(s.address) === 4 && family === 6) {
    return `virtual service '${s.name}' has the IPv4 address ${s.address}, which needs an IPv4 local address pool, and pool '${s.localAddressPool}' is IPv6 (IPv4 clients cannot be translated to IPv6 servers)`;
  }
  return undefined;
}

/** The first real server of service `name` that is not of `family`. */
function strayServer(config: ConfigReader, name: string, family: Family): { name: string; address: string } | undefined {
  for (const rs of config.namesWhere('real-servers', { virtual_service: name })) {
    const address = config.get('real-servers', name, rs)!.spec.address;
    if (familyOf(address) !== family) return { name: rs, address };
  }
  return undefined;
}

function serverProblem(service: string, pool: string, family: Family, server: { name: string; address: string }): string {
  return `real server '${server.name}' of virtual service '${service}' (${server.address}) is ${familyName(familyOf(server.address))}, and local address pool '${pool}' is ${familyName(family)}: a service's real servers are of its pool's family`;
}

/** A written pool of `family` must still suit every service that uses it and their real servers. */
export function checkPoolUsers(config: ConfigReader, pool: string, family: Family): void {
  for (const name of config.namesWhere('virtual-services', { local_address_pool: pool })) {
    const service = { name, ...config.get('virtual-services', '', name)!.spec };
    const problem = vipProblem(service, family);
    if (problem) throw conflict('/addresses', problem);
    const stray = strayServer(config, name, family);
    if (stray) throw conflict('/addresses', serverProblem(name, pool, family, stray));
  }
}

/** A written service: its VIP suits its pool, and its real servers are of the pool's family. */
export function checkServiceFamilies(config: ConfigReader, service: Service): void {
  notV4Mapped(service.address, '/address');
  const family = poolFamily(config.get('local-address-pools', '', service.localAddressPool)!.spec.addresses);
  const problem = vipProblem(service, family);
  if (problem) throw invalid('/localAddressPool', problem);
  const stray = strayServer(config, service.name, family);
  if (stray) throw conflict('/localAddressPool', serverProblem(service.name, service.localAddressPool, family, stray));
}

/** A written real server is of its service's pool's family. */
export function checkServerFamily(config: ConfigReader, service: string, address: string): void {
  notV4Mapped(address, '/address');
  const pool = config.get('virtual-services', '', service)!.spec.localAddressPool;
  const family = poolFamily(config.get('local-address-pools', '', pool)!.spec.addresses);
  if (familyOf(address) !== family) {
    throw invalid('/address', `${address} is ${familyName(familyOf(address))}, and virtual service '${service}' reaches its real servers from local address pool '${pool}', which is ${familyName(family)}: a real server is of its pool's family`);
  }
}
