// Which NICs reach an address, ranked the way the data plane picks its next hop
// (native/dataplane/snapshot.cc build_routes): longest prefix first, and at equal length
// connected networks, then configured routes, then gateways, then configuration order. Each
// family has its own table: an address is reached only through prefixes of its family, and a
// gateway is the default route of its own family.

import { contains, familyOf, parseAddress, parseCidr, type Prefix } from './ip.js';

export interface ReachNic {
  name: string;
  networks: string[];
  gateway?: string;
}

export interface ReachRoute {
  prefix: string;
  nic: string;
}

interface Candidate {
  nic: string;
  prefix: Prefix;
  preference: number;
}

/** Returns, for an address, every NIC that reaches it, the data plane's egress first. */
export function nicsReaching(nics: ReachNic[], routes: ReachRoute[]): (address: string) => string[] {
  const candidates: Candidate[] = [
    ...nics.flatMap((n) => n.networks.map((text) => ({ nic: n.name, prefix: parseCidr(text), preference: 0 }))),
    ...routes.map((r) => ({ nic: r.nic, prefix: parseCidr(r.prefix), preference: 1 })),
    ...nics.filter((n) => n.gateway).map((n) => ({ nic: n.name, prefix: { family: familyOf(n.gateway!), base: 0n, length: 0 }, preference: 2 })),
  ];
  const ranked = candidates
    .map((c, order) => ({ ...c, order }))
    .sort((a, b) => b.prefix.length - a.prefix.length || a.preference - b.preference || a.order - b.order);
  return (address) => {
    const parsed = parseAddress(address);
    const names = ranked.filter((c) => contains(c.prefix, parsed)).map((c) => c.nic);
    return [...new Set(names)];
  };
}
