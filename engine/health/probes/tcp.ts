// tcp: the server accepts a connection. The probe then resets it (as HAProxy's checks do):
// an orderly close would leave a TIME_WAIT socket on the probe address for a minute per
// probe, and thousands of those slow down every later bind() to that address. A PROXY header,
// when the service needs one, is sent and the connection closed in order instead, so the
// server reads it as a proxy's own connection.

import type { ProbeEndpoint } from './endpoint.js';
import { connectFrom } from './endpoint.js';

export function probeTcp(endpoint: ProbeEndpoint, finish: (error?: string) => void): () => void {
  const socket = connectFrom(endpoint, finish);
  socket.once('connect', () => {
    finish();
    if (!endpoint.header) {
      socket.resetAndDestroy();
      return;
    }
    // Once our FIN is written the kernel finishes the close; nothing here waits for the server.
    socket.once('finish', () => socket.destroy());
    socket.end(endpoint.header);
  });
  return () => socket.destroy();
}
