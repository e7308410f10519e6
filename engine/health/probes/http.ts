// http: one GET over a new connection (HTTP/1.0, so no chunked body to decode), judged by its
// status code and, when asked, a substring of the body. Connections are not kept alive: a
// check should see what a new client sees, and an idle pooled connection proves nothing.

import { familyOf, hostPort } from '../../../store/ip.js';
import type { ProbeEndpoint } from './endpoint.js';
import { connectFrom } from './endpoint.js';

export interface HttpExpectation {
  path: string;
  host: string | undefined;
  expectStatus: number[];
  expectBody: string | undefined;
}

/** How much of a response is read looking for `expectBody`. */
const maxResponseBytes = 64 * 1024;

const statusLine = /^HTTP\/\d\.\d (\d{3})/;

function request(endpoint: ProbeEndpoint, http: HttpExpectation): Buffer {
  // RFC 7230: an IPv6 literal is bracketed in Host, with or without the port.
  const literal = familyOf(endpoint.address) === 6 ? `[${endpoint.address}]` : endpoint.address;
  const host = http.host ?? (endpoint.port === 80 ? literal : hostPort(endpoint.address, endpoint.port));
  const text = `GET ${http.path} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: l4lb-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
  const bytes = Buffer.from(text, 'latin1');
  return endpoint.header ? Buffer.concat([endpoint.header, bytes]) : bytes;
}

/** The verdict on the response read so far: undefined while more is needed. */
function judge(response: string, complete: boolean, http: HttpExpectation): { error?: string } | undefined {
  const lineEnd = response.indexOf('\r\n');
  if (lineEnd < 0) return complete ? { error: 'the response ended before its status line' } : undefined;
  const status = statusLine.exec(response.slice(0, lineEnd));
  if (!status) return { error: `not an HTTP response: ${JSON.stringify(response.slice(0, Math.min(lineEnd, 64)))}` };
  const code = Number(status[1]);
  if (!http.expectStatus.includes(code)) return { error: `status ${code}, expected ${http.expectStatus.join(' or ')}` };
  if (http.expectBody === undefined) return {};
  const bodyStart = response.indexOf('\r\n\r\n');
  if (bodyStart >= 0 && response.indexOf(http.expectBody, bodyStart + 4) >= 0) return {};
  if (complete) return { error: `the body does not contain ${JSON.stringify(http.expectBody)}` };
  return undefined;
}

export function probeHttp(endpoint: ProbeEndpoint, http: HttpExpectation, finish: (error?: string) => void): () => void {
  const socket = connectFrom(endpoint, finish);
  let response = '';
  const decide = (complete: boolean) => {
    const verdict = judge(response, complete || response.length >= maxResponseBytes, http);
    if (!verdict) return;
    finish(verdict.error);
    // A reset, not an orderly close: no TIME_WAIT left on the probe address (see tcp.ts).
    socket.resetAndDestroy();
  };
  socket.setEncoding('latin1');
  socket.once('connect', () => socket.write(request(endpoint, http)));
  socket.on('data', (chunk: string) => {
    response += chunk;
    decide(false);
  });
  socket.once('end', () => decide(true));
  return () => socket.destroy();
}
