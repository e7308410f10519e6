// The stored `sync` settings object as the engine uses it: what the data plane is told
// (enabled, backup) and what the bridge needs (Redis, identity, role, replay).

import type { SpecOf } from '../../store/kinds.js';
import type { NativeSyncConfig } from '../dataplane/native.js';
import type { BridgeSettings } from './bridge.js';

/** How the API checks a Redis URL before storing it (the sync room's door for settings). */
export { redisUrlProblem } from './redis-url.js';

export interface SyncSettings extends BridgeSettings {
  enabled: boolean;
}

/** The settings object's name in the store (kind `settings`). */
export const syncSettingsName = 'sync';

const defaultStreamMaxLength = 100_000;

/** The spec as stored (the API filled its defaults), with the same defaults for safety. */
export function toSyncSettings(spec: SpecOf<'settings'>): SyncSettings {
  return {
    enabled: spec.enabled && typeof spec.redisUrl === 'string',
    redisUrl: spec.redisUrl ?? '',
    ...(spec.redisPassword ? { redisPassword: spec.redisPassword } : {}),
    nodeId: spec.nodeId ?? 'node',
    role: spec.role,
    replay: { enabled: spec.replay?.enabled ?? true, streamMaxLength: spec.replay?.streamMaxLength ?? defaultStreamMaxLength },
  };
}

export function nativeSyncConfig(settings: SyncSettings | undefined): NativeSyncConfig {
  if (!settings?.enabled) return { enabled: false, backup: false };
  return { enabled: true, backup: settings.role === 'backup' };
}

/** Whether a running bridge can take `next` by a role change alone (no new connections). */
export function sameConnection(a: SyncSettings, b: SyncSettings): boolean {
  return (
    a.redisUrl === b.redisUrl &&
    a.redisPassword === b.redisPassword &&
    a.nodeId === b.nodeId &&
    a.replay.enabled === b.replay.enabled &&
    a.replay.streamMaxLength === b.replay.streamMaxLength
  );
}
