// bird.conf rendering: the shape bird 2 reads (one static protocol per family, each session
// carrying its neighbour's family), values written only after their strict check (a hostile
// value throws before a line exists), and bird's own parser (`bird -p`) accepting every file
// the renderer produces.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BirdConfigError, renderBirdConfig, type BirdConfigInput, type NicPath } from '../../engine/bgp/bird-config.js';
import { toBgpSettings, type BgpSettings } from '../../engine/bgp/settings.js';
import { tryRun } from '../e2e/netns.js';

const settings = (over: Partial<BgpSettings> = {}): BgpSettings => ({
  ...toBgpSettings({
    enabled: true,
    asn: 65001,
    neighbors: [
      { address: '10.0.1.254', asn: 65000, nic: 'client' },
      { address: '10.0.2.254', asn: 65000, nic: 'server', holdTimeSeconds: 30, bfd: false },
    ],
    coveringPrefixes: ['10.0.2.96/28'],
  }),
  ...over,
});
const paths = new Map<string, NicPath>([
  ['client', { tap: 'dtap0', sources: { 4: '10.0.1.2', 6: '2001:db8:1::2' } }],
  ['server', { tap: 'dtap1', sources: { 4: '10.0.2.2' } }],
]);
const neighbor6 = { address: '2001:db8:1::fe', asn: 65000, nic: 'client', holdTimeSeconds: 9, bfd: true };
/** The fixture's neighbours and an IPv6 one over the client NIC (n_2). */
const dualStack = (over: Partial<BgpSettings> = {}): BgpSettings => settings({ neighbors: [...settings().neighbors, neighbor6], ...over });
const clientPath = (sources: NicPath['sources']): Map<string, NicPath> => new Map([['client', { tap: 'dtap0', sources }]]);
const input = (over: Partial<BirdConfigInput> = {}): BirdConfigInput => ({
  settings: settings(),
  paths,
  prefixes: ['10.0.1.10/32', '10.0.2.96/28'],
  ...over,
});

/** The lines of the block that starts with `head`, up to its closing brace. */
function block(text: string, head: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(head);
  assert.ok(start >= 0, `no '${head}' in:\n${text}`);
  return lines.slice(start, lines.indexOf('}', start) + 1);
}

test('renders the router id, BFD, the announced routes by family and one BGP protocol per neighbour', () => {
  const text = renderBirdConfig(input());
  assert.match(text, /^router id 10\.0\.1\.2;$/m, 'router id from the first neighbour NIC');
  assert.deepEqual(block(text, 'protocol bfd l4lb_bfd {'), [
    'protocol bfd l4lb_bfd {',
    '  interface "dtap0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };',
    '}',
  ]);
  assert.deepEqual(block(text, 'protocol static l4lb_announce4 {'), [
    'protocol static l4lb_announce4 {',
    '  ipv4;',
    '  route 10.0.1.10/32 blackhole;',
    '  route 10.0.2.96/28 blackhole;',
    '}',
  ]);
  assert.deepEqual(block(text, 'protocol static l4lb_announce6 {'), ['protocol static l4lb_announce6 {', '  ipv6;', '}']);
  assert.deepEqual(block(text, 'protocol bgp n_0 {'), [
    'protocol bgp n_0 {',
    '  local 10.0.1.2 as 65001;',
    '  neighbor 10.0.1.254 as 65000;',
    '  interface "dtap0";',
    '  direct;',
    '  hold time 9;',
    '  graceful restart off;',
    '  long lived graceful restart off;',
    '  bfd on;',
    '  ipv4 { import none; export where proto = "l4lb_announce4"; next hop self; };',
    '}',
  ]);
  const second = block(text, 'protocol bgp n_1 {');
  assert.ok(second.includes('  hold time 30;') && second.includes('  local 10.0.2.2 as 65001;'));
  assert.ok(!second.includes('  bfd on;'));
  assert.doesNotMatch(text, /protocol kernel/, 'the blackholes must never reach the FIB');
});

test('an explicit router id wins; no prefixes is an empty static protocol; no BFD neighbour, no BFD protocol', () => {
  const text = renderBirdConfig(
    input({ settings: settings({ routerId: '192.0.2.1', neighbors: settings().neighbors.map((n) => ({ ...n, bfd: false })) }), prefixes: [] }),
  );
  assert.match(text, /^router id 192\.0\.2\.1;$/m);
  assert.deepEqual(block(text, 'protocol static l4lb_announce4 {'), ['protocol static l4lb_announce4 {', '  ipv4;', '}']);
  assert.doesNotMatch(text, /protocol bfd|bfd on/);
});

