// The stored `bgp` settings object (/api/v1/bgp) as the engine uses it, its defaults, and the
// checks a write must pass against the rest of the configuration. The same checks run again
// before bird.conf is rendered (bird-config.ts): nothing the API let through unchecked, and
// nothing the store held from an older version, ever reaches bird.

import { contains, familyOf, parseCidr } from '../../store/ip.js';
import { canonicalPrefix, isAsn, isIntegerIn, isNicName, parseStrictIPv4 } from './bird-values.js';

export interface BgpNeighbor {
  /** The router's address, on one of `nic`'s networks (a direct, single-hop session). */
  address: string;
  asn: number;
  /** The NIC whose exception interface carries the session, from its `probeAddress`. */
  nic: string;
  holdTimeSeconds: number;
  bfd: boolean;
}

export interface BgpSettings {
  enabled: boolean;
  /** This node's AS; 0 while unset (allowed only when disabled). */
  asn: number;
  /** Defaults to the probe address of the first neighbour's NIC. */
  routerId?: string;
  neighbors: BgpNeighbor[];
  /** Announced by every node beside its own /32s (the cluster's local addresses). */
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
}

/** Why `text` is no address bird may peer with or be known by; undefined when it is one. */
function ipv4Problem(text: unknown): string | undefined {
  if (parseStrictIPv4(text)?.value) return undefined;
  // bird gets an ipv4 channel only: IPv6 sessions and announcements are not built yet.
  return typeof text === 'string' && familyOf(text) === 6 ? 'must be IPv4: BGP speaks IPv4 only for now' : 'must be a non-zero IPv4 address';
}

/** Problems of the settings on their own: every value bird.conf would carry, strictly. */
export function bgpValueProblem(s: BgpSettings): FieldProblem | undefined {
  if (!isAsn(s.asn) && (s.enabled || s.asn !== 0)) return { field: '/asn', message: 'must be an AS number from 1 to 4294967295 (required when enabled)' };
  const routerId = s.routerId === undefined ? undefined : ipv4Problem(s.routerId);
  if (routerId) return { field: '/routerId', message: routerId };
  if (s.neighbors.length > limits.neighbors) return { field: '/neighbors', message: `at most ${limits.neighbors} neighbors` };
  const seen = new Set<bigint>();
  for (const [i, n] of s.neighbors.entries()) {
    const at = `/neighbors/${i}`;
    const problem = ipv4Problem(n.address);
    if (problem) return { field: `${at}/address`, message: problem };
    const address = parseStrictIPv4(n.address)!.value;
    if (seen.has(address)) return { field: `${at}/address`, message: `neighbor ${n.address} is listed twice` };
    seen.add(address);
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
    if (!canonicalPrefix(p)) return { field: `/coveringPrefixes/${i}`, message: 'must be an IPv4 prefix without host bits (10.0.2.0/24)' };
  }
  if (s.enabled && s.routerId === undefined && s.neighbors.length === 0) {
    return { field: '/routerId', message: 'required when there is no neighbor to take it from' };
  }
  return undefined;
}

/**
 * Problems of the settings against the NICs: each neighbour's NIC must exist, carry a
 * `probeAddress` (the session's source, on its exception interface) and reach the neighbour
 * directly (the address lies in one of its networks and is not the probe address itself).
 */
export function bgpSettingsProblem(s: BgpSettings, nics: readonly BgpNic[]): FieldProblem | undefined {
  const own = bgpValueProblem(s);
  if (own) return own;
  for (const [i, n] of s.neighbors.entries()) {
    const at = `/neighbors/${i}`;
    const nic = nics.find((x) => x.name === n.nic);
    if (!nic) return { field: `${at}/nic`, message: `no NIC named '${n.nic}'` };
    if (nic.probeAddress === undefined) {
      return { field: `${at}/nic`, message: `NIC '${n.nic}' has no probeAddress: the BGP session needs its kernel side` };
    }
    const address = parseStrictIPv4(n.address)!;
    if (!nic.networks.some((net) => contains(parseCidr(net), address))) {
      return { field: `${at}/address`, message: `${n.address} is in none of NIC '${n.nic}''s networks (sessions are single-hop)` };
    }
    if (parseCidr(nic.probeAddress).base === address.value) {
      return { field: `${at}/address`, message: `${n.address} is NIC '${n.nic}''s own probeAddress` };
    }
  }
  return undefined;
}
