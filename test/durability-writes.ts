// The write stream of the durability test. Each lane owns a small, valid configuration of its
// own (a NIC, a local address pool, a virtual service on them, a few real servers) and writes
// to it one request at a time, so it always knows what the server holds: every acknowledged
// write (a 2xx read to the end) replaces its expectation, and the one request in flight when
// the appliance dies may or may not have landed. Lanes run side by side, so several writes
// are in flight at a kill.

export type Rng = () => number;

/** mulberry32: a seeded generator, so a failing cycle can be replayed. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const between = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));

export type Spec = Record<string, unknown>;

/** What the server holds for one object: its spec (as rendered, less name/version/status) and version. */
export interface Held {
  spec: Spec;
  resourceVersion: number;
}

/** Objects by key: `nics/nic-0`, `virtual-services/vs-0`, `real-servers/vs-0/rs-0-1`. */
export type Holding = Map<string, Held>;

export interface Write {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** The object the write is about. */
  key: string;
  body?: Spec;
}

const api = '/api/v1';

export class Lane {
  readonly nic: string;
  readonly pool: string;
  readonly service: string;
  readonly realServers: string[];
  /** Every key this lane may write. */
  readonly keys: string[];

  constructor(readonly index: number) {
    this.nic = `nic-${index}`;
    this.pool = `pool-${index}`;
    this.service = `vs-${index}`;
    this.realServers = [0, 1, 2, 3].map((j) => `rs-${index}-${j}`);
    this.keys = [`nics/${this.nic}`, `local-address-pools/${this.pool}`, `virtual-services/${this.service}`, ...this.realServers.map((rs) => `real-servers/${this.service}/${rs}`)];
  }

  private nicSpec(rng: Rng): Spec {
    return { device: `net_af_packet${this.index},iface=dp${this.index}`, networks: [`10.${this.index}.0.0/16`], mtu: between(rng, 576, 9216) };
  }

  private poolSpec(rng: Rng): Spec {
    const count = between(rng, 1, 4);
    const min = between(rng, 1024, 30000);
    return {
      nic: this.nic,
      addresses: Array.from({ length: count }, (_, k) => `10.${this.index}.0.${100 + k}`),
      portRange: { min, max: between(rng, min, 65535) },
    };
  }

  private serviceSpec(rng: Rng): Spec {
    return {
      address: `10.${this.index}.1.1`,
      port: between(rng, 1, 65535),
      protocol: 'tcp',
      nic: this.nic,
      localAddressPool: this.pool,
      scheduler: pick(rng, ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh']),
    };
  }

  private realServerSpec(rng: Rng, j: number): Spec {
    return { address: `10.${this.index}.2.${j + 1}`, port: between(rng, 1, 65535), weight: between(rng, 0, 100), enabled: rng() < 0.8 };
  }

  /** One valid write for what `held` says the server holds; creation is favoured so the configuration grows. */
  next(rng: Rng, held: Holding): Write {
    const nicKey = `nics/${this.nic}`;
    const poolKey = `local-address-pools/${this.pool}`;
    const serviceKey = `virtual-services/${this.service}`;
    const nics = `${api}/nics`;
    const pools = `${api}/local-address-pools`;
    const services = `${api}/virtual-services`;
    if (!held.has(nicKey)) {
      return rng() < 0.5
        ? { method: 'POST', url: nics, key: nicKey, body: { name: this.nic, ...this.nicSpec(rng) } }
        : { method: 'PUT', url: `${nics}/${this.nic}`, key: nicKey, body: this.nicSpec(rng) };
    }
    if (!held.has(poolKey)) {
      return rng() < 0.15
        ? { method: 'DELETE', url: `${nics}/${this.nic}`, key: nicKey }
        : { method: 'PUT', url: `${pools}/${this.pool}`, key: poolKey, body: this.poolSpec(rng) };
    }
    if (!held.has(serviceKey)) {
      return rng() < 0.15
        ? { method: 'DELETE', url: `${pools}/${this.pool}`, key: poolKey }
        : { method: 'POST', url: services, key: serviceKey, body: { name: this.service, ...this.serviceSpec(rng) } };
    }
    const j = between(rng, 0, this.realServers.length - 1);
    const rs = this.realServers[j]!;
    const rsKey = `real-servers/${this.service}/${rs}`;
    const rsUrl = `${services}/${this.service}/real-servers`;
    const roll = rng();
    if (!held.has(rsKey)) return { method: 'POST', url: rsUrl, key: rsKey, body: { name: rs, ...this.realServerSpec(rng, j) } };
    if (roll < 0.3) return { method: 'PATCH', url: `${rsUrl}/${rs}`, key: rsKey, body: { weight: between(rng, 0, 65535) } };
    if (roll < 0.45) return { method: 'PUT', url: `${rsUrl}/${rs}`, key: rsKey, body: this.realServerSpec(rng, j) };
    if (roll < 0.6) return { method: 'DELETE', url: `${rsUrl}/${rs}`, key: rsKey };
    if (roll < 0.7) return { method: 'PATCH', url: `${services}/${this.service}`, key: serviceKey, body: { scheduler: pick(rng, ['rr', 'wrr', 'mh']) } };
    if (roll < 0.78) return { method: 'PUT', url: `${services}/${this.service}`, key: serviceKey, body: this.serviceSpec(rng) };
    if (roll < 0.86) return { method: 'PATCH', url: `${nics}/${this.nic}`, key: nicKey, body: { mtu: between(rng, 576, 9216) } };
    if (roll < 0.92) return { method: 'PATCH', url: `${pools}/${this.pool}`, key: poolKey, body: { portRange: { min: 2000, max: between(rng, 2000, 65535) } } };
    // Deleting the service takes its real servers with it; the pool and NIC may follow (above).
    return { method: 'DELETE', url: `${services}/${this.service}`, key: serviceKey };
  }
}

/** The keys a write removes besides its own: a service's real servers go with it. */
export function cascade(write: Write, held: Holding): string[] {
  if (write.method !== 'DELETE' || !write.key.startsWith('virtual-services/')) return [];
  const prefix = `real-servers/${write.key.slice('virtual-services/'.length)}/`;
  return [...held.keys()].filter((k) => k.startsWith(prefix));
}

/** The holding after an acknowledged write: `shown` is the object the server answered with. */
export function acknowledge(held: Holding, write: Write, shown: Held | undefined): void {
  for (const key of cascade(write, held)) held.delete(key);
  if (shown) held.set(write.key, shown);
  else held.delete(write.key);
}

/** An object as the API renders it → what the durability check compares. */
export function heldOf(rendered: Spec): Held {
  const { name: _name, resourceVersion, status: _status, ...spec } = rendered;
  return { spec, resourceVersion: resourceVersion as number };
}
