import type { Commit, Store } from '../store/store.js';
import { kinds, type KindName } from '../store/kinds.js';
import type { Engine } from './engine.js';

/**
 * Drives the engine from the store: every commit is applied before the write that caused it
 * returns (the store calls listeners synchronously), and start() replays the whole stored
 * configuration once, so a restart brings the data plane back to what was acknowledged.
 */
export class Reconciler {
  private applied = 0;
  private error: string | undefined;

  constructor(
    private readonly store: Store,
    readonly engine: Engine,
  ) {}

  /** Replays everything stored, then follows each commit. */
  start(): void {
    const changes = (Object.keys(kinds) as KindName[]).flatMap((kind) =>
      this.store.all(kind).map((o) => ({ kind, scope: o.scope, name: o.name, op: 'put' as const })),
    );
    this.apply({ generation: this.store.generation(), changes });
    this.store.onCommit((commit) => this.apply(commit));
  }

  private apply(commit: Commit): void {
    try {
      this.engine.apply(commit, this.store);
      this.applied = commit.generation;
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
      throw err;
    }
  }

  /** The generation the engine runs; equal to the store's when everything is applied. */
  get appliedGeneration(): number {
    return this.applied;
  }

  /** Why the last apply failed, until one succeeds. */
  get lastError(): string | undefined {
    return this.error;
  }
}
