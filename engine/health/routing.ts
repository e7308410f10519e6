// Policy routing that makes every probe leave through its own NIC's exception interface.
// Probes bind their source to the NIC's probe address of their family; for each NIC with an
// exception interface and each of its probe addresses, one rule sends traffic from that address
// to a table of its own whose routes (the NIC's networks, routes and gateway of that family) all
// point at that interface. Without it, two
// NICs that both reach a server (two gateways, say) would send each other's probes out of the
// same interface, and a cut line on one would go unnoticed.
//
// Done with `ip` from iproute2, the appliance's own namespace: a handful of commands when a
// NIC comes or goes, not worth a netlink client. Commands run one at a time, in order.

import { execFile } from 'node:child_process';

export interface ProbePath {
  nic: string;
  family: 4 | 6;
  /** The kernel side of the NIC (its net_tap interface). */
  tap: string;
  /** The NIC's probe address of `family`, without prefix length. */
  source: string;
  networks: string[];
  routes: { prefix: string; via: string }[];
  gateway: string | undefined;
}

export type RunIp = (args: string[]) => Promise<void>;

/** Tables used are `firstTable` upwards, one per NIC and family; the rules share one priority. */
const firstTable = 4400;
const rulePriority = '100';

const runIp: RunIp = (args) =>
  new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 5000 }, (err, _stdout, stderr) => (err ? reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve()));
  });

function fingerprint(path: ProbePath): string {
  return JSON.stringify(path);
}

const keyOf = (path: ProbePath) => `${path.nic}/${path.family}`;

interface Installed {
  path: ProbePath;
  table: number;
}

export class ProbeRouting {
  private readonly installed = new Map<string, Installed>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly onError: (err: Error) => void,
    private readonly ip: RunIp = runIp,
  ) {}

  /** Makes the installed rules those of `paths`; resolves once the commands have run. */
  sync(paths: ProbePath[]): Promise<void> {
    const wanted = new Map(paths.map((p) => [keyOf(p), p]));
    for (const [key, installed] of this.installed) {
      const next = wanted.get(key);
      if (!next) this.uninstall(key, installed);
      else if (fingerprint(next) !== fingerprint(installed.path)) this.install(next, installed);
      wanted.delete(key);
    }
    for (const path of wanted.values()) this.install(path, undefined);
    return this.queue;
  }

  close(): Promise<void> {
    for (const [key, installed] of this.installed) this.uninstall(key, installed);
    return this.queue;
  }

  private freeTable(): number {
    const used = new Set([...this.installed.values()].map((i) => i.table));
    let table = firstTable;
    while (used.has(table)) table++;
    return table;
  }

  /**
   * A changed NIC gets a new table and rule before the previous ones go, so its probes never
   * fall through to the main table (and out of another NIC's tap) in between.
   */
  private install(path: ProbePath, previous: Installed | undefined): void {
    const table = this.freeTable();
    this.installed.set(keyOf(path), { path, table });
    const t = String(table);
    const ip = this.ipOf(path.family);
    this.run(async () => {
      await ip(['route', 'flush', 'table', t]).catch(() => undefined);
      if (!previous) await this.removeRulesFrom(path);
      for (const network of path.networks) await ip(['route', 'replace', network, 'dev', path.tap, 'src', path.source, 'table', t]);
      for (const route of path.routes) await ip(['route', 'replace', route.prefix, 'via', route.via, 'dev', path.tap, 'onlink', 'table', t]);
      if (path.gateway) await ip(['route', 'replace', 'default', 'via', path.gateway, 'dev', path.tap, 'onlink', 'table', t]);
      await ip(['rule', 'add', 'pref', rulePriority, 'from', path.source, 'lookup', t]);
      if (previous) await this.remove(previous);
    });
  }

  private uninstall(key: string, installed: Installed): void {
    this.installed.delete(key);
    this.run(() => this.remove(installed));
  }

  private async remove({ path, table }: Installed): Promise<void> {
    const ip = this.ipOf(path.family);
    await ip(['rule', 'del', 'pref', rulePriority, 'from', path.source, 'lookup', String(table)]).catch(() => undefined);
    await ip(['route', 'flush', 'table', String(table)]).catch(() => undefined);
  }

  /** Rules a killed run left for this address, before the first of this run is added. */
  private async removeRulesFrom({ source, family }: ProbePath): Promise<void> {
    const ip = this.ipOf(family);
    for (;;) {
      const removed = await ip(['rule', 'del', 'pref', rulePriority, 'from', source]).then(() => true, () => false);
      if (!removed) return;
    }
  }

  /** `ip` for one family: IPv6 rules and routes live apart from IPv4's (`ip -6`). */
  private ipOf(family: 4 | 6): RunIp {
    return family === 6 ? (args) => this.ip(['-6', ...args]) : this.ip;
  }

  private run(step: () => Promise<void>): void {
    this.queue = this.queue.then(step).catch((err: Error) => this.onError(err));
  }
}
