// The data plane's status as the API renders it. A read of the whole status costs what the
// whole configuration has (10k real servers: tens of ms through N-API), so it is read at most
// every `ttlMs` for lists, metrics and NICs, while one service's status (what a write's answer
// or a GET of one object shows) is read for that service alone and kept as long.

import type { NativeStatus } from './native.js';

export type ServiceStatus = NativeStatus['services'][number];
export type ServerStatus = ServiceStatus['realServers'][number];

interface Whole {
  at: number;
  status: NativeStatus;
  nics: Map<string, NativeStatus['nics'][number]>;
}

interface OneService {
  at: number;
  service: ServiceStatus | undefined;
  servers: Map<string, ServerStatus>;
}

export class StatusCache {
  private whole: Whole | undefined;
  private readonly services = new Map<string, OneService>();

  constructor(
    /** Reads the status now; with a service name, that service alone (and no NICs). */
    private readonly read: (service?: string) => NativeStatus,
    private readonly ttlMs = 100,
  ) {}

  all(): NativeStatus {
    return this.readWhole().status;
  }

  nic(name: string): NativeStatus['nics'][number] | undefined {
    return this.readWhole().nics.get(name);
  }

  service(name: string): ServiceStatus | undefined {
    return this.readService(name).service;
  }

  server(service: string, name: string): ServerStatus | undefined {
    return this.readService(service).servers.get(name);
  }

  /** After an apply: the status of these services (of everything, without a list) is stale. */
  forget(services?: Iterable<string>): void {
    if (!services) {
      this.whole = undefined;
      this.services.clear();
      return;
    }
    for (const name of services) this.services.delete(name);
    if (this.whole) this.whole.at = -Infinity;
  }

  private readWhole(): Whole {
    const now = performance.now();
    if (!this.whole || now - this.whole.at > this.ttlMs) {
      const status = this.read();
      this.whole = { at: now, status, nics: new Map(status.nics.map((n) => [n.name, n])) };
    }
    return this.whole;
  }

  private readService(name: string): OneService {
    const now = performance.now();
    let entry = this.services.get(name);
    if (!entry || now - entry.at > this.ttlMs) {
      const service = this.read(name).services[0];
      entry = { at: now, service, servers: new Map(service?.realServers.map((r) => [r.name, r])) };
      this.services.set(name, entry);
    }
    return entry;
  }
}
