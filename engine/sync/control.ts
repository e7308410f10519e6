// The control channel: small JSON messages, never session records. Each node says hello
// every second (who it is, its role, what its sessions need to be portable and, multi-active,
// which local addresses it owns); a node that needs every session asks with snapshot-request,
// which forwarding nodes answer, each ending its answer with snapshot-done.
//
// Everything here comes from whoever can publish on the Redis channel: a message is used only
// when every field has its shape (addresses are IPv4 or IPv6, pools are names), else ignored.
// A hello says which sync format its node speaks; one without (a version 1 node's) means 1.

import { isIP } from 'node:net';
import type { BridgeContext } from './context.js';
import { forwards, type Hello, type PeerTable, type PoolAddresses } from './peers.js';
import { controlChannel } from './redis.js';
import { formatVersion } from './wire.js';

export const helloIntervalMs = 1000;

interface SnapshotRequest {
  type: 'snapshot-request';
  node: string;
  nodeNumber: number;
}

interface SnapshotDone {
  type: 'snapshot-done';
  node: string;
  nodeNumber: number;
}

type ControlMessage = Hello | SnapshotRequest | SnapshotDone;

const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
/** A sync format version: the batch header's u8, never 0. */
const isFormat = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 0xff;
const roles = new Set(['active', 'backup', 'multi-active']);
const poolName = /^(?!\.\.?$)[A-Za-z0-9._~-]{1,128}$/;
const maxAddresses = 4096;
const maxNodes = 256;

function isPoolAddresses(v: unknown): v is PoolAddresses {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  let count = 0;
  for (const [pool, list] of Object.entries(v)) {
    if (!poolName.test(pool) || !Array.isArray(list)) return false;
    count += list.length;
    if (count > maxAddresses || !list.every((a) => typeof a === 'string' && isIP(a) !== 0)) return false;
  }
  return true;
}

/** The message if it is one this node understands; anything else is ignored. */
function parse(message: Buffer): ControlMessage | undefined {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(message.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || typeof m.node !== 'string' || !isCount(m.nodeNumber)) return undefined;
  if (m.type === 'snapshot-request') return m as unknown as SnapshotRequest;
  if (m.type === 'snapshot-done') return m as unknown as SnapshotDone;
  const addressesFit = (m.addresses === undefined || isPoolAddresses(m.addresses)) && (m.remembered === undefined || isRemembered(m.remembered));
  const formatFits = m.format === undefined || isFormat(m.format);
  if (m.type === 'hello' && roles.has(m.role as string) && isCount(m.workers) && isCount(m.fingerprint) && addressesFit && formatFits) return m as unknown as Hello;
  return undefined;
}

/** Node numbers (decimal u32) to pool addresses, bounded like a hello's own. */
function isRemembered(v: unknown): v is Record<string, PoolAddresses> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return entries.length <= maxNodes && entries.every(([node, addresses]) => /^\d{1,10}$/.test(node) && Number(node) <= 0xffffffff && isPoolAddresses(addresses));
}

export interface ControlHooks {
  /** A peer asked for every session (called only while this node forwards). */
  snapshotRequested(): void;
  /** A peer has sent every session it held. */
  snapshotAnswered(peer: number): void;
  /** The local addresses owned by peers changed. */
  peerAddressesChanged(): void;
}

export class ControlChannel {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly peers: PeerTable,
    private readonly hooks: ControlHooks,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.hello(), helloIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  hello(): void {
    const { workers, fingerprint, addresses } = this.ctx.portability();
    const cluster = addresses ? { addresses, remembered: this.peers.remembered() } : {};
    this.send({ type: 'hello', node: this.ctx.nodeId, nodeNumber: this.ctx.node, role: this.ctx.role(), format: formatVersion, workers, fingerprint, ...cluster });
  }

  /** Tells the peers this node has published every session it holds. */
  snapshotDone(): void {
    this.send({ type: 'snapshot-done', node: this.ctx.nodeId, nodeNumber: this.ctx.node });
  }

  requestSnapshot(): void {
    this.ctx.counters.snapshotsRequested++;
    this.send({ type: 'snapshot-request', node: this.ctx.nodeId, nodeNumber: this.ctx.node });
  }

  message(raw: Buffer): void {
    const message = parse(raw);
    if (!message || message.nodeNumber === this.ctx.node) return;
    if (message.type === 'snapshot-request') {
      if (forwards(this.ctx.role())) this.hooks.snapshotRequested();
      return;
    }
    if (message.type === 'snapshot-done') return this.hooks.snapshotAnswered(message.nodeNumber);
    const outcome = this.peers.hello(message, this.ctx.portability(), Date.now());
    if (outcome.addressesChanged) this.hooks.peerAddressesChanged();
    // A forwarding node that was not around when this one asked (or started later) holds
    // sessions worth having; asked after the data plane learnt its addresses, if they changed.
    if (outcome.snapshotWanted) this.requestSnapshot();
  }

  private send(message: ControlMessage): void {
    if (!this.ctx.writable()) return;
    this.ctx.links.commands.publish(controlChannel, JSON.stringify(message)).catch((err: unknown) => this.ctx.fail(err));
  }
}
