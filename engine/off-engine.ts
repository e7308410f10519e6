import type { Commit, ConfigReader } from '../store/store.js';
import { EngineUnavailable, type Engine, type HealthOverlay, type SessionPage } from './engine.js';
import { noSpeaker, type BgpStatus } from './bgp/announcer.js';
import type { NativeStatus } from './dataplane/native.js';
import { SyncCounters, type SyncStatus } from './sync/stats.js';

/**
 * `--engine off`: the appliance stores and serves configuration without a data plane.
 * Every configuration is accepted (there is nothing to refuse it); anything that needs live
 * traffic state says clearly that there is none.
 */
export class OffEngine implements Engine {
  readonly mode = 'off' as const;
  private readonly syncCounters = new SyncCounters();

  private applied = 0;

  apply(commit: Commit): void {
    this.applied = commit.generation;
  }

  restore(config: ConfigReader): void {
    this.applied = config.generation();
  }

  appliedGeneration(): number {
    return this.applied;
  }

  applyHealth(_down: HealthOverlay): void {}

  counters(): NativeStatus | undefined {
    return undefined;
  }

  nics(): NativeStatus['nics'] {
    return [];
  }

  liveStatus(): Record<string, unknown> {
    return {};
  }

  async sessions(): Promise<SessionPage> {
    throw new EngineUnavailable('the engine is off (started with --engine off): there are no live sessions');
  }

  async flushSessions(): Promise<void> {
    throw new EngineUnavailable('the engine is off (started with --engine off): there are no live sessions');
  }

  /** There is no data plane to route to: no speaker runs. */
  bgpStatus(): BgpStatus {
    return noSpeaker;
  }

  /** There is no data plane to sync: the counters stay at zero. */
  syncStatus(): SyncStatus {
    return this.syncCounters.status({ state: 'not-running', peers: [] });
  }

  onSyncLag(): void {}

  /** Without a data plane the state stays `not-running`. */
  onSyncStateChange(): void {}

  async close(): Promise<void> {}
}
