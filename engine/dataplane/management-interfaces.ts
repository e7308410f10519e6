// The host's management interfaces, which no NIC may take over: a data port reads every frame
// of its interface, so an af_packet port on the interface the API or SSH is reached through
// would cut the operator off the machine. They are the interfaces that hold a default route
// (IPv4 or IPv6) and those that carry the address the API listens on (every interface with an
// address when it listens on a wildcard or a host name), read afresh at each check since
// routes and addresses change. A PCI device is refused when one of them sits on it.

import { readFileSync, readlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename } from 'node:path';
import type { ParsedDevice } from '../../store/devices.js';

export type ApiListen = { host: string; port: number } | { path: string };

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** Interfaces of the IPv4 and IPv6 default routes, from /proc. */
export function defaultRouteInterfaces(): Set<string> {
  const found = new Set<string>();
  for (const line of readLines('/proc/net/route').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (destination === '00000000' && mask === '00000000') found.add(iface);
  }
  for (const line of readLines('/proc/net/ipv6_route')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 10 && /^0{32}$/.test(fields[0]) && fields[1] === '00' && fields[9] !== 'lo') found.add(fields[9]);
  }
  return found;
}

function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || isIP(host) === 0;
}

/** Interfaces that carry the API's listening address. */
function listeningInterfaces(listen: ApiListen): Set<string> {
  const found = new Set<string>();
  if ('path' in listen) return found;
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    const carries = (addresses ?? []).some((a) => (isWildcard(listen.host) ? !a.internal : a.address === listen.host));
    if (carries) found.add(name);
  }
  return found;
}

/** The PCI address an interface sits on, if it is a PCI device's. */
function pciAddressOf(iface: string): string | undefined {
  try {
    const device = basename(readlinkSync(`/sys/class/net/${iface}/device`));
    return /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(device) ? device : undefined;
  } catch {
    return undefined;
  }
}

/** Says why a device would take over a management interface; undefined when it would not. */
export function managementRefusal(device: ParsedDevice, listen: ApiListen): string | undefined {
  const routes = defaultRouteInterfaces();
  const api = listeningInterfaces(listen);
  const why = (iface: string) =>
    routes.has(iface) ? `it holds the default route` : api.has(iface) ? `the API listens on its address` : undefined;
  for (const iface of new Set([...routes, ...api])) {
    const reason = why(iface);
    const taken = device.kind === 'pci' ? pciAddressOf(iface) === device.name : device.interface === iface;
    if (reason && taken) {
      return `${device.name} would take over ${iface}, a management interface (${reason}); start with --allow-management-interface to allow it`;
    }
  }
  return undefined;
}
