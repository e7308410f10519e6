// Addresses and prefixes of either family for the configuration checks. A value is the 32- or
// 128-bit number as a bigint, so both families share one code path. The schema has already
// checked the text; parsing still throws on anything it would not pass, never guesses.

export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
}

export interface Prefix {
  family: Family;
  base: bigint;
  length: number;
}

const bits: Record<Family, number> = { 4: 32, 6: 128 };
const octet = /^(0|[1-9][0-9]{0,2})$/;
const hextet = /^[0-9a-f]{1,4}$/i;

function refuse(text: string): never {
  throw new Error(`not an IPv4 or IPv6 address or prefix: '${text}'`);
}

function parseIPv4(text: string): bigint {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => octet.test(p) && Number(p) <= 255)) refuse(text);
  return parts.reduce((value, p) => (value << 8n) | BigInt(p), 0n);
}

/** The 16-bit groups of one side of `::`; a dotted quad may end the address (two groups). */
function groups(text: string, last: boolean): bigint[] {
  if (text === '') return [];
  const parts = text.split(':');
  const tail = parts[parts.length - 1];
  const quad = last && tail.includes('.') ? parseIPv4(parts.pop()!) : undefined;
  if (!parts.every((p) => hextet.test(p))) refuse(text);
  const values = parts.map((p) => BigInt(`0x${p}`));
  return quad === undefined ? values : [...values, quad >> 16n, quad & 0xffffn];
}

function parseIPv6(text: string): bigint {
  const halves = text.split('::');
  if (halves.length > 2) refuse(text);
  const head = groups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1], true) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) refuse(text);
  const zeros: bigint[] = halves.length === 2 ? Array(missing).fill(0n) : [];
  return [...head, ...zeros, ...tail].reduce((value, g) => (value << 16n) | g, 0n);
}

/** 6 for anything with a colon (an IPv6 address or prefix), else 4; never throws. */
export function familyOf(text: string): Family {
  return text.includes(':') ? 6 : 4;
}

export function parseAddress(text: string): Address {
  const family = familyOf(text);
  return { family, value: family === 4 ? parseIPv4(text) : parseIPv6(text) };
}

/** Index and length of the longest run of two or more zero groups (the first of equals); index -1: none. */
function longestZeroRun(words: number[]): [number, number] {
  let best: [number, number] = [-1, 1];
  let run = 0;
  words.forEach((w, i) => {
    run = w === 0 ? run + 1 : 0;
    if (run > best[1]) best = [i - run + 1, run];
  });
  return best;
}

/** A dotted quad, or RFC 5952 text (an IPv4-mapped address in its mixed form, `::ffff:1.2.3.4`). */
export function formatAddress(a: Address): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => (a.value >> s) & 255n).join('.');
  if (a.value >> 32n === 0xffffn) return `::ffff:${formatAddress({ family: 4, value: a.value & 0xffffffffn })}`;
  const words = Array.from({ length: 8 }, (_, i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn));
  const [start, length] = longestZeroRun(words);
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  return start < 0 ? hex(words) : `${hex(words.slice(0, start))}::${hex(words.slice(start + length))}`;
}

export function canonicalAddress(text: string): string {
  return formatAddress(parseAddress(text));
}

/** `address/length` of either family; `base` keeps the host bits as written. */
export function parseCidr(text: string): Prefix {
  const slash = text.lastIndexOf('/');
  if (slash < 0) refuse(text);
  const address = parseAddress(text.slice(0, slash));
  const length = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(length) || Number(length) > bits[address.family]) refuse(text);
  return { family: address.family, base: address.value, length: Number(length) };
}

export function formatCidr(p: Prefix): string {
  return `${formatAddress({ family: p.family, value: p.base })}/${p.length}`;
}

// Host bit counts by family and prefix length, made once: reachability checks run contains()
// for every real server against every prefix, and BigInt() per call would dominate.
const hostBitsOf: Record<Family, bigint[]> = {
  4: Array.from({ length: 33 }, (_, length) => BigInt(32 - length)),
  6: Array.from({ length: 129 }, (_, length) => BigInt(128 - length)),
};

/** How many low bits of a prefix's base are host bits. */
function hostBits(p: Prefix): bigint {
  return hostBitsOf[p.family][p.length];
}

export function hasHostBits(p: Prefix): boolean {
  return (p.base & ((1n << hostBits(p)) - 1n)) !== 0n;
}

export function networkOf(p: Prefix): Prefix {
  return { ...p, base: (p.base >> hostBits(p)) << hostBits(p) };
}

/** Whether `a` lies in `p`; an address of the other family never does. */
export function contains(p: Prefix, a: Address): boolean {
  return p.family === a.family && p.base >> hostBits(p) === a.value >> hostBits(p);
}

/** `10.0.1.10:80`, or `[2001:db8::10]:80` (RFC 3986): an IPv6 address's colons would run into the port's. */
export function hostPort(address: string, port: unknown): string {
  return `${familyOf(address) === 6 ? `[${address}]` : address}:${String(port)}`;
}
