// bird.conf rendering: the shape bird 2 reads, values written only after their strict check
// (a hostile value throws before a line exists), and bird's own parser (`bird -p`) accepting
// every file the renderer produces.

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
  ['client', { tap: 'dtap0', source: '10.0.1.2' }],
  ['server', { tap: 'dtap1', source: '10.0.2.2' }],
]);
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

test('renders the router id, BFD, the announced routes and one BGP protocol per neighbour', () => {
  const text = renderBirdConfig(input());
  assert.match(text, /^router id 10\.0\.1\.2;$/m, 'router id from the first neighbour NIC');
  assert.deepEqual(block(text, 'protocol bfd l4lb_bfd {'), [
    'protocol bfd l4lb_bfd {',
    '  interface "dtap0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };',
    '}',
  ]);
  assert.deepEqual(block(text, 'protocol static l4lb_announce {'), [
    'protocol static l4lb_announce {',
    '  ipv4;',
    '  route 10.0.1.10/32 blackhole;',
    '  route 10.0.2.96/28 blackhole;',
    '}',
  ]);
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
    '  ipv4 { import none; export where proto = "l4lb_announce"; next hop self; };',
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
  assert.deepEqual(block(text, 'protocol static l4lb_announce {'), ['protocol static l4lb_announce {', '  ipv4;', '}']);
  assert.doesNotMatch(text, /protocol bfd|bfd on/);
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
    ...hostile.map((tap): [string, BirdConfigInput] => [`tap ${JSON.stringify(tap)}`, input({ paths: new Map([['client', { tap, source: '10.0.1.2' }]]) })]),
    ['tap too long', input({ paths: new Map([['client', { tap: 'a'.repeat(16), source: '10.0.1.2' }]]) })],
    ...['10.0.1.2; }', '10.0.1.2\n', '010.0.1.2', '10.0.1', '0.0.0.0', '10.0.1.256'].map((source): [string, BirdConfigInput] => [
      `source ${JSON.stringify(source)}`,
      input({ paths: new Map([['client', { tap: 'dtap0', source }]]) }),
    ]),
    ...['10.0.1.10/32 blackhole; route 0.0.0.0/0', '10.0.1.10', '10.0.1.10/24', '10.0.1.0/33', '10.0.1.0/24\n'].map((p): [string, BirdConfigInput] => [
      `prefix ${JSON.stringify(p)}`,
      input({ prefixes: [p] }),
    ]),
    ['router id with a newline', input({ settings: settings({ routerId: '10.0.0.1\nprotocol kernel {}' }) })],
    ['neighbour address', input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, address: '10.0.1.254 as 1; }' }] }) })],
    ['neighbour NIC name', input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, nic: 'client"' }] }) })],
    ['AS number as text', input({ settings: settings({ asn: '65001; }' as unknown as number }) })],
    ['AS 0', input({ settings: settings({ asn: 0 }) })],
    ['fractional hold time', input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, holdTimeSeconds: 9.5 }] }) })],
    ['hold time 2', input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, holdTimeSeconds: 2 }] }) })],
    ['covering prefix', input({ settings: settings({ coveringPrefixes: ['10.0.0.0/8;'] }) })],
  ];
  for (const [what, bad] of cases) assert.throws(() => renderBirdConfig(bad), BirdConfigError, what);
});

test('any string in an interface, address or prefix either throws or is a plain token that adds no line', () => {
  const lineCount = (v: BirdConfigInput): number => renderBirdConfig(v).split('\n').length;
  const withValue = (where: string, value: string): BirdConfigInput =>
    where === 'tap' || where === 'source'
      ? input({ paths: new Map([['client', { tap: 'dtap0', source: '10.0.1.2', [where]: value }]]) })
      : where === 'address'
        ? input({ settings: settings({ neighbors: [{ ...settings().neighbors[0]!, address: value }] }) })
        : input({ prefixes: [value] });
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-z."; {}\n/]{1,20}$/)), fc.constantFrom('tap', 'source', 'address', 'prefix'), (value, where) => {
      let lines: number;
      try {
        lines = lineCount(withValue(where, value));
      } catch (err) {
        return err instanceof BirdConfigError;
      }
      const baseline = where === 'prefix' ? '10.0.0.0/8' : where === 'tap' ? 'x' : '10.0.1.1';
      return /^[A-Za-z0-9_./-]+$/.test(value) && lines === lineCount(withValue(where, baseline));
    }),
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
      ['both neighbours on one tap', input({ paths: new Map([['client', paths.get('client')!], ['server', { tap: 'dtap0', source: '10.0.2.2' }]]) })],
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
