import type { Commit, ConfigReader, Store } from '../store/store.js';
import { kinds, type KindName } from '../store/kinds.js';
import type { Engine } from './engine.js';

/**
 * Drives the engine from the store: every write is applied inside its transaction, before it
 * commits (a refusal rolls it back), and start() replays the whole stored configuration once,
 * so a restart brings the data plane back to what was acknowledged.
 */
export class Reconciler {
  private applied = 0;
  private error: string | undefined;

  constructor(
    private readonly store: Store,
    readonly engine: Engine,
  ) {}

  /**
   * Replays everything stored, then follows each write. A stored configuration the engine
   * refuses (a device gone since the last run) does not stop the appliance: /readyz reports
   * it until a write fixes it.
   */
  start(): void {
    const changes = (Object.keys(kinds) as KindName[]).flatMap((kind) =>
      this.store.all(kind).map((o) => ({ kind, scope: o.scope, name: o.name, op: 'put' as const })),
    );
    try {
      this.apply({ generation: this.store.generation(), changes }, this.store);
    } catch (err) {
      this.error = `the stored configuration was not applied: ${(err as Error).message}`;
    }
    this.store.onWrite({
      apply: (commit, config) => this.apply(commit, config),
      restore: (config) => this.restore(config),
    });
  }

  /** A refused write goes back to its client; the engine keeps what it ran, so all is applied. */
  private apply(commit: Commit, config: ConfigReader): void {
    this.engine.apply(commit, config);
    this.applied = commit.generation;
    this.error = undefined;
  }

  private restore(config: ConfigReader): void {
    this.engine.restore(config);
    this.applied = config.generation();
  }

  /** The generation the engine runs; equal to the store's when everything is applied. */
  get appliedGeneration(): number {
    return this.applied;
  }

  /** Why the stored configuration is not running, until a write succeeds. */
  get lastError(): string | undefined {
    return this.error;
  }
}