test('an IPv6 neighbour runs from the NIC\'s IPv6 probe address with an ipv6 channel; IPv6 prefixes go to their own static protocol', () => {
  const text = renderBirdConfig(input({ settings: dualStack(), prefixes: ['10.0.1.10/32', '2001:db8:1::10/128', '2001:db8:2::/64'] }));
  assert.match(text, /^router id 10\.0\.1\.2;$/m, 'the router id stays IPv4');
  assert.deepEqual(block(text, 'protocol static l4lb_announce4 {'), ['protocol static l4lb_announce4 {', '  ipv4;', '  route 10.0.1.10/32 blackhole;', '}']);
  assert.deepEqual(block(text, 'protocol static l4lb_announce6 {'), [
    'protocol static l4lb_announce6 {',
    '  ipv6;',
    '  route 2001:db8:1::10/128 blackhole;',
    '  route 2001:db8:2::/64 blackhole;',
    '}',
  ]);
  assert.deepEqual(block(text, 'protocol bgp n_2 {'), [
    'protocol bgp n_2 {',
    '  local 2001:db8:1::2 as 65001;',
    '  neighbor 2001:db8:1::fe as 65000;',
    '  interface "dtap0";',
    '  direct;',
    '  hold time 9;',
    '  graceful restart off;',
    '  long lived graceful restart off;',
    '  bfd on;',
    '  ipv6 { import none; export where proto = "l4lb_announce6"; next hop self; };',
    '}',
  ]);
  assert.ok(!block(text, 'protocol bgp n_0 {').some((l) => /ipv6/.test(l)), 'an IPv4 session carries no IPv6 routes');
  assert.equal(text.match(/interface "dtap0" \{ min rx/g)?.length, 1, 'one BFD interface for both families');
});

test('with only IPv6 neighbours the router id must be given; an IPv6 neighbour over a NIC without an IPv6 source is left out', () => {
  const only6 = settings({ neighbors: [neighbor6] });
  assert.throws(() => renderBirdConfig(input({ settings: only6 })), /\/routerId: required when no neighbor is IPv4/);
  assert.match(renderBirdConfig(input({ settings: { ...only6, routerId: '192.0.2.1' } })), /^router id 192\.0\.2\.1;$/m);
  const text = renderBirdConfig(input({ settings: dualStack(), paths: clientPath({ 4: '10.0.1.2' }) }));
  assert.match(text, /protocol bgp n_0 \{/);
  assert.doesNotMatch(text, /protocol bgp n_2|2001:db8:1::2/);
  assert.throws(() => renderBirdConfig(input({ settings: dualStack(), paths: clientPath({ 6: '2001:db8:1::2' }) })), /routerId: no routerId and no IPv4 neighbor/);
});

test('a neighbour whose NIC has no exception path yet is left out, keeping the others\' names', () => {
  const text = renderBirdConfig(input({ paths: new Map([['server', paths.get('server')!]]) }));
  assert.doesNotMatch(text, /protocol bgp n_0/);
  assert.match(text, /protocol bgp n_1 \{/);
  assert.match(text, /^router id 10\.0\.2\.2;$/m);
  assert.throws(() => renderBirdConfig(input({ paths: new Map() })), /routerId: no routerId/);
});

test('hostile values are refused before anything is rendered', () => {
  const hostile = ['eth0"; }', 'a\nb', 'x;', '}', '"', 'eth0 ', ''];
  const cases: [string, BirdConfigInput][] = [
    ...hostile.map((tap): [string, BirdConfigInput] => [`tap ${JSON.stringify(tap)}`, input({ paths: new Map([['client', { tap, sources: { 4: '10.0.1.2' } }]]) })]),
    ['tap too long', input({ paths: new Map([['client', { tap: 'a'.repeat(16), sources: { 4: '10.0.1.2' } }]]) })],
    ...['10.0.1.2; }', '10.0.1.2\n', '010.0.1.2', '10.0.1', '0.0.0.0', '10.0.1.256', '2001:db8:1::2'].map((source): [string, BirdConfigInput] => [
      `source ${JSON.stringify(source)}`,
      input({ paths: clientPath({ 4: source }) }),
    ]),
    // IPv6: canonical text only (RFC 5952, lower case), no zone, no IPv4-mapped or embedded quad.
    ...['2001:DB8:1::2', '2001:db8:1:0:0:0:0:2', '2001:db8:1::2%dtap0', '::ffff:10.0.1.2', '::', '2001:db8:1::2; }', '10.0.1.2'].map(
      (source): [string, BirdConfigInput] => [`source6 ${JSON.stringify(source)}`, input({ settings: dualStack(), paths: clientPath({ 4: '10.0.1.2', 6: source }) })],
    ),
    ...[
      '10.0.1.10/32 blackhole; route 0.0.0.0/0', '10.0.1.10', '10.0.1.10/24', '10.0.1.0/33', '10.0.1.0/24\n',
      '2001:db8::1/64', '2001:db8::/129', '2001:db8::/064', '2001:DB8::/32', '2001:db8:0::/48', '::ffff:10.0.0.0/104', '2001:db8::/32 blackhole',
    ].map((p): [string, BirdConfigInput] => [`prefix ${JSON.stringify(p)}`, input({ prefixes: [p] })]),
    ['router id with a newline', input({ settings: settings({ routerId: '10.0.0.1\nprotocol kernel {}' }) })],
    ['neighbour address', input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, address: '10.0.1.254 as 1; }' }] }) })],
    ...['2001:DB8:1::FE', '2001:db8:1:0::fe', '::', 'fe80::1%dtap0'].map((address): [string, BirdConfigInput] => [
      `IPv6 neighbour ${JSON.stringify(address)}`,
      input({ settings: dualStack({ neighbors: [{ ...neighbor6, address }] }) }),
    ]),
    ['IPv6 router id', input({ settings: settings({ routerId: '2001:db8::1' }) })],
    ['neighbour NIC name', input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, nic: 'client"' }] }) })],
    ['AS number as text', input({ settings: settings({ asn: '65001; }' as unknown as number }) })],
    ['AS 0', input({ settings: settings({ asn: 0 }) })],
    ['fractional hold time', input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, holdTimeSeconds: 9.5 }] }) })],
    ['hold time 2', input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, holdTimeSeconds: 2 }] }) })],
    ['covering prefix', input({ settings: settings({ coveringPrefixes: ['10.0.0.0/8;'] }) })],
    ['IPv6 covering prefix with host bits', input({ settings: settings({ coveringPrefixes: ['2001:db8:2::1/64'] }) })],
  ];
  for (const [what, bad] of cases) assert.throws(() => renderBirdConfig(bad), BirdConfigError, what);
});

