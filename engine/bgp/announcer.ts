// The engine's side of BGP: it keeps the speaker following the stored `bgp` settings and the
// NICs' exception interfaces, and tells it what to announce (announcements.ts) after every
// change that can move it — an apply, a health transition — and twice a second besides, for
// what has no event of its own here (a multi-active node becoming cluster-ready, a tap
// appearing after its NIC opened). A refresh that changes nothing renders the same bird.conf
// and costs no reconfigure (the speaker compares texts).

import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { announcedPrefixes } from './announcements.js';
import type { NicPath } from './bird-config.js';
import { BgpSpeaker, type BgpLog, type BgpStatus } from './speaker.js';
import type { BgpSettings } from './settings.js';

/** What the room's users need of its other files (this file is its door; settings.ts the API's). */
export type { NicPath } from './bird-config.js';
export type { BgpStatus } from './speaker.js';

export const refreshMs = 500;
/** Announcers made by this process: each gets its own run directory (tests run several engines). */
let made = 0;

export interface AnnouncerInputs {
  /** The data plane runs the stored configuration and, multi-active, holds the cluster's sessions. */
  ready(): boolean;
  vips(): { address: string; up: boolean }[];
  localAddresses(): string[];
  /** Each NIC with a probe address and a tap: its kernel interface and its probe addresses by family. */
  paths(): Map<string, NicPath>;
}

/** What a node without a speaker (BGP never enabled, or no data plane) reports. */
export const noSpeaker: BgpStatus = { speakerRunning: false, version: null, draining: false, neighbors: [], announced: [], lastError: null };

export class BgpAnnouncer {
  private readonly runDir = join(tmpdir(), `l4lb-bgp-${process.pid}-${made++}`);
  /** Made when BGP is first enabled: a node without BGP has no run directory to leave behind. */
  private speaker: BgpSpeaker | undefined;
  private settings: BgpSettings | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inputs: AnnouncerInputs,
    private readonly log?: BgpLog,
  ) {}

  /** Follows the stored settings (undefined: none stored). */
  follow(settings: BgpSettings | undefined): void {
    this.settings = settings?.enabled ? settings : undefined;
    if (this.settings) this.speaker ??= new BgpSpeaker({ runDir: this.runDir, ...(this.log ? { log: this.log } : {}) });
    this.speaker?.follow(this.settings, this.inputs.paths());
    if (this.settings && !this.timer) this.timer = setInterval(() => this.refresh(), refreshMs);
    if (!this.settings) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.refresh();
  }

  /** Recomputes what to announce now. */
  refresh(): void {
    const { settings, speaker } = this;
    if (!settings || !speaker) return;
    speaker.follow(settings, this.inputs.paths());
    speaker.announce(
      announcedPrefixes({
        ready: this.inputs.ready(),
        vips: this.inputs.vips(),
        localAddresses: this.inputs.localAddresses(),
        coveringPrefixes: settings.coveringPrefixes,
      }),
    );
  }

  status(): BgpStatus {
    return this.speaker?.status() ?? noSpeaker;
  }

  /** Withdraws everything (bird ends its sessions with a Cease) before the data plane stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (!this.speaker) return;
    await this.speaker.close();
    rmSync(this.runDir, { recursive: true, force: true });
  }
}
