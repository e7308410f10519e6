// A browser cannot speak HTTP over a Unix socket: this forwards 127.0.0.1:<ephemeral port> to
// the appliance's API socket (inside an LB namespace's run directory), request and response
// streamed through unchanged, headers included (the bearer token too).

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SocketProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

export async function socketProxy(socketPath: string): Promise<SocketProxy> {
  const server: Server = createServer((req, res) => {
    const upstream = request({ socketPath, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      // The browser keeps connections alive: end them, or close() waits for them.
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
