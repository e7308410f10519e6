// The addon's surface (native/binding), typed. Addresses cross as unsigned 32-bit integers;
// only the DPDK engine (dpdk-engine.ts) loads and calls it.

import { createRequire } from 'node:module';
import { projectFile } from '../lib/project-files.js';

export type NativePrefix = [address: number, length: number];

export interface NativeNic {
  name: string;
  device: string;
  networks: NativePrefix[];
  gateway: number | null;
  probe: NativePrefix | null;
  mtu: number;
}

export interface NativeRealServer {
  name: string;
  address: number;
  port: number;
  weight: number;
  enabled: boolean;
}

export interface NativeService {
  name: string;
  address: number;
  port: number;
  protocol: 'tcp' | 'udp';
  nic: string;
  pool: string;
  scheduler: string;
  clientAddress: string;
  timeouts: Record<string, number>;
  sync: boolean;
  enabled: boolean;
  realServers: NativeRealServer[];
}

export interface NativeConfig {
  generation: number;
  nics: NativeNic[];
  routes: { name: string; prefix: NativePrefix; via: number; nic: string }[];
  pools: { name: string; nic: string; addresses: number[]; portMin: number; portMax: number }[];
  services: NativeService[];
}

export interface NativeError {
  field: string;
  message: string;
}

export interface Traffic {
  newSessions: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface NativeNicStatus {
  name: string;
  port: number;
  tap: string;
  linkUp: boolean;
  speedMbps: number;
  counters: {
    rxPackets: number;
    rxBytes: number;
    txPackets: number;
    txBytes: number;
    toKernel: number;
    fromKernel: number;
    arpIn: number;
    arpOut: number;
    icmpEcho: number;
    drops: Record<string, number>;
  };
  device: { rxPackets: number; txPackets: number; rxMissed: number; rxErrors: number; txErrors: number };
}

export interface NativeStatus {
  generation: number;
  sessionsLive: number;
  sessionsExpired: number;
  sessionsReset: number;
  /** TOA options and PROXY headers added (a header in a segment of its own counted apart), and failures. Always set by the addon. */
  clientAddress?: { toaAdded: number; toaFailed: number; proxyHeaders: number; proxyOwnSegments: number; proxyFailed: number };
  nics: NativeNicStatus[];
  services: (Traffic & {
    name: string;
    realServers: (Traffic & { name: string; activeSessions: number; inactiveSessions: number })[];
  })[];
  workers: {
    id: number;
    lcore: number;
    sessions: number;
    redirectedOut: number;
    redirectedIn: number;
    loops: number;
    busyLoops: number;
  }[];
}

export interface NativeSession {
  protocol: number;
  state: string;
  clientAddress: number;
  clientPort: number;
  virtualAddress: number;
  virtualPort: number;
  localAddress: number;
  localPort: number;
  serverAddress: number;
  serverPort: number;
  service: string;
  server: string;
  worker: number;
  expiresInMs: number;
}

export interface NativeSessionFilter {
  service?: string;
  server?: string;
  clientAddress?: number;
  protocol?: number;
}

export interface NativeEngineOptions {
  workers: number;
  idle: 'adaptive' | 'busy';
  sessionsPerWorker: number;
  instance: string;
}

export interface NativeEngine {
  check(config: NativeConfig): NativeError[];
  apply(config: NativeConfig): NativeError[];
  status(): NativeStatus;
  sessions(filter: NativeSessionFilter, skip: number, limit: number): { items: NativeSession[]; total: number };
  flushSessions(service?: string): number;
  announce(): void;
  close(): void;
}

export const addonPath = projectFile('native/binding/build/Release/l4lb_native.node');

/** Loads the addon; throws with the path when it was not built. */
export function loadNative(): { Engine: new (options: NativeEngineOptions) => NativeEngine } {
  const require = createRequire(import.meta.url);
  return require(addonPath) as { Engine: new (options: NativeEngineOptions) => NativeEngine };
}
