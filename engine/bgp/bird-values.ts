// Strict parsers for every value that may reach bird.conf. The settings come from the API and
// are treated as hostile: a value is written only after it parsed here, and it is written from
// the parsed form (integers re-formatted), never as the text that came in. Each parser returns
// undefined for anything it does not fully accept, so there is no partial or lenient match.

import { formatCidr, hasHostBits, parseAddress, type Address, type Prefix } from '../../store/ip.js';

const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const ipv4Pattern = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);
/** Linux interface names (IFNAMSIZ 16 with the NUL), minus every character bird would read. */
const interfacePattern = /^[A-Za-z0-9_.-]{1,15}$/;
/** The API's Name pattern (openapi.yaml components/schemas/Name). */
const namePattern = /^(?!\.\.?$)[A-Za-z0-9._~-]{1,128}$/;

/** A dotted quad without leading zeros. */
export function parseStrictIPv4(text: unknown): Address | undefined {
  return typeof text === 'string' && ipv4Pattern.test(text) ? parseAddress(text) : undefined;
}

/** `a.b.c.d/n`; with `network` true, host bits must be zero (a route prefix). */
export function parseStrictCidr(text: unknown, network: boolean): Prefix | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  if (slash < 0 || !/^(3[0-2]|[12]?[0-9])$/.test(text.slice(slash + 1))) return undefined;
  const address = parseStrictIPv4(text.slice(0, slash));
  if (address === undefined) return undefined;
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
