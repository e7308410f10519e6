// The probes against real sockets on loopback: each binds the given source address, judges
// what the server answers, and sends a PROXY header when asked.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { probeTcp } from '../../engine/health/probes/tcp.js';
import { probeHttp, type HttpExpectation } from '../../engine/health/probes/http.js';
import { UdpProber } from '../../engine/health/probes/udp.js';
import { proxyHeader } from '../../engine/health/probes/proxy-header.js';
import type { ProbeEndpoint } from '../../engine/health/probes/endpoint.js';

const source = '127.0.0.2';

function run(start: (finish: (error?: string) => void) => () => void): Promise<string | undefined> {
  return new Promise((resolve) => {
    start((error) => resolve(error));
  });
}

function listen(server: Server, address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => server.listen(0, address, () => resolve((server.address() as { port: number }).port)));
}

/** A TCP server that records what each connection sent and where it came from. */
function recorder(respond?: (received: Buffer) => string | undefined) {
  const seen: { from: string; data: Buffer }[] = [];
  const server = createServer((c) => {
    const entry = { from: c.remoteAddress ?? '', data: Buffer.alloc(0) };
    seen.push(entry);
    c.on('data', (d) => {
      entry.data = Buffer.concat([entry.data, d]);
      const reply = respond?.(entry.data);
      if (reply !== undefined) c.end(reply);
    });
    c.on('end', () => c.end());
    c.on('error', () => c.destroy());
  });
  return { server, seen };
}

const endpoint = (port: number, header?: Buffer): ProbeEndpoint => ({ address: '127.0.0.1', port, source, header });

describe('tcp probe', () => {
  const { server, seen } = recorder();
  let port = 0;
  before(async () => {
    port = await listen(server);
  });
  after(() => server.close());

  test('succeeds on connect, from the probe address', async () => {
    assert.equal(await run((f) => probeTcp(endpoint(port), f)), undefined);
    assert.equal(seen.at(-1)?.from, source);
  });

  test('fails with the reason when refused', async () => {
    const closed = recorder().server;
    const freePort = await listen(closed);
    await new Promise((r) => closed.close(r));
    assert.match((await run((f) => probeTcp(endpoint(freePort), f)))!, /ECONNREFUSED/);
  });

  test('sends a PROXY v2 LOCAL header when the service passes client addresses that way', async () => {
    await run((f) => probeTcp(endpoint(port, proxyHeader('v2')), f));
    await waitUntil(() => seen.at(-1)!.data.length === 16);
    const header = seen.at(-1)!.data;
    assert.deepEqual(header.subarray(0, 12), Buffer.from('0d0a0d0a000d0a515549540a', 'hex'));
    assert.equal(header[12], 0x20);
    assert.equal(header.readUInt16BE(14), 0);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition());
}

describe('http probe', () => {
  const { server, seen } = recorder((data) => {
    const text = data.toString('latin1');
    if (!text.includes('\r\n\r\n')) return undefined;
    const path = /GET (\S+) /.exec(text)?.[1];
    if (path === '/ok') return 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall good here\n';
    if (path === '/busy') return 'HTTP/1.0 503 Service Unavailable\r\n\r\nbusy\n';
    if (path === '/garbage') return 'SSH-2.0-OpenSSH\r\n';
    return 'HTTP/1.0 404 Not Found\r\n\r\n';
  });
  let port = 0;
  const http = (path: string, more: Partial<HttpExpectation> = {}): HttpExpectation => ({ path, host: undefined, expectStatus: [200], expectBody: undefined, ...more });
  before(async () => {
    port = await listen(server);
  });
  after(() => server.close());

  test('a 200 passes; the request names the path and host', async () => {
    assert.equal(await run((f) => probeHttp(endpoint(port), http('/ok', { host: 'app.example' }), f)), undefined);
    const request = seen.at(-1)!.data.toString('latin1');
    assert.match(request, /^GET \/ok HTTP\/1\.0\r\nHost: app\.example\r\n/);
    assert.equal(seen.at(-1)!.from, source);
  });

  test('an unexpected status fails, an expected one passes', async () => {
    assert.equal(await run((f) => probeHttp(endpoint(port), http('/busy'), f)), 'status 503, expected 200');
    assert.equal(await run((f) => probeHttp(endpoint(port), http('/busy', { expectStatus: [200, 503] }), f)), undefined);
  });

  test('the body must contain expectBody when given', async () => {
    assert.equal(await run((f) => probeHttp(endpoint(port), http('/ok', { expectBody: 'good' }), f)), undefined);
    assert.equal(await run((f) => probeHttp(endpoint(port), http('/ok', { expectBody: 'bad' }), f)), 'the body does not contain "bad"');
  });

  test('something that is not HTTP fails', async () => {
    assert.match((await run((f) => probeHttp(endpoint(port), http('/garbage'), f)))!, /^not an HTTP response/);
  });

  test('a PROXY v1 header comes before the request', async () => {
    assert.equal(await run((f) => probeHttp(endpoint(port, proxyHeader('v1')), http('/ok'), f)), undefined);
    assert.match(seen.at(-1)!.data.toString('latin1'), /^PROXY UNKNOWN\r\nGET \/ok HTTP\/1\.0\r\n/);
  });
});

describe('udp probe', () => {
  let server: Socket;
  let port = 0;
  const from: string[] = [];
  const prober = new UdpProber();
  before(async () => {
    server = createSocket('udp4');
    server.on('message', (m, r) => {
      from.push(r.address);
      const text = m.toString('latin1');
      if (text.endsWith('ping')) server.send(`pong to ${JSON.stringify(text)}`, r.port, r.address);
      else if (text !== 'silence') server.send('what?', r.port, r.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    port = server.address().port;
  });
  after(() => {
    prober.close();
    server.close();
  });

  test('a reply containing expect passes; any reply passes without expect', async () => {
    assert.equal(await run((f) => prober.probe(endpoint(port), { payload: 'ping', expect: 'pong' }, f)), undefined);
    assert.equal(await run((f) => prober.probe(endpoint(port), { payload: 'hello', expect: undefined }, f)), undefined);
    assert.equal(from.at(-1), source);
  });

  test('a reply without expect fails', async () => {
    assert.equal(await run((f) => prober.probe(endpoint(port), { payload: 'hello', expect: 'pong' }, f)), 'the reply does not contain "pong"');
  });

  test('probes of several targets share one socket and each gets its own answer', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => run((f) => prober.probe(endpoint(port), { payload: 'ping', expect: 'pong' }, f))));
    assert.ok(results.every((r) => r === undefined));
  });

  test('an aborted probe is forgotten; silence is left to the checker timeout', async () => {
    let called = false;
    const abort = prober.probe(endpoint(port), { payload: 'silence', expect: undefined }, () => (called = true));
    await new Promise((r) => setTimeout(r, 50));
    abort();
    assert.equal(called, false);
  });

  test('a PROXY v2 header precedes the payload', async () => {
    assert.equal(await run((f) => prober.probe(endpoint(port, proxyHeader('v2')), { payload: 'ping', expect: 'pong' }, f)), undefined);
  });
});
