// Turns captures into the packet fuzzer's seeds, and adds malformed frames made from them.
// Usage: node scripts/fuzz-seeds.mjs CORPUS CLIENT_SIDE.pcap SERVER_SIDE.pcap
// (scripts/fuzz-seeds.sh makes the captures). A seed is the fuzzer's three setup bytes
// (native/fuzz/packet_fuzzer.cc) and one frame. Every seed asks for valid checksums (the
// frame keeps its defect, the fuzzer fixes only the sums), so frames the load balancer
// sends on are held to valid ones. Old capture-made seeds are replaced; others are kept.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [corpus, clientCapture, serverCapture] = process.argv.slice(2);
if (!serverCapture) throw new Error('usage: fuzz-seeds.mjs CORPUS CLIENT_SIDE.pcap SERVER_SIDE.pcap');

const CHECKED = 0x20, CLIENT = 0, SERVER = 1;
const ourMacs = { [CLIENT]: '0200000000a1', [SERVER]: '0200000000b1' };
const made = /^(client|server|malformed)-/;

// Frames of a classic pcap file (what tcpdump -w writes), Ethernet link type.
function frames(path) {
  const b = readFileSync(path);
  const magic = b.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${path}: not a little-endian pcap file`);
  if (b.readUInt32LE(20) !== 1) throw new Error(`${path}: not Ethernet`);
  const out = [];
  for (let at = 24; at + 16 <= b.length; ) {
    const length = b.readUInt32LE(at + 8);
    out.push(Buffer.from(b.subarray(at + 16, at + 16 + length)));
    at += 16 + length;
  }
  return out;
}

const mac = (frame, at) => frame.subarray(at, at + 6).toString('hex');

// The IP packet of an IPv4 or IPv6 frame (null for anything else): its family's suffix in
// names ('' or '6'), protocol (IPv6: the first next header), where its L4 part starts and how
// long it is, IPv4 options, and which fragment it is ('' when whole).
function ipPacket(f) {
  const type = f.readUInt16BE(12);
  if (type === 0x0800) {
    const ihl = (f[14] & 0x0f) * 4, fragment = f.readUInt16BE(20);
    return {
      family: '', protocol: f[23], l4: 14 + ihl, length: f.readUInt16BE(16) - ihl, options: ihl > 20 ? '-ip-options' : '',
      fragment: fragment & 0x3fff ? (fragment & 0x1fff ? 'later' : 'first') : '',
    };
  }
  if (type !== 0x86dd) return null;
  const fragment = f[20] === 44 ? (f.readUInt16BE(56) & 0xfff8 ? 'later' : 'first') : '';
  return { family: '6', protocol: f[20], l4: 54, length: f.readUInt16BE(18), options: '', fragment };
}

const icmpNames = {
  '': (type, code) => ({ 0: 'echo-reply', 3: `unreachable-${code}`, 8: 'echo' })[type],
  6: (type, code) =>
    ({ 1: `unreachable-${code}`, 2: 'packet-too-big', 3: 'time-exceeded', 128: 'echo', 129: 'echo-reply',
       135: 'neighbour-solicitation', 136: 'neighbour-advertisement' })[type],
};

// A short name for what a frame is, for the seed's file name.
function describe(f) {
  const type = f.readUInt16BE(12);
  if (type === 0x0806) return f.readUInt16BE(20) === 1 ? 'arp-request' : 'arp-reply';
  const p = ipPacket(f);
  if (!p) return `ethertype-${type.toString(16)}`;
  const { family, protocol, l4, options } = p;
  if (p.fragment) return `fragment${family}-${p.fragment}`;
  if (protocol === (family ? 58 : 1)) return `icmp${family}-${icmpNames[family](f[l4], f[l4 + 1]) ?? f[l4]}${options}`;
  if (protocol === 17) return `udp${family}-${f.readUInt16BE(l4)}-${f.readUInt16BE(l4 + 2)}${options}`;
  if (protocol !== 6) return `ip${family}-protocol-${protocol}`;
  const flags = f[l4 + 13], names = [];
  for (const [bit, name] of [[2, 'syn'], [16, 'ack'], [8, 'psh'], [1, 'fin'], [4, 'rst']]) if (flags & bit) names.push(name);
  const payload = p.length - (f[l4 + 12] >> 4) * 4;
  return `tcp${family}-${f.readUInt16BE(l4)}-${f.readUInt16BE(l4 + 2)}-${names.join('-')}${payload > 0 ? '-data' : ''}${options}`;
}

// The frames a side's NIC would receive: to its MAC, broadcast or a solicited-node group (IPv6
// neighbour solicitations), not from it.
function received(path, side) {
  return frames(path).filter((f) => {
    const to = mac(f, 0);
    return mac(f, 6) !== ourMacs[side] && (to === ourMacs[side] || to === 'ffffffffffff' || to.startsWith('3333ff'));
  });
}

const seeds = new Map();
function add(name, setup, split, aim, frame) {
  let unique = name;
  for (let n = 2; seeds.has(unique); ++n) unique = `${name}-${n}`;
  seeds.set(unique, Buffer.concat([Buffer.from([setup, split, aim]), frame]));
}

const client = received(clientCapture, CLIENT);
const server = received(serverCapture, SERVER);
for (const f of client) add(`client-${describe(f)}`, CHECKED | CLIENT, 0, 0, f);
// The server's frames carry the capture's local ports; aimed at a live session, they reach it.
for (const f of server) {
  const p = ipPacket(f);
  const aimed = p && [6, 17, p.family ? 58 : 1].includes(p.protocol) ? 1 : 0;
  add(`server-${describe(f)}`, CHECKED | SERVER, 0, aimed, f);
}

// Malformed (and merely unusual) frames, each from a captured one with one thing wrong.
const syn = client.find((f) => describe(f).startsWith('tcp-40080-80-syn'));
const data = client.find((f) => /^tcp-40080-80-ack-psh-data/.test(describe(f)));
const udp = client.find((f) => describe(f).startsWith('udp-40053-53'));
const arp = client.find((f) => describe(f).startsWith('arp'));
const syn6 = client.find((f) => describe(f).startsWith('tcp6-41080-80-syn'));
if (!syn || !data || !udp || !arp || !syn6)
  throw new Error(`the client-side capture lacks the SYN, data, UDP, ARP or IPv6 SYN frame: ${client.map(describe).join(' ')}`);
const datagram = server.find((f) => describe(f).startsWith('udp-8080-1025'));
if (!datagram) throw new Error(`the server-side capture lacks the datagram: ${server.map(describe).join(' ')}`);
const L4 = 34, L4v6 = 54;
const edit = (frame, change) => {
  const copy = Buffer.from(frame);
  change(copy);
  return copy;
};
const withIpOptions = (f, options) => {
  const out = Buffer.concat([f.subarray(0, L4), options, f.subarray(L4)]);
  out[14] = 0x40 | ((20 + options.length) / 4);
  out.writeUInt16BE(out.readUInt16BE(16) + options.length, 16);
  return out;
};
// An 8-byte IPv6 extension header of `type` (its next header, then `rest`) before the L4 part.
const withExtension = (f, type, rest) => {
  const out = Buffer.concat([f.subarray(0, L4v6), Buffer.from([f[20], ...rest]), f.subarray(L4v6)]);
  out[20] = type;
  out.writeUInt16BE(out.readUInt16BE(18) + 8, 18);
  return out;
};
const v4Mapped = (...v4) => Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
const malformed = {
  'truncated-ethernet': syn.subarray(0, 10),
  'truncated-ip-header': syn.subarray(0, 14 + 12),
  'truncated-tcp-header': syn.subarray(0, L4 + 10),
  'truncated-udp-header': udp.subarray(0, L4 + 4),
  'truncated-arp': arp.subarray(0, 30),
  'ip-header-length-4': edit(syn, (f) => (f[14] = 0x44)),
  'ip-header-length-past-frame': edit(syn, (f) => (f[14] = 0x4f)),
  'ip-version-6': edit(syn, (f) => (f[14] = 0x65)),
  'ip-total-length-past-frame': edit(syn, (f) => f.writeUInt16BE(f.length, 16)),
  'ip-total-length-below-header': edit(syn, (f) => f.writeUInt16BE(12, 16)),
  'ip-options-nop': withIpOptions(syn, Buffer.from([1, 1, 1, 0])),
  'ip-options-bad-length': withIpOptions(data, Buffer.from([7, 40, 4, 0])),
  'fragment-first': edit(syn, (f) => f.writeUInt16BE(0x2000, 20)),
  'fragment-later': edit(data, (f) => f.writeUInt16BE(0x0010, 20)),
  'tcp-zero-window': edit(data, (f) => f.writeUInt16BE(0, L4 + 14)),
  'tcp-syn-fin': edit(syn, (f) => (f[L4 + 13] = 0x03)),
  'tcp-syn-rst': edit(syn, (f) => (f[L4 + 13] = 0x06)),
  'tcp-all-flags': edit(syn, (f) => (f[L4 + 13] = 0xff)),
  'tcp-no-flags': edit(data, (f) => (f[L4 + 13] = 0x00)),
  'tcp-fin-without-ack': edit(data, (f) => (f[L4 + 13] = 0x01)),
  'tcp-data-offset-4': edit(syn, (f) => (f[L4 + 12] = 0x40)),
  'tcp-data-offset-past-segment': edit(data, (f) => (f[L4 + 12] = 0xf0)),
  'tcp-options-bad-length': edit(syn, (f) => (f[L4 + 21] = 0)),
  'udp-length-past-datagram': edit(udp, (f) => f.writeUInt16BE(f.readUInt16BE(16) + 100, L4 + 4)),
  'udp-length-below-header': edit(udp, (f) => f.writeUInt16BE(4, L4 + 4)),
  'arp-bad-hardware-length': edit(arp, (f) => (f[18] = 8)),
  'vlan-tagged': Buffer.concat([syn.subarray(0, 12), Buffer.from([0x81, 0x00, 0x00, 0x05]), syn.subarray(12)]),
  'truncated-ip6-header': syn6.subarray(0, 14 + 30),
  'ip6-version-4': edit(syn6, (f) => (f[14] = 0x40)),
  'ip6-payload-length-past-frame': edit(syn6, (f) => f.writeUInt16BE(f.length, 18)),
  'ip6-hop-by-hop': withExtension(syn6, 0, [0, 1, 4, 0, 0, 0, 0]),   // PadN
  'ip6-fragment-header': withExtension(syn6, 44, [0, 0, 0, 0, 0, 0, 1]),   // an atomic fragment (RFC 6946)
  'ip6-v4-mapped-source': edit(syn6, (f) => v4Mapped(10, 0, 0, 1).copy(f, 22)),
  'ip6-v4-mapped-destination': edit(syn6, (f) => v4Mapped(10, 0, 0, 100).copy(f, 38)),
};
for (const [name, frame] of Object.entries(malformed)) add(`malformed-${name}`, CHECKED | CLIENT, 0, 0, frame);
// One segment per header is the norm; a first segment that ends inside the TCP header is not.
add('malformed-split-in-tcp-header', CHECKED | CLIENT, L4 + 8, 0, syn);
// An IPv4 datagram without a checksum, which NAT64 must give one on its way to an IPv6 client.
add('server-udp-8080-1025-no-checksum', CHECKED | SERVER, 0, 1, edit(datagram, (f) => f.writeUInt16BE(0, L4 + 6)));

mkdirSync(corpus, { recursive: true });
for (const old of readdirSync(corpus)) if (made.test(old)) rmSync(join(corpus, old));
for (const [name, seed] of seeds) writeFileSync(join(corpus, name), seed);
console.log(`fuzz-seeds: ${seeds.size} seeds in ${corpus} (${client.length} client-side, ${server.length} server-side frames)`);
