// The peers this node hears from: who they are (hello messages), whether their sessions are
// portable here (the same sync format, workers and pools), the last live sequence each sent
// (a jump means records were lost), and, in a multi-active cluster, which local addresses
// each owns.
//
// Address ownership outlives a peer's hellos on purpose: when a node dies, replies for its
// addresses reach the survivors by the covering route for as long as its sessions live, so a
// survivor keeps looking its addresses up until the owner (or a new one) says otherwise. Each
// hello also carries what its sender remembers, so a node that (re)starts while an owner is
// dead learns that owner's addresses from the others, and takes its sessions' copies.

import type { PeerStatus, SyncRole } from './stats.js';
import { formatMismatch } from './wire.js';

/** Local addresses by pool name, in the text form the store keeps (either family). */
export type PoolAddresses = Record<string, string[]>;

/** What peers compare before they share sessions (docs/sync.md, Portability). */
export interface Portability {
  workers: number;
  fingerprint: number;
  /** Multi-active only: this node's own local addresses (peers must own others). */
  addresses?: PoolAddresses;
}

/** The control message each node publishes every second. */
export interface Hello extends Portability {
  type: 'hello';
  node: string;
  nodeNumber: number;
  role: SyncRole;
  /** Multi-active: what the sender knows other nodes own, by node number. */
  remembered?: Record<string, PoolAddresses>;
  /** The sync format version it speaks (wire.ts); absent from version 1 nodes' hellos. */
  format?: number;
}

/** Unseen for this long, a peer is gone from the status (and its sequence forgotten). */
export const peerStaleMs = 5000;

/** A role that forwards, and so opens sessions worth sharing and answers snapshot requests. */
export const forwards = (role: SyncRole | 'unknown'): boolean => role === 'active' || role === 'multi-active';

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** Why sessions from `peer` cannot run here, or undefined when they can. */
export function incompatibility(peer: Portability, local: Portability): string | undefined {
  if (peer.workers !== local.workers) return `the peer runs ${peer.workers} workers, this node ${local.workers}`;
  if (peer.fingerprint !== local.fingerprint) {
    const what = local.addresses ? 'pool names or port ranges, or one of the two is not multi-active' : 'addresses or port ranges';
    return `portability fingerprint ${hex(peer.fingerprint)} differs from this node's ${hex(local.fingerprint)}: the local address pools (${what}) differ`;
  }
  return undefined;
}

/** An address both nodes claim, as the reason their sessions are refused (on both nodes alike). */
function addressConflict(peer: PoolAddresses | undefined, local: PoolAddresses | undefined): string | undefined {
  if (!peer || !local) return undefined;
  const mine = new Map<string, string>();
  for (const [pool, addresses] of Object.entries(local)) for (const a of addresses) mine.set(a, pool);
  for (const [pool, addresses] of Object.entries(peer))
    for (const a of addresses)
      if (mine.has(a)) return `local address ${a} is owned by both nodes (pool '${mine.get(a)}' here, '${pool}' there); each address belongs to one node`;
  return undefined;
}

interface Peer {
  nodeId: string;
  role: SyncRole | 'unknown';
  lastSeen: number;
  /** Why its batches are refused: another sync format, a fingerprint that differs, else an address both claim. */
  reason: string | undefined;
  conflict: string | undefined;
  lastSequence: number | undefined;
  /** Its last hello: what it is judged by again when this node's own pools change. */
  hello: Hello | undefined;
  recordsReceived: number;
}

/** What a hello changed, for the bridge to act on. */
export interface HelloOutcome {
  /** A forwarding peer not known as one before (new, or just promoted): ask for a snapshot. */
  snapshotWanted: boolean;
  /** The addresses owned by peers changed: the data plane must look them up. */
  addressesChanged: boolean;
}

export class PeerTable {
  private readonly peers = new Map<number, Peer>();
  /** Multi-active peers' addresses by node number, kept after their hellos stop (see above). */
  private readonly owners = new Map<number, PoolAddresses>();

  /** `self`: this node's number, which peers' memories name too. */
  constructor(private readonly self: number) {}

  private peer(number: number, now: number): Peer {
    let peer = this.peers.get(number);
    if (!peer) {
      peer = { nodeId: hex(number), role: 'unknown', lastSeen: now, reason: undefined, conflict: undefined, lastSequence: undefined, hello: undefined, recordsReceived: 0 };
      this.peers.set(number, peer);
    }
    peer.lastSeen = now;
    return peer;
  }

  hello(hello: Hello, local: Portability, now: number): HelloOutcome {
    const before = this.peers.get(hello.nodeNumber);
    const wasForwarding = before !== undefined && forwards(before.role);
    const known = before ?? this.peer(hello.nodeNumber, now);
    known.lastSeen = now;
    known.nodeId = hello.node;
    known.role = hello.role;
    known.hello = hello;
    let addressesChanged = this.judge(hello.nodeNumber, known, local);
    if (known.reason === undefined && hello.remembered) addressesChanged = this.learn(hello.remembered, local) || addressesChanged;
    return { snapshotWanted: forwards(hello.role) && !wasForwarding && known.reason === undefined, addressesChanged };
  }

