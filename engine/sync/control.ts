// The control channel: small JSON messages, never session records. Each node says hello
// every second (who it is, its role, what its sessions need to be portable); a node that
// needs every session asks with snapshot-request, which active nodes answer.

import type { BridgeContext } from './context.js';
import type { Hello, PeerTable } from './peers.js';
import { controlChannel } from './redis.js';

export const helloIntervalMs = 1000;

interface SnapshotRequest {
  type: 'snapshot-request';
  node: string;
  nodeNumber: number;
}

type ControlMessage = Hello | SnapshotRequest;

const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

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
  if (m.type === 'hello' && (m.role === 'active' || m.role === 'backup') && isCount(m.workers) && isCount(m.fingerprint)) return m as unknown as Hello;
  return undefined;
}

export class ControlChannel {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly peers: PeerTable,
    /** A peer asked for every session (called only while this node is active). */
    private readonly snapshotRequested: () => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.hello(), helloIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  hello(): void {
    const { workers, fingerprint } = this.ctx.portability();
    this.send({ type: 'hello', node: this.ctx.nodeId, nodeNumber: this.ctx.node, role: this.ctx.role(), workers, fingerprint });
  }

  requestSnapshot(): void {
    this.ctx.counters.snapshotsRequested++;
    this.send({ type: 'snapshot-request', node: this.ctx.nodeId, nodeNumber: this.ctx.node });
  }

  message(raw: Buffer): void {
    const message = parse(raw);
    if (!message || message.nodeNumber === this.ctx.node) return;
    if (message.type === 'snapshot-request') {
      if (this.ctx.role() === 'active') this.snapshotRequested();
    } else if (this.peers.hello(message, this.ctx.portability(), Date.now())) {
      // An active node that was not around when this one asked (or started later) holds sessions worth having.
      this.requestSnapshot();
    }
  }

  private send(message: ControlMessage): void {
    if (!this.ctx.writable()) return;
    this.ctx.links.commands.publish(controlChannel, JSON.stringify(message)).catch((err: unknown) => this.ctx.fail(err));
  }
}
