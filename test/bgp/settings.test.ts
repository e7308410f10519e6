// The checks a `bgp` write must pass: values bird.conf would carry, and the neighbours against
// the NICs (the NIC exists, has the probe address of the neighbour's family, and reaches the
// neighbour directly).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bgpSettingsProblem, toBgpSettings, type BgpNic, type BgpSpec } from '../../engine/bgp/settings.js';

const nics: BgpNic[] = [
  { name: 'client', networks: ['10.0.1.0/24', '2001:db8:1::/64'], probeAddress: '10.0.1.2/24', probeAddress6: '2001:db8:1::2/64' },
  { name: 'server', networks: ['10.0.2.0/24', '2001:db8:2::/64'], probeAddress: '10.0.2.2/24' },
  { name: 'spare', networks: ['10.0.3.0/24'] },
];
const neighbor6 = { address: '2001:db8:1::fe', asn: 65000, nic: 'client' };
const spec = (over: Partial<BgpSpec> = {}): BgpSpec => ({
  enabled: true,
  asn: 65001,
  neighbors: [{ address: '10.0.1.254', asn: 65000, nic: 'client' }],
  ...over,
});
const problem = (over: Partial<BgpSpec> = {}) => bgpSettingsProblem(toBgpSettings(spec(over)), nics);

test('defaults: disabled, hold time 9 s, BFD on, no covering prefix, not draining', () => {
  const s = toBgpSettings({ asn: 65001, neighbors: [{ address: '10.0.1.254', asn: 65000, nic: 'client' }] });
  assert.deepEqual(s, {
    enabled: false,
    asn: 65001,
    neighbors: [{ address: '10.0.1.254', asn: 65000, nic: 'client', holdTimeSeconds: 9, bfd: true }],
    coveringPrefixes: [],
    drain: false,
  });
  assert.equal(problem(), undefined);
});

test('each problem names its field', () => {
  const n = spec().neighbors![0]!;
  const cases: [Partial<BgpSpec>, string, RegExp][] = [
    [{ asn: 0 }, '/asn', /AS number/],
    [{ asn: undefined }, '/asn', /required when enabled/],
    [{ routerId: '10.0.0.300' }, '/routerId', /IPv4/],
    [{ neighbors: [] }, '/routerId', /no neighbor/],
    [{ neighbors: [n, { ...n }] }, '/neighbors/1/address', /twice/],
    [{ neighbors: [{ ...n, nic: 'nope' }] }, '/neighbors/0/nic', /no NIC named 'nope'/],
    [{ neighbors: [{ ...n, nic: 'spare', address: '10.0.3.254' }] }, '/neighbors/0/nic', /no probeAddress:/],
    [{ neighbors: [{ ...n, address: '10.0.9.1' }] }, '/neighbors/0/address', /none of NIC 'client''s networks/],
    [{ neighbors: [{ ...n, address: '10.0.1.2' }] }, '/neighbors/0/address', /own probeAddress/],
    [{ neighbors: [{ ...n, holdTimeSeconds: 70000 }] }, '/neighbors/0/holdTimeSeconds', /3 to 65535/],
    [{ coveringPrefixes: ['10.0.2.97/28'] }, '/coveringPrefixes/0', /host bits/],
    // IPv6: the router id stays IPv4; a neighbour needs its NIC's probeAddress6; canonical text only.
    [{ routerId: '2001:db8::1' }, '/routerId', /IPv4/],
    [{ neighbors: [neighbor6] }, '/routerId', /required when no neighbor is IPv4/],
    [{ routerId: '192.0.2.1', neighbors: [{ ...neighbor6, nic: 'server', address: '2001:db8:2::fe' }] }, '/neighbors/0/nic', /NIC 'server' has no probeAddress6/],
    [{ neighbors: [n, { ...neighbor6, address: '2001:db8:9::fe' }] }, '/neighbors/1/address', /none of NIC 'client''s networks/],
    [{ neighbors: [n, { ...neighbor6, address: '2001:db8:1::2' }] }, '/neighbors/1/address', /own probeAddress6/],
    [{ neighbors: [n, neighbor6, { ...neighbor6 }] }, '/neighbors/2/address', /twice/],
    ...['2001:DB8:1::FE', '2001:db8:1:0:0:0:0:fe', '::ffff:10.0.1.254', 'fe80::1%client', '::'].map(
      (address): [Partial<BgpSpec>, string, RegExp] => [{ neighbors: [n, { ...neighbor6, address }] }, '/neighbors/1/address', /canonical \(RFC 5952\) IPv6/],
    ),
    ...['2001:db8:2::1/64', '2001:DB8:2::/64', '2001:db8::/129', '::ffff:10.0.0.0/104'].map(
      (prefix): [Partial<BgpSpec>, string, RegExp] => [{ coveringPrefixes: ['10.0.2.96/28', prefix] }, '/coveringPrefixes/1', /IPv6 prefix without host bits/],
    ),
  ];
  for (const [over, field, message] of cases) {
    const p = problem(over);
    assert.equal(p?.field, field, JSON.stringify(over));
    assert.match(p!.message, message);
  }
  assert.equal(problem({ enabled: false, asn: undefined, neighbors: [] }), undefined, 'a disabled speaker needs no AS or router id');
});

test('IPv6 neighbours and covering prefixes are accepted beside IPv4 ones; with IPv6 neighbours only, a given router id', () => {
  const n = spec().neighbors![0]!;
  assert.equal(problem({ neighbors: [n, neighbor6], coveringPrefixes: ['10.0.2.96/28', '2001:db8:2::/64', '::/0'] }), undefined);
  assert.equal(problem({ neighbors: [neighbor6], routerId: '192.0.2.1' }), undefined);
  assert.equal(problem({ neighbors: [neighbor6, n] }), undefined, 'an IPv4 neighbour anywhere in the list gives the router id');
});
