// Cross-object rules of the desired configuration, checked inside the write transaction after
// the change is applied and before it commits: the engine must never be handed a
// configuration it would have to reject. The schema has already checked each object alone.
//
// Checks are targeted (indexed lookups for the changed objects) except where a change can
// affect everything below it: a NIC's networks or a route decide whether every real server
// is still reachable, so those re-check all real servers.

import { parseDevice, type ParsedDevice } from './devices.js';
import { conflict, invalid } from './errors.js';
import { checkPoolUsers, checkServerFamily, checkServiceFamilies, familyName, notV4Mapped, poolFamily } from './families.js';
import { contains, familyOf, formatCidr, hasHostBits, networkOf, parseAddress, parseCidr } from './ip.js';
import { nicsReaching } from './reach.js';
import type { KindName, SpecOf } from './kinds.js';
import type { ConfigReader, Change } from './store.js';

type Check = (config: ConfigReader, change: Change) => void;

/** The spec a put change wrote, typed by its kind (the check knows which kind it serves). */
function spec<K extends KindName>(kind: K, config: ConfigReader, change: Change): SpecOf<K> {
  return config.get(kind, change.scope, change.name)!.spec;
}

function others(names: string[], self: string): string[] {
  return names.filter((n) => n !== self);
}

function requireExisting(config: ConfigReader, kind: 'nics' | 'local-address-pools' | 'health-checks', name: string, field: string, what: string): void {
  if (!config.get(kind, '', name)) throw invalid(field, `there is no ${what} named '${name}'`);
}

function noHostBits(text: string, field: string): void {
  const prefix = parseCidr(text);
  if (hasHostBits(prefix)) {
    throw invalid(field, `${text} has host bits set; the network is ${formatCidr(networkOf(prefix))}`);
  }
}

/** Canonical text makes two spellings of one address equal, so a list may repeat what the schema saw as distinct. */
function listedOnce(list: string[], field: string): void {
  list.forEach((text, i) => {
    const first = list.indexOf(text);
    if (first < i) throw invalid(`${field}/${i}`, `${text} is listed twice (also ${field}/${first})`);
  });
}

/**
 * A service's allow and deny lists (docs/protection.md): each entry a network, not IPv4-mapped,
 * listed once and in one list only. Linear in the entries (up to 65536 per list; the schema
 * has no uniqueItems, which ajv checks pairwise).
 */
function checkAccessControl(access: SpecOf<'virtual-services'>['accessControl']): void {
  const listed = new Map<string, string>();   // entry → its field
  for (const list of ['allow', 'deny'] as const) {
    (access?.[list] ?? []).forEach((text, i) => {
      const field = `/accessControl/${list}/${i}`;
      noHostBits(text, field);
      notV4Mapped(text, field);
      const first = listed.get(text);
      if (first?.startsWith(`/accessControl/${list}/`)) throw invalid(field, `${text} is listed twice (also ${first})`);
      if (first) throw invalid(field, `${text} is in both allow and deny (also ${first}): one prefix cannot decide both ways`);
      listed.set(text, field);
    });
  }
}

/** Whether one of `networks` holds `address` (only those of its family can). */
function inAnyNetwork(networks: string[], address: string): boolean {
  const parsed = parseAddress(address);
  return networks.some((n) => contains(parseCidr(n), parsed));
}

/** `IPv6 networks` for an IPv6 address: what an address outside every network was checked against. */
function networksOf(address: string): string {
  return `${familyName(familyOf(address))} networks`;
}

function refusedWhileUsed(what: string, name: string, users: [string, string[]][]): void {
  const used = users.filter(([, names]) => names.length > 0);
  if (used.length === 0) return;
  const list = used.map(([label, names]) => `${label} ${names.join(', ')}`).join('; ');
  throw conflict('', `${what} '${name}' is still used by ${list}`);
}

/** Everything the data plane can reach: connected networks, routes, and anything of a family some NIC has a gateway of. */
function reachability(config: ConfigReader): (address: string) => boolean {
  const nics = config.all('nics').map((o) => ({ name: o.name, ...o.spec }));
  const gateways = new Set(nics.flatMap((n) => (n.gateway ? [familyOf(n.gateway)] : [])));
  const reaching = nicsReaching(nics, config.all('routes').map((o) => o.spec));
  return (address) => gateways.has(familyOf(address)) || reaching(address).length > 0;
}

