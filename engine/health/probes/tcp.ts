// tcp: the server accepts a connection. A PROXY header, when the service needs one, is sent
// and the connection closed gracefully so the server reads it as a proxy's own connection.

import type { ProbeEndpoint } from './endpoint.js';
import { connectFrom } from './endpoint.js';

export function probeTcp(endpoint: ProbeEndpoint, finish: (error?: string) => void): () => void {
  const socket = connectFrom(endpoint, finish);
  socket.once('connect', () => {
    finish();
    // Once our FIN is written the kernel finishes the close; nothing here waits for the server.
    socket.once('finish', () => socket.destroy());
    if (endpoint.header) socket.end(endpoint.header);
    else socket.end();
  });
  return () => socket.destroy();
}
