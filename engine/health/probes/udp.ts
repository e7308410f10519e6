// udp: a datagram to the server, answered by one containing `expect` (any answer when it is
// absent). One socket per probe address serves every UDP target behind that NIC: replies are
// matched to the waiting probe by the address and port they come from.

import { createSocket, type Socket } from 'node:dgram';
import { familyOf } from '../../../store/ip.js';
import type { ProbeEndpoint } from './endpoint.js';

export interface UdpExpectation {
  payload: string;
  expect: string | undefined;
}

interface Waiter {
  expect: string | undefined;
  finish: (error?: string) => void;
}

export class UdpProber {
  private readonly sockets = new Map<string, Socket>();
  /** Probes waiting for an answer, by `source>address:port`. */
  private readonly waiting = new Map<string, Waiter[]>();

  probe(endpoint: ProbeEndpoint, udp: UdpExpectation, finish: (error?: string) => void): () => void {
    const key = `${endpoint.source}>${endpoint.address}:${endpoint.port}`;
    const waiter: Waiter = { expect: udp.expect, finish };
    const list = this.waiting.get(key) ?? [];
    list.push(waiter);
    this.waiting.set(key, list);
    const payload = Buffer.from(udp.payload, 'latin1');
    const datagram = endpoint.header ? Buffer.concat([endpoint.header, payload]) : payload;
    this.socket(endpoint.source).send(datagram, endpoint.port, endpoint.address, (err) => {
      if (!err) return;
      this.forget(key, waiter);
      finish(err.message);
    });
    return () => this.forget(key, waiter);
  }

  close(): void {
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
    this.waiting.clear();
  }

  private socket(source: string): Socket {
    let socket = this.sockets.get(source);
    if (socket) return socket;
    socket = createSocket(familyOf(source) === 6 ? 'udp6' : 'udp4');
    socket.on('message', (message, from) => this.answer(`${source}>${from.address}:${from.port}`, message));
    // An unconnected socket sees no errors from peers; anything here is the socket's own.
    socket.on('error', () => this.dropSocket(source));
    socket.bind({ address: source, port: 0, exclusive: true });
    this.sockets.set(source, socket);
    return socket;
  }

  /** A socket that failed (its address gone) is replaced by the next probe. */
  private dropSocket(source: string): void {
    const socket = this.sockets.get(source);
    this.sockets.delete(source);
    try {
      socket?.close();
    } catch {
      // never bound: nothing to close
    }
  }

  private answer(key: string, message: Buffer): void {
    const waiter = this.waiting.get(key)?.[0];
    if (!waiter) return;
    this.forget(key, waiter);
    const text = message.toString('latin1');
    if (waiter.expect === undefined || text.includes(waiter.expect)) waiter.finish();
    else waiter.finish(`the reply does not contain ${JSON.stringify(waiter.expect)}`);
  }

  private forget(key: string, waiter: Waiter): void {
    const list = this.waiting.get(key);
    if (!list) return;
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(key);
  }
}
