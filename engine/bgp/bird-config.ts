// bird.conf (bird 2.0) from validated settings. Every value is checked by bird-values.ts and
// written from its parsed form; anything that does not pass throws BirdConfigError before a
// line is written, so a hostile name or address can never add a statement to the file.
//
// Shape: the prefixes to announce are blackhole routes of one static protocol, and each BGP
// session exports exactly that protocol's routes with next hop self. There is deliberately no
// kernel protocol: the blackholes live in bird's table only and never reach the host's FIB.
// Changing the announced set is a `birdc configure` that bird applies to the static protocol
// alone, without resetting a session.

import { formatAddress, formatCidr, type Address } from '../../store/ip.js';
import { isInterfaceName, parseStrictCidr, parseStrictIPv4 } from './bird-values.js';
import { bgpValueProblem, type BgpSettings } from './settings.js';

/** A NIC's exception path: its kernel (net_tap) interface and the address it holds there. */
export interface NicPath {
  tap: string;
  /** The NIC's probe address without its length: the source of its BGP sessions. */
  source: string;
}

export interface BirdConfigInput {
  settings: BgpSettings;
  /** By NIC name. A neighbour whose NIC has no path yet is left out of the file. */
  paths: ReadonlyMap<string, NicPath>;
  /** Routes to announce (canonical CIDRs, host bits zero). */
  prefixes: readonly string[];
}

export const announceProtocol = 'l4lb_announce';
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

interface CheckedPath {
  tap: string;
  source: Address;
}

function checkedPath(nic: string, path: NicPath): CheckedPath {
  if (!isInterfaceName(path.tap)) throw new BirdConfigError(`paths/${nic}/tap`, 'not an interface name');
  const source = parseStrictIPv4(path.source);
  if (!source?.value) throw new BirdConfigError(`paths/${nic}/source`, 'not a non-zero IPv4 address');
  return { tap: path.tap, source };
}

/** Renders the whole file; throws BirdConfigError when any value fails its check. */
export function renderBirdConfig(input: BirdConfigInput): string {
  const { settings } = input;
  // Checked as if enabled: whatever is written must be valid, whatever the caller's flag.
  const problem = bgpValueProblem({ ...settings, enabled: true });
  if (problem) throw new BirdConfigError(problem.field, problem.message);

  const sessions = settings.neighbors.flatMap((n, index) => {
    const path = input.paths.get(n.nic);
    return path ? [{ index, neighbor: n, address: parseStrictIPv4(n.address)!, path: checkedPath(n.nic, path) }] : [];
  });
  const prefixes = input.prefixes.map((p, i) => {
    const prefix = parseStrictCidr(p, true);
    if (!prefix) throw new BirdConfigError(`prefixes/${i}`, 'not an IPv4 prefix without host bits');
    return prefix;
  });
  const routerId = settings.routerId !== undefined ? parseStrictIPv4(settings.routerId)! : sessions[0]?.path.source;
  if (routerId === undefined) throw new BirdConfigError('routerId', 'no routerId and no neighbor whose NIC has an exception path');

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
  lines.push(`protocol static ${announceProtocol} {`, '  ipv4;');
  for (const prefix of prefixes) lines.push(`  route ${formatCidr(prefix)} blackhole;`);
  lines.push('}');
  for (const s of sessions) {
    lines.push(
      '',
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
      `  ipv4 { import none; export where proto = "${announceProtocol}"; next hop self; };`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}
