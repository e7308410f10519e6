// The DPDK engine's side of session sync: after every apply the data plane accepted, it starts,
// reconfigures or stops the bridge to match the `sync` settings, and when the node becomes
// active (promotion, or sync starting as active) it announces the VIPs and local addresses
// with gratuitous ARP at once and twice more, so one lost frame cannot leave the network
// sending to a dead node.

import type { NativeConfig, NativeEngine, NativeSyncCounters } from '../dataplane/native.js';
import { SyncBridge } from './bridge.js';
import type { Portability } from './peers.js';
import { sameConnection, type SyncSettings } from './settings.js';
import { SyncCounters, type SyncRole, type SyncState, type SyncStateChange, type SyncStatus } from './stats.js';
import { portabilityFingerprint } from './wire.js';

/** Gratuitous ARP after becoming active: at once, then after each of these delays. */
export const announceRepeatsMs = [500, 2000];

type SyncNative = Pick<NativeEngine, 'drainSync' | 'ingestSync' | 'snapshotSync' | 'announce'>;

export class SyncController {
  readonly counters = new SyncCounters();
  private bridge: SyncBridge | undefined;
  private settings: SyncSettings | undefined;
  private portability: Portability;
  private maxTimeoutSeconds = 0;
  /** Only the first bridge replays the stream: the data plane started empty just before. */
  private started = false;
  private readonly announceTimers = new Set<NodeJS.Timeout>();
  private reported: { state: SyncState; role?: SyncRole } = { state: 'disabled' };
  private stateListener: ((change: SyncStateChange) => void) | undefined;

  constructor(
    private readonly native: SyncNative,
    private readonly workers: number,
  ) {
    this.portability = { workers, fingerprint: portabilityFingerprint(workers, []) };
  }

  /** Follows `settings` once the data plane runs a configuration with these pools and longest timeout. */
  follow(settings: SyncSettings | undefined, pools: NativeConfig['pools'], maxTimeoutSeconds: number): void {
    this.portability = { workers: this.workers, fingerprint: portabilityFingerprint(this.workers, pools) };
    this.maxTimeoutSeconds = maxTimeoutSeconds;
    const wasRole: SyncRole | undefined = this.bridge ? this.settings?.role : undefined;
    if (!settings?.enabled) {
      this.stopBridge();
      this.cancelAnnouncements();
      this.stateChanged('the sync settings turned it off');
      return;
    }
    if (this.bridge && this.settings && sameConnection(this.settings, settings)) this.bridge.setRole(settings.role);
    else this.startBridge(settings);
    this.settings = settings;
    if (settings.role === 'active' && wasRole !== 'active') this.announce();
    else if (settings.role === 'backup') this.cancelAnnouncements();
    this.stateChanged(this.bridge ? `the sync settings made it ${settings.role}` : 'sync did not start (lastError says why)');
  }

  /** The longest state timeout of any service, in seconds, after services changed. */
  setMaxTimeout(seconds: number): void {
    this.maxTimeoutSeconds = seconds;
  }

  onStateChange(listener: (change: SyncStateChange) => void): void {
    this.stateListener = listener;
  }

  status(native: NativeSyncCounters | undefined): SyncStatus {
    if (this.bridge) return this.bridge.status(native);
    return this.counters.status({ state: this.bridgelessState(), peers: [] }, native);
  }

  /** Enabled without a bridge: it could not start (lastError says why). */
  private bridgelessState(): SyncState {
    return this.settings?.enabled ? 'degraded' : 'disabled';
  }

  /** Tells the listener once per change of state or role. */
  private stateChanged(cause: string): void {
    const state = this.bridge?.state ?? this.bridgelessState();
    const role = this.bridge ? this.settings?.role : undefined;
    if (state === this.reported.state && role === this.reported.role) return;
    this.reported = role ? { state, role } : { state };
    this.stateListener?.({ ...this.reported, cause });
  }

  close(): void {
    this.stopBridge();
    this.cancelAnnouncements();
  }

  private startBridge(settings: SyncSettings): void {
    this.stopBridge();
    try {
      this.bridge = new SyncBridge({
        settings,
        dataPlane: this.native,
        counters: this.counters,
        portability: () => this.portability,
        maxTimeoutSeconds: () => this.maxTimeoutSeconds,
        replayOnStart: !this.started,
        stateChanged: (cause) => this.stateChanged(cause),
      });
      this.started = true;
    } catch (err) {
      // The data plane already runs the write that brought these settings; it is not undone for the bridge.
      this.counters.noteError(`sync did not start: ${(err as Error).message}`);
    }
  }

  private stopBridge(): void {
    this.bridge?.close();
    this.bridge = undefined;
    this.settings = undefined;
  }

  private announce(): void {
    this.cancelAnnouncements();
    this.announceNow();
    for (const delay of announceRepeatsMs) {
      const timer = setTimeout(() => {
        this.announceTimers.delete(timer);
        this.announceNow();
      }, delay);
      this.announceTimers.add(timer);
    }
  }

  private announceNow(): void {
    try {
      this.native.announce();
    } catch (err) {
      // The write that promoted the node has been applied; a failed announcement is reported, not undone.
      this.counters.noteError(`gratuitous ARP failed: ${(err as Error).message}`);
    }
  }

  private cancelAnnouncements(): void {
    for (const timer of this.announceTimers) clearTimeout(timer);
    this.announceTimers.clear();
  }
}
