// Appliances for the configuration-store benchmark (config-store-bench.ts), in one process on
// temp-file SQLite databases: etcd nodes as the etcd tests start them, and a node on SQLite
// alone, each over a RecordingEngine, which notes when apply() first receives each version of
// an object.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { OffEngine } from '../../engine/off-engine.js';
import type { KindName } from '../../store/kinds.js';
import type { Commit, ConfigReader } from '../../store/store.js';
import { startEtcdNode, type EtcdNode } from '../config-store/etcd-node.js';
import { serverNic, testApp, type TestApp } from '../helpers.js';

/** One version of one object: what the recorder keys its times by. */
export function versionKey(kind: KindName, scope: string, name: string, resourceVersion: number): string {
  return `${kind}/${scope}/${name}@${resourceVersion}`;
}

/** OffEngine that records performance.now() when apply() first receives each object version it puts. */
export class RecordingEngine extends OffEngine {
  private readonly appliedAt = new Map<string, number>();
  private readonly waiters = new Map<string, ((at: number) => void)[]>();

  override apply(commit: Commit, config?: ConfigReader): void {
    const at = performance.now();
    super.apply(commit);
    if (!config) return;
    for (const change of commit.changes) {
      if (change.op !== 'put') continue;
      const object = config.get(change.kind, change.scope, change.name);
      if (!object) continue;
      const key = versionKey(change.kind, change.scope, change.name, object.resourceVersion);
      if (this.appliedAt.has(key)) continue;
      this.appliedAt.set(key, at);
      for (const resolve of this.waiters.get(key) ?? []) resolve(at);
      this.waiters.delete(key);
    }
  }

  /** When apply() received `key` (now or later); rejects after `timeoutMs`. */
  whenApplied(key: string, timeoutMs: number): Promise<number> {
    const at = this.appliedAt.get(key);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(key) ?? [];
        list.splice(list.indexOf(done), 1);
        reject(new Error(`${key} was not applied within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const done = (t: number) => {
        clearTimeout(timer);
        resolve(t);
      };
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), done]);
    });
  }
}

export interface BenchNode {
  name: string;
  app: FastifyInstance;
  engine: RecordingEngine;
  /** The etcd node, when the node's cluster-wide kinds live in etcd. */
  etcd?: EtcdNode;
  request: TestApp['request'];
  close(): Promise<void>;
}

/**
 * An appliance on a temp-file database, wired as the tests wire one (test/helpers.ts testApp,
 * test/config-store/etcd-node.ts): with `etcd`, its cluster-wide kinds live under that prefix.
 */
export async function startNode(name: string, etcd?: { endpoints: string[]; prefix: string }): Promise<BenchNode> {
  const dir = mkdtempSync(join(tmpdir(), `l4lb-config-bench-${name}-`));
  const db = join(dir, 'l4lb.db');
  const engine = new RecordingEngine();
  const etcdNode = etcd ? await startEtcdNode(name, db, etcd.endpoints, { prefix: etcd.prefix, engine }) : undefined;
  const node = etcdNode ?? (await testApp({ db, engine }));
  return {
    name,
    app: node.app,
    engine,
    ...(etcdNode ? { etcd: etcdNode } : {}),
    request: node.request,
    close: async () => {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The server NIC widened to 10.2.0.0/15, where the bench's real servers live (seedLocal's server NIC). */
export const wideServerNic = { ...serverNic, networks: ['10.0.2.0/24', '10.2.0.0/15'] };

/** The i-th real server address in 10.2.0.0/15. */
export function address(i: number): string {
  return `10.${2 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

/** p50, p99 and max of `values` (milliseconds), as api-bench takes them. */
export function quantiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}
