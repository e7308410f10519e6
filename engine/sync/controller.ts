// The DPDK engine's side of session sync: after every apply the data plane accepted, it starts,
// reconfigures or stops the bridge to match the `sync` settings, and when the node starts
// forwarding (promotion, or sync starting as active or multi-active) it announces the VIPs and
// local addresses with gratuitous ARP at once and twice more, so one lost frame cannot leave
// the network sending to a dead node. Multi-active, it passes on the local addresses its
// peers own (the data plane must carry their sessions' replies).

import type { NativeConfig, NativeEngine, NativeSyncCounters } from '../dataplane/native.js';
import { SyncBridge } from './bridge.js';
import { forwards, type PoolAddresses, type Portability } from './peers.js';

export type { PoolAddresses } from './peers.js';
import { sameConnection, type SyncSettings } from './settings.js';
import { SyncCounters, type SyncRole, type SyncState, type SyncStateChange, type SyncStatus } from './stats.js';
import { clusterFingerprint, portabilityFingerprint } from './wire.js';

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
  private reported: Omit<SyncStateChange, 'cause'> = { state: 'disabled' };
  private stateListener: ((change: SyncStateChange) => void) | undefined;

  constructor(
    private readonly native: SyncNative,
    private readonly workers: number,
    /** The local addresses peers own changed (all of them, by pool; {} when sync stops). */
    private readonly peerAddressesChanged: (addresses: PoolAddresses) => void = () => undefined,
  ) {
    this.portability = { workers, fingerprint: portabilityFingerprint(workers, []) };
  }

  /** Follows `settings` once the data plane runs a configuration with these pools and longest timeout. */
  follow(settings: SyncSettings | undefined, pools: NativeConfig['pools'], maxTimeoutSeconds: number): void {
    this.portability = portabilityOf(this.workers, pools, settings?.enabled === true && settings.role === 'multi-active');
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
    this.bridge?.portabilityChanged();
    if (forwards(settings.role) && !(wasRole && forwards(wasRole))) this.announce();
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

  /** Tells the listener once per change of state, role or cluster readiness. */
  private stateChanged(cause: string): void {
    const state = this.bridge?.state ?? this.bridgelessState();
    const role = this.bridge ? this.settings?.role : undefined;
    const clusterReady = role === 'multi-active' ? this.clusterReady() : undefined;
    const { reported } = this;
    if (state === reported.state && role === reported.role && clusterReady === reported.clusterReady) return;
    this.reported = { state, ...(role ? { role } : {}), ...(clusterReady !== undefined ? { clusterReady } : {}) };
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
        peerAddressesChanged: this.peerAddressesChanged,
      });
      this.started = true;
    } catch (err) {
      // The data plane already runs the write that brought these settings; it is not undone for the bridge.
      this.counters.noteError(`sync did not start: ${(err as Error).message}`);
    }
  }

  private stopBridge(): void {
    if (!this.bridge) return;
    this.bridge.close();
    this.bridge = undefined;
    this.settings = undefined;
    this.peerAddressesChanged({});
  }

  /** Multi-active: whether this node holds the cluster's sessions; true in any other role. */
  clusterReady(): boolean {
    return this.settings?.role !== 'multi-active' || this.bridge?.clusterReady === true;
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

/** What peers compare: multi-active nodes compare pool names and ranges and tell their own addresses. */
function portabilityOf(workers: number, pools: NativeConfig['pools'], cluster: boolean): Portability {
  if (!cluster) return { workers, fingerprint: portabilityFingerprint(workers, pools) };
  const addresses = Object.fromEntries(pools.map((p) => [p.name, p.addresses]));
  return { workers, fingerprint: clusterFingerprint(workers, pools), addresses };
}
