// The engine's desired configuration follows the stored `sync` settings: the data plane is
// told whether to sync and whether it is a backup.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DesiredConfig } from '../../engine/dataplane/desired-config.js';
import { openDb } from '../../store/db.js';
import { Store } from '../../store/store.js';

const sync = { enabled: true, redisUrl: 'unix:///run/redis.sock', redisPassword: 'pw', nodeId: 'lb1', role: 'backup', replay: { enabled: true, streamMaxLength: 5000 } };

test('sync settings become the native sync config and the bridge settings', () => {
  const store = new Store(openDb(':memory:'));
  try {
    const desired = new DesiredConfig();
    desired.load(store);
    assert.deepEqual(desired.toNative(1).sync, { enabled: false, backup: false });
    assert.equal(desired.syncSettings(), undefined);

    store.write((tx) => tx.put('settings', '', 'sync', sync));
    desired.load(store);
    assert.deepEqual(desired.toNative(2).sync, { enabled: true, backup: true });
    assert.deepEqual(desired.syncSettings(), { ...sync, role: 'backup' });

    store.write((tx) => tx.put('settings', '', 'sync', { ...sync, role: 'active' }));
    const touched = desired.update([{ kind: 'settings', scope: '', name: 'sync', op: 'put' }], store);
    assert.equal(touched.structural, true, 'the sync settings need a whole apply');
    assert.deepEqual(desired.toNative(3).sync, { enabled: true, backup: false });
    desired.restore(touched.undo);
    assert.deepEqual(desired.toNative(3).sync, { enabled: true, backup: true });

    store.write((tx) => tx.put('settings', '', 'sync', { ...sync, enabled: false }));
    desired.update([{ kind: 'settings', scope: '', name: 'sync', op: 'put' }], store);
    assert.deepEqual(desired.toNative(4).sync, { enabled: false, backup: false });

    // Other settings objects are not the engine's.
    store.write((tx) => tx.put('settings', '', 'other', { enabled: true }));
    assert.deepEqual(desired.update([{ kind: 'settings', scope: '', name: 'other', op: 'put' }], store), { undo: new Map(), structural: false, services: new Set() });
  } finally {
    store.close();
  }
});
