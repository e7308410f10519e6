// The contract between the control plane and a data plane. The reconciler is the only
// caller of apply(); routes read sessions and status through it and never reach the addon.

import type { Commit, ConfigReader } from '../store/store.js';

export type EngineMode = 'dpdk' | 'off';

export interface Endpoint {
  address: string;
  port: number;
}

export interface Session {
  protocol: 'tcp' | 'udp';
  state: string;
  client: Endpoint;
  virtual: Endpoint;
  local: Endpoint;
  realServer: Endpoint;
  virtualService: string;
  realServerName: string;
  worker: number;
  expiresInMs: number;
}

export interface SessionQuery {
  virtualService?: string;
  realServer?: string;
  clientAddress?: string;
  protocol?: 'tcp' | 'udp';
  cursor?: string;
  limit: number;
}

export interface SessionPage {
  items: Session[];
  nextCursor?: string;
}

/** Raised by calls that need a running data plane when there is none. */
export class EngineUnavailable extends Error {}

export interface Engine {
  readonly mode: EngineMode;
  /** Applies one committed change set; `config` reads the desired state at that generation. Throws if refused. */
  apply(commit: Commit, config: ConfigReader): void;
  sessions(query: SessionQuery): SessionPage;
  /** Ends live sessions, all or those of one virtual service. */
  flushSessions(virtualService?: string): void;
  close(): Promise<void>;
}
