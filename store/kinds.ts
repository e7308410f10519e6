// What the store keeps, kind by kind: the table, the parent (scope) column for nested
// objects, and the columns copied out of the JSON spec for references and uniqueness.

import type { components } from '../lib/openapi-types.js';
import { hostPort } from './ip.js';

export type KindName =
  | 'nics'
  | 'routes'
  | 'local-address-pools'
  | 'health-checks'
  | 'virtual-services'
  | 'real-servers'
  | 'settings';

export type Spec = Record<string, unknown>;

type Schemas = components['schemas'];
/** Fields the server owns: never part of a stored spec. */
type ServerFields = 'name' | 'resourceVersion' | 'status';
/** The contract's schema of each kind (the `settings` kind holds the `sync` object). */
interface SchemaOf {
  nics: Schemas['Nic'];
  routes: Schemas['Route'];
  'local-address-pools': Schemas['LocalAddressPool'];
  'health-checks': Schemas['HealthCheck'];
  'virtual-services': Schemas['VirtualService'];
  'real-servers': Schemas['RealServer'];
  settings: Schemas['Sync'];
}
/**
 * A stored spec of kind K, typed from openapi.yaml (lib/openapi-types.ts, generated): the API
 * validated it against that schema and filled its defaults before it was stored.
 */
export type SpecOf<K extends KindName> = Omit<SchemaOf[K], ServerFields> & (K extends keyof Completed ? Completed[K] : unknown);
/** Fields a request may leave out that the API fills before storing (api/real-servers.ts). */
interface Completed {
  'real-servers': { port: number };
}
type Column = string | number | null;

/** A set of columns no two objects may share (within the scope for nested kinds). */
export interface UniqueKey {
  columns: string[];
  /** Body field the error points at. */
  field: string;
  describe(spec: Spec): string;
}

export interface Kind {
  name: KindName;
  table: string;
  /** Column naming the parent object; nested kinds are listed and named within it. */
  scopeColumn?: string;
  /** The kind of that parent: deleting a parent deletes its children first. */
  parent?: KindName;
  columns(spec: Spec): Record<string, Column>;
  unique: UniqueKey[];
}

const none = (): Record<string, Column> => ({});

export const kinds: Record<KindName, Kind> = {
  nics: {
    name: 'nics',
    table: 'nics',
    columns: (s) => ({ device: s.device as string }),
    unique: [{ columns: ['device'], field: '/device', describe: (s) => `device '${s.device}'` }],
  },
  routes: {
    name: 'routes',
    table: 'routes',
    columns: (s) => ({ nic: s.nic as string, prefix: s.prefix as string }),
    unique: [{ columns: ['prefix'], field: '/prefix', describe: (s) => `prefix ${s.prefix}` }],
  },
  'local-address-pools': {
    name: 'local-address-pools',
    table: 'local_address_pools',
    columns: (s) => ({ nic: s.nic as string }),
    unique: [],
  },
  'health-checks': { name: 'health-checks', table: 'health_checks', columns: none, unique: [] },
  'virtual-services': {
    name: 'virtual-services',
    table: 'virtual_services',
    columns: (s) => ({
      nic: s.nic as string,
      local_address_pool: s.localAddressPool as string,
      health_check: (s.healthCheck as string | undefined) ?? null,
      address: s.address as string,
      port: s.port as number,
      protocol: s.protocol as string,
    }),
    unique: [
      {
        columns: ['address', 'port', 'protocol'],
        field: '/address',
        describe: (s) => `${hostPort(s.address as string, s.port)}/${s.protocol}`,
      },
    ],
  },
  'real-servers': {
    name: 'real-servers',
    table: 'real_servers',
    scopeColumn: 'virtual_service',
    parent: 'virtual-services',
    columns: (s) => ({ address: s.address as string, port: s.port as number }),
    unique: [{ columns: ['address', 'port'], field: '/address', describe: (s) => hostPort(s.address as string, s.port) }],
  },
  settings: { name: 'settings', table: 'settings', columns: none, unique: [] },
};
