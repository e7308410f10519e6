// Strict parsers for every value that may reach bird.conf. The settings come from the API and
// are treated as hostile: a value is written only after it parsed here, and it is written from
// the parsed form (integers re-formatted), never as the text that came in. Each parser returns
// undefined for anything it does not fully accept, so there is no partial or lenient match.

import { familyOf, formatAddress, formatCidr, hasHostBits, parseAddress, type Address, type Family, type Prefix } from '../../store/ip.js';

const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
/** Per family: the address's characters (checked before parsing) and the prefix lengths, no leading zeros. */
const syntax: Record<Family, { address: RegExp; length: RegExp }> = {
  4: { address: new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`), length: /^(3[0-2]|[12]?[0-9])$/ },
  // Lower-case hex and colons only: no zone, no embedded dotted quad (IPv4-mapped), no spaces.
  6: { address: /^[0-9a-f:]{2,39}$/, length: /^(12[0-8]|1[01][0-9]|[1-9]?[0-9])$/ },
};
/** Linux interface names (IFNAMSIZ 16 with the NUL), minus every character bird would read. */
const interfacePattern = /^[A-Za-z0-9_.-]{1,15}$/;
/** The API's Name pattern (openapi.yaml components/schemas/Name). */
const namePattern = /^(?!\.\.?$)[A-Za-z0-9._~-]{1,128}$/;

/** An address of either family in its canonical text: a dotted quad without leading zeros, or RFC 5952. */
export function parseStrictAddress(text: unknown): Address | undefined {
  if (typeof text !== 'string' || !syntax[familyOf(text)].address.test(text)) return undefined;
  let address: Address;
  try {
    address = parseAddress(text);
  } catch {
    return undefined;
  }
  // One spelling per address: what bird is told and what status is matched by must agree.
  return formatAddress(address) === text ? address : undefined;
}

/** parseStrictAddress, of one family only. */
export function parseStrictOf(family: Family, text: unknown): Address | undefined {
  const address = parseStrictAddress(text);
  return address?.family === family ? address : undefined;
}

/** `address/length` of either family, the address canonical; with `network` true, host bits must be zero (a route prefix). */
export function parseStrictCidr(text: unknown, network: boolean): Prefix | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  const address = slash < 0 ? undefined : parseStrictAddress(text.slice(0, slash));
  if (address === undefined || !syntax[address.family].length.test(text.slice(slash + 1))) return undefined;
  const prefix = { family: address.family, base: address.value, length: Number(text.slice(slash + 1)) };
  return network && hasHostBits(prefix) ? undefined : prefix;
}

/** A route prefix (host bits zero) re-formatted from its parsed value. */
export function canonicalPrefix(text: unknown): string | undefined {
  const prefix = parseStrictCidr(text, true);
  return prefix && formatCidr(prefix);
}

export function isInterfaceName(text: unknown): text is string {
  return typeof text === 'string' && interfacePattern.test(text);
}

export function isNicName(text: unknown): text is string {
  return typeof text === 'string' && namePattern.test(text);
}

export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** 4-octet AS numbers (RFC 6793); 0 is reserved (RFC 7607). */
export function isAsn(value: unknown): value is number {
  return isIntegerIn(value, 1, 4294967295);
}
