// bird.conf (bird 2.0) from validated settings. Every value is checked by bird-values.ts and
// written from its parsed form; anything that does not pass throws BirdConfigError before a
// line is written, so a hostile name or address can never add a statement to the file.
//
// Shape: the prefixes to announce are blackhole routes of one static protocol per family, and
// each BGP session carries the channel of its neighbour's family only (one session per family,
// as operators run them: no IPv6 over an IPv4 session) and exports exactly that family's
// static routes with next hop self. There is deliberately no kernel protocol: the blackholes
// live in bird's tables only and never reach the host's FIB. Changing the announced set is a
// `birdc configure` that bird applies to the static protocols alone, without resetting a session.

import { formatAddress, formatCidr, type Address, type Family } from '../../store/ip.js';
import { isInterfaceName, parseStrictAddress, parseStrictCidr, parseStrictOf } from './bird-values.js';
import { bgpValueProblem, type BgpSettings } from './settings.js';

/** A NIC's exception path: its kernel (net_tap) interface and the probe addresses it holds there. */
export interface NicPath {
  tap: string;
  /** The NIC's probe addresses without their lengths, by family: the sources of its sessions of that family. */
  sources: Partial<Record<Family, string>>;
}

export interface BirdConfigInput {
  settings: BgpSettings;
  /** By NIC name. A neighbour whose NIC has no path yet is left out of the file. */
  paths: ReadonlyMap<string, NicPath>;
  /** Routes to announce, either family (canonical CIDRs, host bits zero). */
  prefixes: readonly string[];
}

/** Per family: bird's channel, and the static protocol that holds that family's announcements. */
const families: Record<Family, { channel: string; announce: string }> = {
  4: { channel: 'ipv4', announce: 'l4lb_announce4' },
  6: { channel: 'ipv6', announce: 'l4lb_announce6' },
};
export const bfdProtocol = 'l4lb_bfd';

/** The protocol name of the neighbour at `index` in the settings. */
export function neighborProtocol(index: number): string {
  return `n_${index}`;
}

export class BirdConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A session's tap and source, checked: the source is the NIC's probe address of the neighbour's family. */
function checkedPath(nic: string, family: Family, path: NicPath): { tap: string; source: Address } {
  if (!isInterfaceName(path.tap)) throw new BirdConfigError(`paths/${nic}/tap`, 'not an interface name');
  const source = parseStrictOf(family, path.sources[family]);
  if (!source?.value) throw new BirdConfigError(`paths/${nic}/sources/${family}`, `not a non-zero canonical IPv${family} address`);
  return { tap: path.tap, source };
}

/** Renders the whole file; throws BirdConfigError when any value fails its check. */
export function renderBirdConfig(input: BirdConfigInput): string {
  const { settings } = input;
  // Checked as if enabled: whatever is written must be valid, whatever the caller's flag.
  const problem = bgpValueProblem({ ...settings, enabled: true });
  if (problem) throw new BirdConfigError(problem.field, problem.message);

  const sessions = settings.neighbors.flatMap((n, index) => {
    const address = parseStrictAddress(n.address)!;
    const path = input.paths.get(n.nic);
    // Left out until the NIC has a tap holding a probe address of the neighbour's family.
    if (path?.sources[address.family] === undefined) return [];
    return [{ index, neighbor: n, address, path: checkedPath(n.nic, address.family, path) }];
  });
  const prefixes = input.prefixes.map((p, i) => {
    const prefix = parseStrictCidr(p, true);
    if (!prefix) throw new BirdConfigError(`prefixes/${i}`, 'not a canonical IPv4 or IPv6 prefix without host bits');
    return prefix;
  });
  const routerId =
    settings.routerId !== undefined ? parseStrictOf(4, settings.routerId)! : sessions.find((s) => s.address.family === 4)?.path.source;
  if (routerId === undefined) throw new BirdConfigError('routerId', 'no routerId and no IPv4 neighbor whose NIC has an exception path');

  const bfdTaps = [...new Set(sessions.filter((s) => s.neighbor.bfd).map((s) => s.path.tap))];
  const lines = [
    '# Written by l4lb from /api/v1/bgp; every change here is overwritten.',
    `router id ${formatAddress(routerId)};`,
    'log stderr all;',
    // No spaces in the time, so `show protocols` keeps one column per field.
    'timeformat protocol "%FT%T.%3f%z";',
    '',
    'protocol device {}',
    '',
  ];
  if (bfdTaps.length > 0) {
    // 100 ms x 3: a dead node's routes go in ~300 ms.
    lines.push(`protocol bfd ${bfdProtocol} {`);
    for (const tap of bfdTaps) lines.push(`  interface "${tap}" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };`);
    lines.push('}', '');
  }
  for (const family of [4, 6] as const) {
    const { channel, announce } = families[family];
    lines.push(`protocol static ${announce} {`, `  ${channel};`);
    for (const prefix of prefixes.filter((p) => p.family === family)) lines.push(`  route ${formatCidr(prefix)} blackhole;`);
    lines.push('}', '');
  }
  for (const s of sessions) {
    const { channel, announce } = families[s.address.family];
    lines.push(
      `protocol bgp ${neighborProtocol(s.index)} {`,
      `  local ${formatAddress(s.path.source)} as ${settings.asn};`,
      `  neighbor ${formatAddress(s.address)} as ${s.neighbor.asn};`,
      `  interface "${s.path.tap}";`,
      '  direct;',
      `  hold time ${s.neighbor.holdTimeSeconds};`,
      // A peer must not keep a dead node's routes as stale: they would blackhole its traffic.
      '  graceful restart off;',
      '  long lived graceful restart off;',
      ...(s.neighbor.bfd ? ['  bfd on;'] : []),
      `  ${channel} { import none; export where proto = "${announce}"; next hop self; };`,
      '}',
      '',
    );
  }
  return lines.join('\n');
}
