// The peers this node hears from: who they are (hello messages), whether their sessions are
// portable here, and the last live sequence each sent (a jump means records were lost).

import type { PeerStatus, SyncRole } from './stats.js';

/** What peers compare before they share sessions (docs/sync.md, Portability). */
export interface Portability {
  workers: number;
  fingerprint: number;
}

/** The control message each node publishes every second. */
export interface Hello extends Portability {
  type: 'hello';
  node: string;
  nodeNumber: number;
  role: SyncRole;
}

/** Unseen for this long, a peer is gone from the status (and its sequence forgotten). */
export const peerStaleMs = 5000;

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** Why sessions from `peer` cannot run here, or undefined when they can. */
export function incompatibility(peer: Portability, local: Portability): string | undefined {
  if (peer.workers !== local.workers) return `the peer runs ${peer.workers} workers, this node ${local.workers}`;
  if (peer.fingerprint !== local.fingerprint)
    return `portability fingerprint ${hex(peer.fingerprint)} differs from this node's ${hex(local.fingerprint)}: the local address pools (addresses or port ranges) differ`;
  return undefined;
}

interface Peer {
  nodeId: string;
  role: SyncRole | 'unknown';
  lastSeen: number;
  reason: string | undefined;
  lastSequence: number | undefined;
}

export class PeerTable {
  private readonly peers = new Map<number, Peer>();

  private peer(number: number, now: number): Peer {
    let peer = this.peers.get(number);
    if (!peer) {
      peer = { nodeId: hex(number), role: 'unknown', lastSeen: now, reason: undefined, lastSequence: undefined };
      this.peers.set(number, peer);
    }
    peer.lastSeen = now;
    return peer;
  }

  /**
   * Notes a hello; true when it comes from an active node not known as one before (new, or
   * just promoted): its sessions are worth a snapshot request, which may have gone unheard.
   */
  hello(hello: Hello, local: Portability, now: number): boolean {
    const peer = this.peers.get(hello.nodeNumber);
    const becameActive = hello.role === 'active' && peer?.role !== 'active';
    const known = peer ?? this.peer(hello.nodeNumber, now);
    known.lastSeen = now;
    known.nodeId = hello.node;
    known.role = hello.role;
    known.reason = incompatibility(hello, local);
    return becameActive && known.reason === undefined;
  }

  /** Notes a batch from `origin`; returns why its records cannot be used here, if so. */
  batch(origin: number, portability: Portability, local: Portability, now: number): string | undefined {
    const peer = this.peer(origin, now);
    peer.reason = incompatibility(portability, local);
    return peer.reason;
  }

  /**
   * Notes a live batch's sequences; true when it does not follow the last one from the same
   * origin (records were lost on the way: ask for a snapshot).
   */
  sequenceGap(origin: number, firstSequence: number, count: number, now: number): boolean {
    const peer = this.peer(origin, now);
    const gap = peer.lastSequence !== undefined && firstSequence !== ((peer.lastSequence + 1) >>> 0);
    if (count > 0) peer.lastSequence = (firstSequence + count - 1) >>> 0;
    return gap;
  }

  /** After an outage every origin's sequence starts over: the resync replaces what was lost. */
  forgetSequences(): void {
    for (const peer of this.peers.values()) peer.lastSequence = undefined;
  }

  /** The peers heard from within `peerStaleMs`; older ones are dropped. */
  list(now: number): PeerStatus[] {
    const shown: PeerStatus[] = [];
    for (const [number, peer] of this.peers) {
      const ago = now - peer.lastSeen;
      if (ago > peerStaleMs) {
        this.peers.delete(number);
        continue;
      }
      shown.push({
        nodeId: peer.nodeId,
        role: peer.role,
        lastSeenMsAgo: Math.max(0, ago),
        compatible: peer.reason === undefined,
        ...(peer.reason ? { reason: peer.reason } : {}),
      });
    }
    return shown.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }
}