test('any string in an interface, address or prefix either throws or is a plain token that adds no line', () => {
  const lineCount = (v: BirdConfigInput): number => renderBirdConfig(v).split('\n').length;
  // Both families in use: the client NIC carries an IPv4 and an IPv6 session.
  const sources = { 4: '10.0.1.2', 6: '2001:db8:1::2' };
  const withValue = (where: string, value: string): BirdConfigInput =>
    where === 'tap'
      ? input({ settings: dualStack(), paths: new Map([['client', { tap: value, sources }]]) })
      : where === 'source4' || where === 'source6'
        ? input({ settings: dualStack(), paths: clientPath({ ...sources, [where.slice(-1)]: value }) })
        : where === 'address'
          ? input({ settings: dualStack({ neighbors: [{ ...settings().neighbors[0]!, address: value }, ...dualStack().neighbors.slice(1)] }) })
          : input({ settings: dualStack(), prefixes: [value] });
  const baseline: Record<string, string> = { tap: 'x', source4: '10.0.1.1', source6: '2001:db8:1::1', address: '10.0.1.1', prefix: '10.0.0.0/8' };
  fc.assert(
    fc.property(
      // fc.ipV6() spells addresses every way (upper case, uncompressed, embedded quads): only canonical ones may pass.
      fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-z:."; {}\n/%]{1,20}$/), fc.ipV6(), fc.ipV6().map((a) => `${a}/64`)),
      fc.constantFrom('tap', 'source4', 'source6', 'address', 'prefix'),
      (value, where) => {
        let lines: number;
        try {
          lines = lineCount(withValue(where, value));
        } catch (err) {
          return err instanceof BirdConfigError;
        }
        return /^[A-Za-z0-9_.:/-]+$/.test(value) && lines === lineCount(withValue(where, baseline[where]!));
      },
    ),
    { numRuns: 2000 },
  );
});

test('bird -p accepts every rendered configuration', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-bird-'));
  try {
    const variants: [string, BirdConfigInput][] = [
      ['full', input()],
      ['nothing announced', input({ prefixes: [] })],
      ['no neighbour, explicit router id', input({ settings: settings({ routerId: '192.0.2.1', neighbors: [] }) })],
      ['iBGP, 4-octet AS, longest hold time, default route', input({
        settings: settings({ asn: 4294967295, neighbors: [{ address: '10.0.1.254', asn: 4294967295, nic: 'client', holdTimeSeconds: 65535, bfd: true }] }),
        prefixes: ['0.0.0.0/0', '255.255.255.255/32'],
      })],
      ['both neighbours on one tap', input({ paths: new Map([['client', paths.get('client')!], ['server', { tap: 'dtap0', sources: { 4: '10.0.2.2' } }]]) })],
      ['IPv4 and IPv6 neighbours and prefixes', input({ settings: dualStack(), prefixes: ['10.0.1.10/32', '2001:db8:1::10/128', '2001:db8:2::/64'] })],
      ['only IPv6 neighbours, explicit router id, IPv6 default route', input({
        settings: settings({ routerId: '192.0.2.1', neighbors: [neighbor6] }),
        prefixes: ['::/0', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128'],
      })],
    ];
    for (const [what, v] of variants) {
      const file = join(dir, 'bird.conf');
      writeFileSync(file, renderBirdConfig(v));
      const r = await tryRun('bird', ['-p', '-c', file]);
      assert.ok(r.ok, `${what}: bird -p refused it: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
