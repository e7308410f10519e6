// Addresses and prefixes are stored, compared and returned in one spelling each: a dotted quad,
// or RFC 5952 text for IPv6 (`2001:DB8:0::1` becomes `2001:db8::1`). Without it the store's
// uniqueness checks would take two spellings of one VIP for two VIPs. Which fields hold
// addresses comes from the contract: every value whose schema is IPAddress or CIDR, so a new
// address field is canonical with no line here.

import type { Spec } from '../store/kinds.js';
import { canonicalAddress, formatCidr, parseCidr } from '../store/ip.js';
import { resolveComponent } from './openapi.js';

type Schema = Record<string, any>;

const canonicalCidr = (text: string) => formatCidr(parseCidr(text));
const canonicalOf: Record<string, (text: string) => string> = {
  IPAddress: canonicalAddress,
  CIDR: canonicalCidr,
  IPv6CIDR: canonicalCidr,
};

/** The component a schema names, directly or as the single `allOf` that carries a description. */
function referenced(schema: Schema): string | undefined {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0].$ref : undefined);
  return ref?.split('/').pop();
}

/** `value` (valid against `schema`) with every address and prefix in it canonical. */
function canonical(schema: Schema, value: unknown): unknown {
  const component = referenced(schema);
  if (component !== undefined) {
    const canonicalText = canonicalOf[component];
    return canonicalText ? canonicalText(value as string) : canonical(resolveComponent<Schema>({ $ref: `#/components/schemas/${component}` }), value);
  }
  if (Array.isArray(value)) return schema.items ? value.map((item) => canonical(schema.items, item)) : value;
  if (value === null || typeof value !== 'object' || !schema.properties) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, schema.properties[key] ? canonical(schema.properties[key], inner) : inner]));
}

/** Rewrites, in place, the addresses and prefixes of a spec validated against component `schemaName`. */
export function canonicalizeSpec(schemaName: string, spec: Spec): void {
  Object.assign(spec, canonical(resolveComponent<Schema>({ $ref: `#/components/schemas/${schemaName}` }), spec));
}

/** An address as part of a default name: names have no `:`, so IPv6 colons become `-` (`2001-db8--10`). */
export function addressInName(address: string): string {
  return address.replaceAll(':', '-');
}
