// The PROXY protocol header a health probe sends to a server that requires one: it says
// "this connection is the proxy's own" (v1 UNKNOWN, v2 LOCAL), so the server accepts it
// without taking the probe's address for a client's.

export type ProxyVersion = 'v1' | 'v2';

const v1Unknown = Buffer.from('PROXY UNKNOWN\r\n', 'latin1');

// Signature, version 2 with command LOCAL (0x20), family/transport unspecified, no addresses.
const v2Local = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00]);

export function proxyHeader(version: ProxyVersion | undefined): Buffer | undefined {
  if (version === 'v1') return v1Unknown;
  if (version === 'v2') return v2Local;
  return undefined;
}
