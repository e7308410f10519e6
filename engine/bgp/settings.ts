// The stored `bgp` settings object (/api/v1/bgp) as the engine uses it, its defaults, and the
// checks a write must pass against the rest of the configuration. The same checks run again
// before bird.conf is rendered (bird-config.ts): nothing the API let through unchecked, and
// nothing the store held from an older version, ever reaches bird.

import { contains, parseCidr, type Family } from '../../store/ip.js';
import { canonicalPrefix, isAsn, isIntegerIn, isNicName, parseStrictAddress, parseStrictOf } from './bird-values.js';

export interface BgpNeighbor {
  /** The router's address, IPv4 or IPv6, on one of `nic`'s networks (a direct, single-hop session). */
  address: string;
  asn: number;
  /** The NIC whose exception interface carries the session, from its probe address of the neighbour's family. */
  nic: string;
  holdTimeSeconds: number;
  bfd: boolean;
}

export interface BgpSettings {
  enabled: boolean;
  /** This node's AS; 0 while unset (allowed only when disabled). */
  asn: number;
  /** IPv4 whatever the sessions' families; defaults to the probeAddress of the first IPv4 neighbour's NIC. */
  routerId?: string;
  neighbors: BgpNeighbor[];
  /** Announced by every node beside its own /32s and /128s (the cluster's local addresses), either family. */
  coveringPrefixes: string[];
  /** Withdraw everything while keeping the sessions up (maintenance). */
  drain: boolean;
}

/** The spec as a request or the store may hold it: the defaulted fields optional. */
export type BgpSpec = Partial<Omit<BgpSettings, 'neighbors'>> & { neighbors?: (Omit<BgpNeighbor, 'holdTimeSeconds' | 'bfd'> & Partial<BgpNeighbor>)[] };

/** The settings object's name in the store (kind `settings`), beside `sync`. */
export const bgpSettingsName = 'bgp';

/** A data-centre hold time (keepalive 3 s); BFD detects a dead peer in ~300 ms anyway. */
export const defaultHoldTimeSeconds = 9;
export const limits = { neighbors: 16, coveringPrefixes: 64, holdTime: { min: 3, max: 65535 } } as const;

export function toBgpSettings(spec: BgpSpec): BgpSettings {
  return {
    enabled: spec.enabled ?? false,
    asn: spec.asn ?? 0,
    ...(spec.routerId !== undefined ? { routerId: spec.routerId } : {}),
    neighbors: (spec.neighbors ?? []).map((n) => ({
      address: n.address,
      asn: n.asn,
      nic: n.nic,
      holdTimeSeconds: n.holdTimeSeconds ?? defaultHoldTimeSeconds,
      bfd: n.bfd ?? true,
    })),
    coveringPrefixes: spec.coveringPrefixes ?? [],
    drain: spec.drain ?? false,
  };
}

/** A problem with one field, as a JSON pointer into the request body. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** What the checks need of a NIC (a stored NIC spec with its name fits). */
export interface BgpNic {
  name: string;
  networks: readonly string[];
  probeAddress?: string;
  probeAddress6?: string;
}

/** The NIC field whose address a session of each family runs from (one session per family). */
export const probeField: Record<Family, 'probeAddress' | 'probeAddress6'> = { 4: 'probeAddress', 6: 'probeAddress6' };

/** Problems of the settings on their own: every value bird.conf would carry, strictly. */
export function bgpValueProblem(s: BgpSettings): FieldProblem | undefined {
  if (!isAsn(s.asn) && (s.enabled || s.asn !== 0)) return { field: '/asn', message: 'must be an AS number from 1 to 4294967295 (required when enabled)' };
  // bird's router id is a 32-bit number written as IPv4, whatever the sessions' families.
  if (s.routerId !== undefined && !parseStrictOf(4, s.routerId)?.value) {
    return { field: '/routerId', message: 'must be a non-zero IPv4 address (the router id is IPv4 for either family)' };
  }
  if (s.neighbors.length > limits.neighbors) return { field: '/neighbors', message: `at most ${limits.neighbors} neighbors` };
  const seen = new Set<string>();
  for (const [i, n] of s.neighbors.entries()) {
    const at = `/neighbors/${i}`;
    if (!parseStrictAddress(n.address)?.value) {
      return { field: `${at}/address`, message: 'must be a non-zero IPv4 address or a canonical (RFC 5952) IPv6 address' };
    }
    // Canonical text only, so one address has one spelling here.
    if (seen.has(n.address)) return { field: `${at}/address`, message: `neighbor ${n.address} is listed twice` };
    seen.add(n.address);
    if (!isAsn(n.asn)) return { field: `${at}/asn`, message: 'must be an AS number from 1 to 4294967295' };
    if (!isNicName(n.nic)) return { field: `${at}/nic`, message: 'must be a NIC name' };
    const { min, max } = limits.holdTime;
    if (!isIntegerIn(n.holdTimeSeconds, min, max)) return { field: `${at}/holdTimeSeconds`, message: `must be an integer from ${min} to ${max}` };
    if (typeof n.bfd !== 'boolean') return { field: `${at}/bfd`, message: 'must be a boolean' };
  }
  if (s.coveringPrefixes.length > limits.coveringPrefixes) {
    return { field: '/coveringPrefixes', message: `at most ${limits.coveringPrefixes} prefixes` };
  }
  for (const [i, p] of s.coveringPrefixes.entries()) {
    if (!canonicalPrefix(p)) {
      return { field: `/coveringPrefixes/${i}`, message: 'must be a canonical IPv4 or IPv6 prefix without host bits (10.0.2.0/24, 2001:db8:2::/64)' };
    }
  }
  if (s.enabled && s.routerId === undefined && !s.neighbors.some((n) => parseStrictAddress(n.address)!.family === 4)) {
    return { field: '/routerId', message: "required when no neighbor is IPv4 (it defaults to the probeAddress of the first IPv4 neighbor's NIC)" };
  }
  return undefined;
}

/**
 * Problems of the settings against the NICs: each neighbour's NIC must exist, carry the probe
 * address of the neighbour's family (the session's source, on its exception interface) and
 * reach the neighbour directly (the address lies in one of its networks and is not that probe
 * address itself).
 */
export function bgpSettingsProblem(s: BgpSettings, nics: readonly BgpNic[]): FieldProblem | undefined {
  const own = bgpValueProblem(s);
  if (own) return own;
  for (const [i, n] of s.neighbors.entries()) {
    const at = `/neighbors/${i}`;
    const nic = nics.find((x) => x.name === n.nic);
    if (!nic) return { field: `${at}/nic`, message: `no NIC named '${n.nic}'` };
    const address = parseStrictAddress(n.address)!;
    const field = probeField[address.family];
    const probe = nic[field];
    if (probe === undefined) {
      return { field: `${at}/nic`, message: `NIC '${n.nic}' has no ${field}: the BGP session to ${n.address} needs its kernel side` };
    }
    if (!nic.networks.some((net) => contains(parseCidr(net), address))) {
      return { field: `${at}/address`, message: `${n.address} is in none of NIC '${n.nic}''s networks (sessions are single-hop)` };
    }
    if (parseCidr(probe).base === address.value) {
      return { field: `${at}/address`, message: `${n.address} is NIC '${n.nic}''s own ${field}` };
    }
  }
  return undefined;
}
