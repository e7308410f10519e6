// What this node announces (DESIGN.md, "Cluster (multi-active) decisions"): each VIP with a
// healthy service as a /32, the node's own local addresses as /32s, and the covering prefixes
// of the whole cluster's local addresses. A node announces nothing until it is ready (it holds
// the cluster's sessions): a VIP drawn to a node without them would reset every connection.
// Drain is the speaker's (it withdraws whatever this returns while the sessions stay up).

import { familyOf, formatCidr, type Prefix } from '../../store/ip.js';
import { parseStrictCidr, parseStrictIPv4 } from './bird-values.js';

export interface AnnouncementInput {
  /** The node holds the cluster's sessions and its data plane forwards. */
  ready: boolean;
  /** One entry per service: a VIP listed several times is up when any of its services is. */
  vips: readonly { address: string; up: boolean }[];
  /** The addresses of this node's local-address pools. */
  localAddresses: readonly string[];
  coveringPrefixes: readonly string[];
}

/** The prefixes to announce, canonical, sorted by address then length, without duplicates. */
export function announcedPrefixes(input: AnnouncementInput): string[] {
  if (!input.ready) return [];
  const hosts = [...input.vips.filter((v) => v.up).map((v) => v.address), ...input.localAddresses];
  const prefixes: Prefix[] = [];
  // IPv6 VIPs and local addresses are not announced: bird has no ipv6 channel yet (bird-config.ts).
  for (const address of hosts.filter((a) => familyOf(a) === 4)) {
    const parsed = parseStrictIPv4(address);
    if (parsed) prefixes.push({ family: 4, base: parsed.value, length: 32 });
  }
  for (const text of input.coveringPrefixes) {
    const prefix = parseStrictCidr(text, true);
    if (prefix) prefixes.push(prefix);
  }
  prefixes.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : a.length - b.length));
  return [...new Set(prefixes.map(formatCidr))];
}
