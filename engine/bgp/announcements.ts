// What this node announces (DESIGN.md, "Cluster (multi-active) decisions"): each VIP with a
// healthy service as a host route (/32 or /128), the node's own local addresses likewise, and
// the covering prefixes of the whole cluster's local addresses, of either family. A node
// announces nothing until it is ready (it holds the cluster's sessions): a VIP drawn to a node
// without them would reset every connection. Drain is the speaker's (it withdraws whatever
// this returns while the sessions stay up).

import { formatCidr, type Prefix } from '../../store/ip.js';
import { parseStrictAddress, parseStrictCidr } from './bird-values.js';

export interface AnnouncementInput {
  /** The node holds the cluster's sessions and its data plane forwards. */
  ready: boolean;
  /** One entry per service: a VIP listed several times is up when any of its services is. */
  vips: readonly { address: string; up: boolean }[];
  /** The addresses of this node's local-address pools. */
  localAddresses: readonly string[];
  coveringPrefixes: readonly string[];
}

const hostLength = { 4: 32, 6: 128 } as const;

/** The prefixes to announce, canonical, IPv4 first, sorted by address then length, without duplicates. */
export function announcedPrefixes(input: AnnouncementInput): string[] {
  if (!input.ready) return [];
  const hosts = [...input.vips.filter((v) => v.up).map((v) => v.address), ...input.localAddresses];
  const prefixes: Prefix[] = [];
  for (const text of hosts) {
    const address = parseStrictAddress(text);
    if (address) prefixes.push({ family: address.family, base: address.value, length: hostLength[address.family] });
  }
  for (const text of input.coveringPrefixes) {
    const prefix = parseStrictCidr(text, true);
    if (prefix) prefixes.push(prefix);
  }
  prefixes.sort((a, b) => a.family - b.family || (a.base < b.base ? -1 : a.base > b.base ? 1 : a.length - b.length));
  return [...new Set(prefixes.map(formatCidr))];
}
