// The engine's side of sync: the bridge follows the settings after each accepted apply, and
// becoming active announces the VIPs at once and twice more. The data plane is a fake; the
// Redis URL points nowhere (the bridge connects in the background and never holds anything up).

import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NativeConfig } from '../../engine/dataplane/native.js';
import { SyncController } from '../../engine/sync/controller.js';
import type { SyncSettings } from '../../engine/sync/settings.js';
import { FakeDataPlane } from './fake-data-plane.js';
import { waitFor } from './wait.js';

class AnnouncingPlane extends FakeDataPlane {
  announcements = 0;
  announce(): void {
    this.announcements++;
  }
}

const settings = (role: 'active' | 'backup', enabled = true): SyncSettings => ({
  enabled,
  redisUrl: 'unix:///nonexistent/l4lb-test/redis.sock',
  nodeId: 'lb1',
  role,
  replay: { enabled: false, streamMaxLength: 1000 },
});

const pools: NativeConfig['pools'] = [{ name: 'lips', nic: 'server', addresses: ['10.0.2.100'], portMin: 1024, portMax: 65535 }];

const controllers: SyncController[] = [];
afterEach(() => {
  for (const c of controllers.splice(0)) c.close();
});

function controller(plane: AnnouncingPlane): SyncController {
  const c = new SyncController(plane, 2);
  controllers.push(c);
  return c;
}

test('a promotion announces at once, within the call, and twice more', async () => {
  const plane = new AnnouncingPlane();
  const c = controller(plane);
  c.follow(settings('backup'), pools, 0);
  assert.equal(c.status(undefined).role, 'backup');
  assert.notEqual(c.status(undefined).state, 'disabled');
  assert.equal(plane.announcements, 0);

  c.follow(settings('active'), pools, 0);
  assert.equal(plane.announcements, 1);
  assert.equal(c.status(undefined).role, 'active');
  await waitFor('the repeated announcements', () => plane.announcements === 3);

  // Other applies while active announce nothing more; a demotion cancels pending repeats.
  c.follow(settings('active'), pools, 0);
  assert.equal(plane.announcements, 3);
  c.follow(settings('active'), pools, 0);
  c.follow(settings('backup'), pools, 0);
  c.follow(settings('active', false), pools, 0);
  assert.equal(c.status(undefined).state, 'disabled');
});

test('sync starting as active announces; stopping it closes the bridge', async () => {
  const plane = new AnnouncingPlane();
  const c = controller(plane);
  c.follow(undefined, pools, 0);
  assert.equal(c.status(undefined).state, 'disabled');
  assert.equal(plane.announcements, 0);
  c.follow(settings('active'), pools, 0);
  assert.equal(plane.announcements, 1);
  assert.equal(c.status(undefined).nodeId, 'lb1');
  // No Redis behind the URL: the bridge says so, and the data plane is left alone.
  await waitFor('degraded', () => c.status(undefined).state === 'degraded');
  assert.match(c.status(undefined).lastError!.message, /ENOENT|connect/);
  c.follow({ ...settings('active'), nodeId: 'lb2' }, pools, 0);
  assert.equal(c.status(undefined).nodeId, 'lb2');
  assert.equal(plane.announcements, 1);
  c.follow(settings('active', false), pools, 0);
  assert.equal(c.status(undefined).state, 'disabled');
});

test('settings the bridge cannot start with leave the data plane as applied and say why', () => {
  const c = controller(new AnnouncingPlane());
  c.follow({ ...settings('active'), redisUrl: 'redis://h/x' }, pools, 0);
  assert.equal(c.status(undefined).state, 'degraded');
  assert.match(c.status(undefined).lastError!.message, /sync did not start: the Redis URL has database 'x'/);
});

test("the status carries the data plane's sync counters", () => {
  const c = controller(new AnnouncingPlane());
  const status = c.status({
    eventsQueued: 10,
    ringOverflows: 2,
    installed: 5,
    updated: 3,
    closed: 1,
    takenOver: 6,
    takenOverPackets: 60,
    peerSessions: 4,
    dropped: { expired: 7, unknown_service: 1 },
  });
  assert.deepEqual(status.records, {
    sent: 0,
    received: 0,
    applied: 0,
    installed: 5,
    updated: 3,
    closed: 1,
    peerSessions: 4,
    takenOver: 6,
    takenOverPackets: 60,
    ringOverflows: 2,
    dropped: { expired: 7, unknown_service: 1 },
  });
});

test('state and role changes are reported once each, with their cause', async () => {
  const c = controller(new AnnouncingPlane());
  const changes: string[] = [];
  c.onStateChange((change) => changes.push(`${change.state} ${change.role ?? '-'}: ${change.cause}`));
  c.follow(settings('backup'), pools, 0);
  c.follow(settings('backup'), pools, 0);
  c.follow(settings('active'), pools, 0);
  c.follow(settings('active', false), pools, 0);
  assert.deepEqual(changes, [
    'connecting backup: the sync settings made it backup',
    'connecting active: the sync settings made it active',
    'disabled -: the sync settings turned it off',
  ]);
});
