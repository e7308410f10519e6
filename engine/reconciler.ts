import type { Commit, ConfigReader, Store } from '../store/store.js';
import { kinds, type KindName } from '../store/kinds.js';
import type { Engine } from './engine.js';

/** Where the reconciler says what it did at start; a pino logger fits. */
export interface ReconcilerLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** Commits the engine took or refused, and restores after a commit that failed late; monotonic. */
export interface ApplyCounts {
  applied: number;
  refused: number;
  restored: number;
}

/**
 * Drives the engine from the store: every write is applied inside its transaction, before it
 * commits (a refusal rolls it back), and start() replays the whole stored configuration once,
 * so a restart brings the data plane back to what was acknowledged.
 */
export class Reconciler {
  private error: string | undefined;
  readonly counts: ApplyCounts = { applied: 0, refused: 0, restored: 0 };

  constructor(
    private readonly store: Store,
    readonly engine: Engine,
  ) {}

  /**
   * Replays everything stored, then follows each write. A stored configuration the engine
   * refuses (a device gone since the last run) does not stop the appliance: /readyz reports
   * it until a write fixes it.
   */
  start(log?: ReconcilerLog): void {
    const changes = (Object.keys(kinds) as KindName[]).flatMap((kind) =>
      this.store.all(kind).map((o) => ({ kind, scope: o.scope, name: o.name, op: 'put' as const })),
    );
    const generation = this.store.generation();
    try {
      this.apply({ generation, changes }, this.store);
      log?.info({ generation, objects: changes.length, cause: 'start' }, `stored configuration applied: generation ${generation}, ${changes.length} objects`);
    } catch (err) {
      this.error = `the stored configuration was not applied: ${(err as Error).message}`;
      log?.error({ generation, objects: changes.length, cause: 'start', err }, this.error);
    }
    this.store.onWrite({
      apply: (commit, config) => this.apply(commit, config),
      restore: (config) => this.restore(config),
    });
  }

  /** A refused write goes back to its client; the engine keeps what it ran, so all is applied. */
  private apply(commit: Commit, config: ConfigReader): void {
    try {
      this.engine.apply(commit, config);
    } catch (err) {
      this.counts.refused++;
      throw err;
    }
    this.counts.applied++;
    this.error = undefined;
  }

  private restore(config: ConfigReader): void {
    this.engine.restore(config);
    this.counts.restored++;
  }

  /** The generation the engine runs (it alone keeps it); equal to the store's when everything is applied. */
  get appliedGeneration(): number {
    return this.engine.appliedGeneration();
  }

  /** Why the stored configuration is not running, until a write succeeds. */
  get lastError(): string | undefined {
    return this.error;
  }
}