  /** What this node knows peers own, for its hellos. */
  remembered(): Record<string, PoolAddresses> {
    return Object.fromEntries([...this.owners].map(([number, addresses]) => [String(number), addresses]));
  }

  /** Notes a batch in this node's format from `origin`; returns why its records cannot be used here, if so. */
  batch(origin: number, portability: Portability, local: Portability, now: number, records: number): string | undefined {
    const peer = this.peer(origin, now);
    peer.reason = incompatibility(portability, local) ?? peer.conflict;
    if (peer.reason === undefined) peer.recordsReceived += records;
    return peer.reason;
  }

  /** Notes a batch in another sync format from `origin`: the peer is shown incompatible. */
  otherFormat(origin: number, format: number, now: number): void {
    this.peer(origin, now).reason = formatMismatch(format);
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

  /** This node's own addresses changed: conflicts are decided again, and so is what peers own. */
  localChanged(local: Portability): boolean {
    let changed = false;
    for (const [number, peer] of this.peers) changed = this.judge(number, peer, local) || changed;
    return changed;
  }

  /** The addresses every multi-active peer owns, by pool: what this node must look up but never hand out. */
  peerAddresses(): PoolAddresses {
    const union: Record<string, Set<string>> = {};
    for (const addresses of this.owners.values())
      for (const [pool, list] of Object.entries(addresses)) for (const a of list) (union[pool] ??= new Set()).add(a);
    return Object.fromEntries(Object.entries(union).map(([pool, set]) => [pool, [...set].sort()]));
  }

  /** Its node id as it said it, or its number until its first hello. */
  name(number: number): string {
    return this.peers.get(number)?.nodeId ?? hex(number);
  }

  /** Compatible multi-active peers heard from within `peerStaleMs`. */
  liveClusterPeers(now: number): number[] {
    return [...this.peers].filter(([, p]) => p.role === 'multi-active' && p.reason === undefined && now - p.lastSeen <= peerStaleMs).map(([n]) => n);
  }

  /** The peers heard from within `peerStaleMs`; older ones are dropped (their addresses stay owned). */
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
        ...(peer.hello?.addresses ? { addresses: peer.hello.addresses } : {}),
        recordsReceived: peer.recordsReceived,
      });
    }
    return shown.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }

  /** Decides from its last hello whether `peer`'s sessions can run here; true when what it owns changed. */
  private judge(number: number, peer: Peer, local: Portability): boolean {
    if (!peer.hello) return false;
    peer.conflict = addressConflict(peer.hello.addresses, local.addresses);
    // A version 1 node's hello has no format field.
    peer.reason = formatMismatch(peer.hello.format ?? 1) ?? incompatibility(peer.hello, local) ?? peer.conflict;
    return this.own(number, peer.reason === undefined ? peer.hello.addresses : undefined);
  }

  /**
   * Takes from a peer's memory the owners this node knows nothing of (never heard, nor told):
   * what it heard itself comes first, and so do its own addresses and every address another
   * owner holds. True when that changed what peers own.
   */
  private learn(remembered: Record<string, PoolAddresses>, local: Portability): boolean {
    const held = new Set([...Object.values(local.addresses ?? {}), ...[...this.owners.values()].flatMap((a) => Object.values(a))].flat());
    let changed = false;
    for (const [key, addresses] of Object.entries(remembered)) {
      const number = Number(key);
      if (number === this.self || this.owners.has(number) || this.peers.get(number)?.hello) continue;
      const free = Object.fromEntries(Object.entries(addresses).map(([pool, list]) => [pool, list.filter((a) => !held.has(a))]));
      if (Object.values(free).every((list) => list.length === 0)) continue;
      this.owners.set(number, free);
      changed = true;
    }
    return changed;
  }

  /** Sets what `number` owns (undefined: nothing); true when that changed. */
  private own(number: number, addresses: PoolAddresses | undefined): boolean {
    const before = this.owners.get(number);
    if (JSON.stringify(before) === JSON.stringify(addresses)) return false;
    if (addresses && Object.keys(addresses).length) this.owners.set(number, addresses);
    else this.owners.delete(number);
    // Another node now claims what `number` held: the newer claim wins.
    if (addresses)
      for (const [other, owned] of this.owners)
        if (other !== number) this.owners.set(other, withoutAddresses(owned, addresses));
    return true;
  }
}

function withoutAddresses(owned: PoolAddresses, taken: PoolAddresses): PoolAddresses {
  const gone = new Set(Object.values(taken).flat());
  return Object.fromEntries(Object.entries(owned).map(([pool, list]) => [pool, list.filter((a) => !gone.has(a))]));
}
