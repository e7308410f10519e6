// IPv4 address and prefix arithmetic for configuration checks. Addresses are unsigned 32-bit
// integers; the schema has already checked the text form, so parsing here cannot fail on
// anything that passed validation.

export interface Prefix {
  base: number;
  length: number;
}

export function parseIPv4(text: string): number {
  const parts = text.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function mask(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/** Parses `a.b.c.d/n`; `base` keeps the host bits as written. */
export function parseCidr(text: string): Prefix {
  const [address, length] = text.split('/');
  return { base: parseIPv4(address), length: Number(length) };
}

export function hasHostBits(prefix: Prefix): boolean {
  return (prefix.base & ~mask(prefix.length)) >>> 0 !== 0;
}

export function networkOf(prefix: Prefix): Prefix {
  return { base: (prefix.base & mask(prefix.length)) >>> 0, length: prefix.length };
}

export function formatCidr(prefix: Prefix): string {
  return `${formatIPv4(prefix.base)}/${prefix.length}`;
}

export function contains(prefix: Prefix, address: number): boolean {
  const m = mask(prefix.length);
  return ((prefix.base & m) >>> 0) === ((address & m) >>> 0);
}
