// A small etcd v3 client over the JSON gateway every etcd 3.4 member serves on its client URL
// (/v3/kv/range, /v3/kv/txn, /v3/watch, /v3/auth/authenticate): plain HTTP(S) and JSON with
// base64 keys and values, so the appliance needs no gRPC stack. It talks to one endpoint at a
// time and moves to the next when that one fails; what to do about a failure (retry, report
// stale) is the caller's business.

import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

export interface EtcdTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface EtcdClientOptions {
  /** `HOST:PORT` of each member's client URL. */
  endpoints: string[];
  /** HTTPS with these (a CA to trust, a client certificate); plain HTTP without. */
  tls?: EtcdTls;
  auth?: { user: string; password: string };
  /** How long one request may take before its endpoint counts as failed. */
  timeoutMs?: number;
}

export interface KeyValue {
  key: string;
  value: string;
  modRevision: number;
  createRevision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export interface Compare {
  key: string;
  /** The key's last modification; 0 means "the key does not exist". */
  modRevision: number;
}

export type TxnOp = { put: { key: string; value: string } } | { delete: { key: string } } | { deletePrefix: { prefix: string } };

function txnOp(op: TxnOp): object {
  if ('put' in op) return { request_put: { key: b64(op.put.key), value: b64(op.put.value) } };
  if ('delete' in op) return { request_delete_range: { key: b64(op.delete.key) } };
  return { request_delete_range: { key: b64(op.deletePrefix.prefix), range_end: b64(prefixEnd(op.deletePrefix.prefix)) } };
}

/** etcd could not be reached, or did not answer in time, or has no quorum. */
export class EtcdUnavailable extends Error {}

/** A watch ended because its start revision was compacted away: only a full read catches up. */
export class EtcdCompacted extends Error {
  constructor(readonly compactRevision: number) {
    super(`etcd compacted its history up to revision ${compactRevision}`);
  }
}

interface RawKv {
  key: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');

function keyValue(raw: RawKv): KeyValue {
  return {
    key: unb64(raw.key),
    value: unb64(raw.value),
    modRevision: Number(raw.mod_revision ?? 0),
    createRevision: Number(raw.create_revision ?? 0),
  };
}

/** The first key after every key that starts with `prefix` (ASCII, as key prefixes here are). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** A watch that runs until close(); `done` settles when the stream ends for any reason. */
export interface Watch {
  close(): void;
  done: Promise<void>;
}

export class EtcdClient {
  private current = 0;
  private token: string | undefined;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;

  constructor(private readonly options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd needs at least one endpoint');
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.agent = options.tls ? new HttpsAgent({ keepAlive: true, ...options.tls }) : new HttpAgent({ keepAlive: true });
  }

  get endpoints(): readonly string[] {
    return this.options.endpoints;
  }

  /** The endpoint requests go to now. */
  get endpoint(): string {
    return this.options.endpoints[this.current];
  }

  /** Gives up on the current endpoint: the next request goes to the next one. */
  rotate(): void {
    this.current = (this.current + 1) % this.options.endpoints.length;
    this.token = undefined;
  }

  async range(prefix: string, options: { countOnly?: boolean; exact?: boolean } = {}): Promise<{ revision: number; kvs: KeyValue[]; count: number }> {
    const body: Record<string, unknown> = { key: b64(prefix) };
    if (!options.exact) body.range_end = b64(prefixEnd(prefix));
    if (options.countOnly) body.count_only = true;
    const answer = await this.call('/v3/kv/range', body);
    return { revision: revisionOf(answer), kvs: ((answer.kvs ?? []) as RawKv[]).map(keyValue), count: Number(answer.count ?? 0) };
  }

  /** etcd's current revision, read through the quorum (a linearizable read of no key). */
  async revision(): Promise<number> {
    return revisionOf(await this.call('/v3/kv/range', { key: b64('\0'), count_only: true }));
  }

  /**
   * Applies `ops` if every compare holds, in one revision. When it does not, returns the
   * current revision so the caller can catch up before trying again.
   */
  async txn(compares: Compare[], ops: TxnOp[]): Promise<{ succeeded: boolean; revision: number }> {
    const answer = await this.call('/v3/kv/txn', {
      compare: compares.map((c) => ({ key: b64(c.key), target: 'MOD', result: 'EQUAL', mod_revision: String(c.modRevision) })),
      success: ops.map(txnOp),
    });
    return { succeeded: answer.succeeded === true, revision: revisionOf(answer) };
  }

  async compact(revision: number): Promise<void> {
    await this.call('/v3/kv/compaction', { revision: String(revision), physical: true });
  }

  /**
   * Streams every change under `prefix` from `startRevision` on. The member must have a leader
   * (a member cut off from its quorum cancels the watch instead of going quiet).
   */
  watch(prefix: string, startRevision: number, onEvents: (revision: number, events: WatchEvent[]) => void): Watch {
    const body = JSON.stringify({
      create_request: { key: b64(prefix), range_end: b64(prefixEnd(prefix)), start_revision: String(startRevision) },
    });
    let close = () => {};
    const done = this.headers().then(
      (headers) =>
        new Promise<void>((resolve, reject) => {
          const req = this.send('/v3/watch', { ...headers, 'grpc-metadata-hasleader': 'true' }, (res) => {
            if (res.statusCode !== 200) return reject(new EtcdUnavailable(`etcd ${this.endpoint} answered the watch with HTTP ${res.statusCode}`));
            let buffered = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              buffered += chunk;
              let newline: number;
              while ((newline = buffered.indexOf('\n')) >= 0) {
                const line = buffered.slice(0, newline).trim();
                buffered = buffered.slice(newline + 1);
                if (line === '') continue;
                const failure = watchMessage(parseWatchLine(line), onEvents);
                if (failure) {
                  req.destroy();
                  return reject(failure);
                }
              }
            });
            res.on('end', () => reject(new EtcdUnavailable(`etcd ${this.endpoint} ended the watch`)));
            res.on('error', (err) => reject(new EtcdUnavailable(`etcd ${this.endpoint}: ${err.message}`)));
          });
          req.on('error', (err) => reject(new EtcdUnavailable(`etcd ${this.endpoint}: ${err.message}`)));
          close = () => {
            req.destroy();
            resolve();
          };
          req.end(body);
        }),
    );
    return { close: () => close(), done };
  }