function allRealServersReachable(config: ConfigReader, field: string): void {
  const reachable = reachability(config);
  for (const rs of config.all('real-servers')) {
    const address = rs.spec.address;
    if (!reachable(address)) {
      throw conflict(field, `real server '${rs.name}' of virtual service '${rs.scope}' (${address}) would no longer be reachable through any NIC network or route`);
    }
  }
}

/** The device must be one the appliance forwards on, and no other NIC may hold it or its interface. */
function checkDevice(config: ConfigReader, self: string, device: string): void {
  const parsed = parseDevice(device);
  if (typeof parsed === 'string') throw invalid('/device', parsed);
  const holds = (other: ParsedDevice) =>
    other.name === parsed.name ? `device ${parsed.name}` : other.interface && other.interface === parsed.interface ? `interface ${parsed.interface}` : undefined;
  for (const o of config.all('nics')) {
    const other = o.name !== self ? parseDevice(o.spec.device) : undefined;
    const held = other && typeof other !== 'string' ? holds(other) : undefined;
    if (held) throw conflict('/device', `${held} is already used by NIC '${o.name}'`);
  }
}

/** The neighbours of the stored `bgp` object that peer over NIC `nic` (their sessions run from its probe address). */
function bgpNeighborsOver(config: ConfigReader, nic: string): { address: string; nic: string }[] {
  const bgp = config.get('settings', '', 'bgp')?.spec as { neighbors?: { address: string; nic: string }[] } | undefined;
  return (bgp?.neighbors ?? []).filter((n) => n.nic === nic);
}

const checkNic: Check = (config, change) => {
  const neighbors = bgpNeighborsOver(config, change.name);
  if (change.op === 'delete') {
    refusedWhileUsed('NIC', change.name, [
      ['routes', config.namesWhere('routes', { nic: change.name })],
      ['local address pools', config.namesWhere('local-address-pools', { nic: change.name })],
      ['virtual services', config.namesWhere('virtual-services', { nic: change.name })],
      ['BGP neighbors', neighbors.map((n) => n.address)],
    ]);
    allRealServersReachable(config, '');
    return;
  }
  const nic = spec('nics', config, change);
  checkDevice(config, change.name, nic.device);
  listedOnce(nic.networks, '/networks');
  nic.networks.forEach((n, i) => {
    noHostBits(n, `/networks/${i}`);
    notV4Mapped(n, `/networks/${i}`);
  });
  if (nic.gateway) {
    notV4Mapped(nic.gateway, '/gateway');
    if (!inAnyNetwork(nic.networks, nic.gateway)) throw invalid('/gateway', `gateway ${nic.gateway} is not in any of the NIC's ${networksOf(nic.gateway)}`);
  }
  for (const field of ['probeAddress', 'probeAddress6'] as const) {
    const probe = nic[field];
    if (!probe) continue;
    notV4Mapped(probe, `/${field}`);
    const address = probe.split('/')[0];
    if (!inAnyNetwork(nic.networks, address)) throw invalid(`/${field}`, `probe address ${probe} is not in any of the NIC's ${networksOf(address)}`);
  }
  for (const n of neighbors) {
    const field = familyOf(n.address) === 6 ? 'probeAddress6' : 'probeAddress';
    if (!nic[field]) throw conflict(`/${field}`, `BGP neighbor ${n.address} peers over this NIC from its ${field}`);
    if (!inAnyNetwork(nic.networks, n.address)) throw conflict('/networks', `BGP neighbor ${n.address} would no longer be in any of the NIC's networks`);
  }
  for (const routeName of config.namesWhere('routes', { nic: change.name })) {
    const route = config.get('routes', '', routeName)!.spec;
    if (!inAnyNetwork(nic.networks, route.via)) {
      throw conflict('/networks', `route '${routeName}' goes via ${route.via}, which would no longer be in any of the NIC's networks`);
    }
  }
  allRealServersReachable(config, '/networks');
};

const checkRoute: Check = (config, change) => {
  if (change.op === 'put') {
    const route = spec('routes', config, change);
    noHostBits(route.prefix, '/prefix');
    notV4Mapped(route.prefix, '/prefix');
    notV4Mapped(route.via, '/via');
    const [prefixFamily, viaFamily] = [familyOf(route.prefix), familyOf(route.via)];
    if (viaFamily !== prefixFamily) {
      throw invalid('/via', `next hop ${route.via} is ${familyName(viaFamily)} and prefix ${route.prefix} is ${familyName(prefixFamily)}: a route's next hop is of its prefix's family`);
    }
    requireExisting(config, 'nics', route.nic, '/nic', 'NIC');
    const nic = config.get('nics', '', route.nic)!.spec;
    if (!inAnyNetwork(nic.networks, route.via)) {
      throw invalid('/via', `next hop ${route.via} is not in any of NIC '${route.nic}''s ${networksOf(route.via)}`);
    }
  }
  allRealServersReachable(config, change.op === 'put' ? '/prefix' : '');
};

