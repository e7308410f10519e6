// Where the cluster-wide objects live in etcd and how a value is written. Under PREFIX:
//   PREFIX/health-checks/NAME
//   PREFIX/virtual-services/NAME
//   PREFIX/real-servers/SERVICE/NAME
//   PREFIX/last-write          rewritten by every write: the revision writers compare against
// A value is JSON: {"spec": …, "createdAt": …, "updatedAt": …}; the object's resourceVersion
// is the key's etcd mod_revision, so it is the same on every node.

import type { KindName, Spec } from '../kinds.js';

export const clusterKinds = ['health-checks', 'virtual-services', 'real-servers'] as const;
export type ClusterKind = (typeof clusterKinds)[number];

export function isClusterKind(kind: KindName): kind is ClusterKind {
  return (clusterKinds as readonly string[]).includes(kind);
}

export interface ObjectId {
  kind: ClusterKind;
  scope: string;
  name: string;
}

export interface ClusterObject extends ObjectId {
  spec: Spec;
  createdAt: string;
  updatedAt: string;
  modRevision: number;
}

/** `/l4lb` and `/l4lb/` are the same prefix: keys are always PREFIX/… with one slash. */
export function normalizePrefix(prefix: string): string {
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

export function objectKey(prefix: string, id: ObjectId): string {
  return `${prefix}${id.kind}/${id.scope ? `${id.scope}/` : ''}${id.name}`;
}

export function lastWriteKey(prefix: string): string {
  return `${prefix}last-write`;
}

const namePattern = /^[A-Za-z0-9._~-]{1,128}$/;

/** The object a key names, or undefined for a key that is not one of ours. */
export function parseKey(prefix: string, key: string): ObjectId | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const [kind, ...rest] = key.slice(prefix.length).split('/');
  if (!(clusterKinds as readonly string[]).includes(kind)) return undefined;
  const scoped = kind === 'real-servers';
  if (rest.length !== (scoped ? 2 : 1) || !rest.every((part) => namePattern.test(part))) return undefined;
  return { kind: kind as ClusterKind, scope: scoped ? rest[0] : '', name: rest[rest.length - 1] };
}

export function encodeValue(object: Pick<ClusterObject, 'spec' | 'createdAt' | 'updatedAt'>): string {
  return JSON.stringify({ spec: object.spec, createdAt: object.createdAt, updatedAt: object.updatedAt });
}

/** A value as written by encodeValue, or why it is not one. The spec itself is checked by the caller. */
export function decodeValue(text: string): Pick<ClusterObject, 'spec' | 'createdAt' | 'updatedAt'> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || typeof v.spec !== 'object' || v.spec === null || Array.isArray(v.spec)) {
    return 'has no spec object';
  }
  if (typeof v.createdAt !== 'string' || typeof v.updatedAt !== 'string') return 'has no createdAt/updatedAt';
  return { spec: v.spec as Spec, createdAt: v.createdAt, updatedAt: v.updatedAt };
}