  close(): void {
    this.agent.destroy();
  }

  private send(path: string, headers: Record<string, string>, onResponse: (res: IncomingMessage) => void) {
    const [host, port] = splitEndpoint(this.endpoint);
    const request = this.options.tls ? httpsRequest : httpRequest;
    return request({ host, port, path, method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', ...headers } }, onResponse);
  }

  private async headers(): Promise<Record<string, string>> {
    if (!this.options.auth) return {};
    if (this.token === undefined) {
      const answer = await this.post('/v3/auth/authenticate', { name: this.options.auth.user, password: this.options.auth.password }, {});
      this.token = String(answer.token);
    }
    return { authorization: this.token };
  }

  /**
   * One unary request; an expired auth token is renewed once, and a member that refuses the
   * connection (the request never left) is passed over for the next one, once round.
   */
  private async call(path: string, body: object): Promise<Record<string, unknown>> {
    for (let tries = 0; ; tries++) {
      try {
        return await this.post(path, body, await this.headers());
      } catch (err) {
        if (err instanceof TokenExpired && tries === 0) this.token = undefined;
        else if (err instanceof NotConnected && tries < this.options.endpoints.length - 1) this.rotate();
        else throw err;
      }
    }
  }

  private post(path: string, body: object, headers: Record<string, string>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const req = this.send(path, headers, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const answer = parseAnswer(text);
          if (res.statusCode === 200) return resolve(answer);
          reject(failureOf(this.endpoint, res.statusCode ?? 0, answer));
        });
        res.on('error', (err) => reject(new EtcdUnavailable(`etcd ${this.endpoint}: ${err.message}`)));
        res.on('close', () => {
          if (!res.complete) reject(new EtcdUnavailable(`etcd ${this.endpoint}: the answer was cut off`));
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const Failure = err.code && notConnected.includes(err.code) ? NotConnected : EtcdUnavailable;
        reject(new Failure(`etcd ${this.endpoint}: ${err.message}`));
      });
      req.end(JSON.stringify(body));
    });
  }
}

class TokenExpired extends Error {}

/** The member could not be connected to: nothing was sent, so trying another one is safe. */
class NotConnected extends EtcdUnavailable {}
const notConnected = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'];

/** Raised for answers etcd gives that are not about its availability (bad request, permission). */
export class EtcdRefused extends Error {}

function parseAnswer(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { message: text.slice(0, 200) };
  }
}

function failureOf(endpoint: string, status: number, answer: Record<string, unknown>): Error {
  const message = String(answer.message ?? answer.error ?? `HTTP ${status}`);
  if (/invalid auth token/.test(message)) return new TokenExpired(message);
  // gRPC codes over the gateway: 14 unavailable, 4 deadline exceeded; etcd's "no leader",
  // "request timed out" and "leader changed" all mean the cluster cannot serve right now.
  const code = Number(answer.code ?? 0);
  if (status >= 500 || code === 14 || code === 4 || /leader|timed out|unavailable/.test(message)) {
    return new EtcdUnavailable(`etcd ${endpoint}: ${message}`);
  }
  return new EtcdRefused(`etcd ${endpoint}: ${message}`);
}

function revisionOf(answer: Record<string, unknown>): number {
  return Number((answer.header as { revision?: string } | undefined)?.revision ?? 0);
}

function splitEndpoint(endpoint: string): [string, number] {
  const at = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, at).replace(/^\[(.*)\]$/, '$1'), Number(endpoint.slice(at + 1))];
}

interface WatchMessage {
  result?: {
    header?: { revision?: string };
    canceled?: boolean;
    compact_revision?: string;
    cancel_reason?: string;
    events?: { type?: string; kv: RawKv }[];
  };
  error?: { message?: string };
}

/** One line of the watch stream; a line that is not JSON ends the watch rather than the process. */
function parseWatchLine(line: string): WatchMessage {
  try {
    return JSON.parse(line) as WatchMessage;
  } catch {
    return { error: { message: `a line that is not JSON: ${line.slice(0, 80)}` } };
  }
}

/** Hands a message's events on; returns why the watch ended when it did. */
function watchMessage(message: WatchMessage, onEvents: (revision: number, events: WatchEvent[]) => void): Error | undefined {
  const result = message.result;
  if (!result) return new EtcdUnavailable(`etcd ended the watch: ${message.error?.message ?? 'no result'}`);
  if (Number(result.compact_revision ?? 0) > 0) return new EtcdCompacted(Number(result.compact_revision));
  if (result.canceled) return new EtcdUnavailable(`etcd canceled the watch: ${result.cancel_reason ?? 'no reason given'}`);
  const events = (result.events ?? []).map((e) => ({ type: e.type === 'DELETE' ? ('delete' as const) : ('put' as const), kv: keyValue(e.kv) }));
  if (events.length > 0) onEvents(Math.max(...events.map((e) => e.kv.modRevision)), events);
  return undefined;
}