function poolsHolding(config: ConfigReader, address: string): string[] {
  return config
    .all('local-address-pools')
    .filter((o) => o.spec.addresses.includes(address))
    .map((o) => o.name);
}

const checkPool: Check = (config, change) => {
  if (change.op === 'delete') {
    refusedWhileUsed('local address pool', change.name, [
      ['virtual services', config.namesWhere('virtual-services', { local_address_pool: change.name })],
    ]);
    return;
  }
  const pool = spec('local-address-pools', config, change);
  requireExisting(config, 'nics', pool.nic, '/nic', 'NIC');
  if (pool.portRange.min > pool.portRange.max) {
    throw invalid('/portRange', `port range ${pool.portRange.min}-${pool.portRange.max} is empty: min is above max`);
  }
  listedOnce(pool.addresses, '/addresses');
  pool.addresses.forEach((address, i) => notV4Mapped(address, `/addresses/${i}`));
  checkPoolUsers(config, change.name, poolFamily(pool.addresses));
  pool.addresses.forEach((address, i) => {
    const otherPools = others(poolsHolding(config, address), change.name);
    if (otherPools.length > 0) throw conflict(`/addresses/${i}`, `${address} is already in local address pool '${otherPools[0]}'`);
    const services = config.namesWhere('virtual-services', { address });
    if (services.length > 0) throw conflict(`/addresses/${i}`, `${address} is the address of virtual service '${services[0]}'`);
  });
};

const checkHealthCheck: Check = (config, change) => {
  if (change.op === 'delete') {
    refusedWhileUsed('health check', change.name, [
      ['virtual services', config.namesWhere('virtual-services', { health_check: change.name })],
    ]);
    return;
  }
  const check = spec('health-checks', config, change);
  if (check.timeoutMs > check.intervalMs) {
    throw invalid('/timeoutMs', `timeoutMs ${check.timeoutMs} is longer than intervalMs ${check.intervalMs}`);
  }
  if (check.http !== undefined && check.type !== 'http') throw invalid('/http', `http settings apply only to type http, not ${check.type}`);
  if (check.udp !== undefined && check.type !== 'udp') throw invalid('/udp', `udp settings apply only to type udp, not ${check.type}`);
  if (check.type === 'udp' && check.udp === undefined) throw invalid('/udp', 'type udp needs udp.payload');
};

const checkService: Check = (config, change) => {
  if (change.op === 'delete') return;
  const service = spec('virtual-services', config, change);
  requireExisting(config, 'nics', service.nic, '/nic', 'NIC');
  requireExisting(config, 'local-address-pools', service.localAddressPool, '/localAddressPool', 'local address pool');
  if (service.healthCheck !== undefined) requireExisting(config, 'health-checks', service.healthCheck, '/healthCheck', 'health check');
  if (service.protocol === 'udp' && (service.clientAddress === 'toa' || service.clientAddress === 'proxy-protocol-v1')) {
    throw invalid('/clientAddress', `${service.clientAddress} works only with tcp; udp services can use proxy-protocol-v2 or none`);
  }
  const pools = poolsHolding(config, service.address);
  if (pools.length > 0) throw conflict('/address', `${service.address} is a local address of pool '${pools[0]}'`);
  checkServiceFamilies(config, { name: change.name, ...service });
  checkAccessControl(service.accessControl);
};

const checkRealServer: Check = (config, change) => {
  if (change.op === 'delete') return;
  const server = spec('real-servers', config, change);
  checkServerFamily(config, change.scope, server.address);
  if (!reachability(config)(server.address)) {
    throw invalid('/address', `${server.address} is not reachable: no NIC network, route or gateway of ${familyName(familyOf(server.address))} covers it`);
  }
};

const checks: Partial<Record<Change['kind'], Check>> = {
  nics: checkNic,
  routes: checkRoute,
  'local-address-pools': checkPool,
  'health-checks': checkHealthCheck,
  'virtual-services': checkService,
  'real-servers': checkRealServer,
};

/** Throws a ConfigError for the first rule the changes break. */
export function checkConsistency(config: ConfigReader, changes: Change[]): void {
  for (const change of changes) checks[change.kind]?.(config, change);
}
