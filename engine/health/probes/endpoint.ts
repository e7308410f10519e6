// What a probe needs to know about where it goes, and the TCP connection tcp and http probes
// open: bound to the NIC's probe address, so the kernel's policy routing (routing.ts) sends
// it out of that NIC's exception interface.

import { connect, type Socket } from 'node:net';

export interface ProbeEndpoint {
  address: string;
  port: number;
  /** The NIC's probe address, the source of the probe. */
  source: string;
  /** Sent first, for servers behind a PROXY-protocol service. */
  header: Buffer | undefined;
}

/** Opens a connection from the probe address; reports the first error through `fail`. */
export function connectFrom(endpoint: ProbeEndpoint, fail: (error: string) => void): Socket {
  const socket = connect({ host: endpoint.address, port: endpoint.port, localAddress: endpoint.source, noDelay: true });
  socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ? `${err.code}: ${err.message}` : err.message));
  return socket;
}
