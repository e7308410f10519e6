// Bridge tests' nodes: a SyncBridge on a fake data plane, connected to the test's Redis.

import { SyncBridge } from '../../engine/sync/bridge.js';
import type { PoolAddresses, Portability } from '../../engine/sync/peers.js';
import { SyncCounters, type SyncRole, type SyncStatus } from '../../engine/sync/stats.js';
import { encodeBatch, nodeNumber, portabilityFingerprint } from '../../engine/sync/wire.js';
import { FakeDataPlane, fakeRecord, stamp } from './fake-data-plane.js';
import { afterEach, beforeEach } from 'node:test';
import { RedisServer, type RedisServerOptions } from '../redis-server.js';

/** The local address pool every test node runs unless told otherwise. */
export const defaultPortability: Portability = {
  workers: 1,
  fingerprint: portabilityFingerprint(1, [{ addresses: ['10.0.2.100'], portMin: 1024, portMax: 65535 }]),
};

export interface TestNode {
  nodeId: string;
  number: number;
  bridge: SyncBridge;
  plane: FakeDataPlane;
  counters: SyncCounters;
  /** The state after each change the bridge reported, with its cause. */
  stateChanges: string[];
  /** What the bridge last said its peers' local addresses are. */
  peerAddresses: PoolAddresses;
  status(): SyncStatus;
}

export interface NodeOptions {
  portability?: Portability;
  replay?: boolean;
  password?: string;
}

export class TestNodes {
  private readonly nodes: TestNode[] = [];

  constructor(private readonly redis: RedisServer) {}

  start(nodeId: string, role: SyncRole, options: NodeOptions = {}): TestNode {
    const plane = new FakeDataPlane();
    const counters = new SyncCounters();
    const portability = options.portability ?? defaultPortability;
    const stateChanges: string[] = [];
    const bridge = new SyncBridge({
      settings: {
        redisUrl: this.redis.url,
        ...(options.password ? { redisPassword: options.password } : {}),
        nodeId,
        role,
        replay: { enabled: options.replay ?? false, streamMaxLength: 1000 },
      },
      dataPlane: plane,
      counters,
      portability: () => portability,
      maxTimeoutSeconds: () => 90,
      replayOnStart: true,
      stateChanged: (cause: string) => {
        stateChanges.push(`${bridge.state}: ${cause}`);
      },
      peerAddressesChanged: (addresses) => {
        node.peerAddresses = addresses;
      },
    });
    const node: TestNode = { nodeId, number: nodeNumber(nodeId), bridge, plane, counters, stateChanges, peerAddresses: {}, status: () => bridge.status() };
    this.nodes.push(node);
    return node;
  }

  closeAll(): void {
    for (const node of this.nodes) node.bridge.close();
  }
}

/** A live batch as the peer `origin` would publish it, one record per client port. */
export function peerBatch(origin: string, firstSequence: number, ports: number[], portability = defaultPortability): Buffer {
  const records = Buffer.concat(ports.map((port, i) => stamp(fakeRecord(port), nodeNumber(origin), firstSequence + i)));
  return encodeBatch({ snapshot: false, origin: nodeNumber(origin), ...portability, firstSequence, sentAt: Date.now() }, records);
}

/** A live batch as a version 1 node publishes it: the same 32-byte header, format 1, 64-byte records. */
export function version1Batch(origin: string, firstSequence: number, count: number, portability = defaultPortability): Buffer {
  const header = encodeBatch({ snapshot: false, origin: nodeNumber(origin), ...portability, firstSequence, sentAt: Date.now() }, Buffer.alloc(0));
  header.writeUInt8(1, 4);
  header.writeUInt16BE(count, 6);
  header.writeUInt16BE(64, 14);
  const records = Buffer.alloc(64 * count);
  for (let i = 0; i < count; i++) records.writeUInt8(1, i * 64);
  return Buffer.concat([header, records]);
}

export function peerOf(node: TestNode, nodeId: string) {
  return node.status().peers.find((p) => p.nodeId === nodeId);
}

/**
 * Registers, in the calling describe(), a fresh redis-server and TestNodes for each test, closed
 * after it; the returned getters read the current test's.
 */
export function freshRedisPerTest(): { redis(): RedisServer; nodes(): TestNodes; replaceRedis(options: RedisServerOptions): Promise<void> } {
  let redis: RedisServer;
  let nodes: TestNodes;
  beforeEach(async () => {
    redis = new RedisServer();
    await redis.start();
    nodes = new TestNodes(redis);
  });
  afterEach(async () => {
    nodes.closeAll();
    await redis.close();
  });
  const replaceRedis = async (options: RedisServerOptions) => {
    nodes.closeAll();
    await redis.close();
    redis = new RedisServer(options);
    await redis.start();
    nodes = new TestNodes(redis);
  };
  return { redis: () => redis, nodes: () => nodes, replaceRedis };
}
