// The configuration store on its own: migrations, persistence across a restart, generations,
// rollback of refused writes, and SQLite's deferred foreign keys as the last line of defence.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../lib/project-files.js';
import { openDb } from '../store/db.js';
import { ConfigError } from '../store/errors.js';
import { Store, WriteTx } from '../store/store.js';
import { json, seed, seedRequests, testApp } from './helpers.js';

const latestMigration = Math.max(...readdirSync(projectFile('migrations')).filter((f) => /^\d{3}-.*\.sql$/.test(f)).map((f) => Number(f.slice(0, 3))));
const nic = { device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/24'] };

describe('store', () => {
  test('migrations set PRAGMA user_version to the latest migration', () => {
    const db = openDb(':memory:');
    try {
      assert.ok(latestMigration >= 1);
      assert.equal(db.pragma('user_version', { simple: true }), latestMigration);
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    } finally {
      db.close();
    }
  });

  test('the database (it holds the Redis password) and a directory made for it are the owner\'s only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l4lb-store-'));
    try {
      const file = join(dir, 'new', 'l4lb.db');
      const db = openDb(file);
      db.close();
      assert.equal(statSync(join(dir, 'new')).mode & 0o777, 0o700);
      assert.equal(statSync(file).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the -wal and -shm files are the owner\'s only from the start; a directory others can read is warned about', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l4lb-store-'));
    const umask = process.umask(0o022);
    try {
      chmodSync(dir, 0o755);
      const warnings: string[] = [];
      const file = join(dir, 'l4lb.db');
      const db = openDb(file, (message) => warnings.push(message));
      try {
        for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
        assert.equal(process.umask(0o022), 0o022, 'the umask is restored');
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], /is readable by others \(mode 755\); chmod 700 it/);
      } finally {
        db.close();
      }
      chmodSync(dir, 0o700);
      const quiet: string[] = [];
      openDb(file, (message) => quiet.push(message)).close();
      assert.deepEqual(quiet, []);
    } finally {
      process.umask(umask);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('deleting a virtual service deletes its real servers as changes of the same commit', async () => {
    const t = await testApp();
    try {
      await seed(t);
      const changes = t.store.write((tx) => {
        tx.delete('virtual-services', '', 'web');
        return tx.changes;
      });
      assert.deepEqual(
        changes.map((c) => `${c.op} ${c.kind} ${c.scope}/${c.name}`),
        ['delete real-servers web/rs1', 'delete real-servers web/rs2', 'delete virtual-services /web'],
      );
      assert.equal(t.store.count('real-servers'), 0);
    } finally {
      await t.close();
    }
  });

  test('a file database reopened shows every object as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l4lb-store-'));
    const file = join(dir, 'l4lb.db');
    const urls = [...new Set(seedRequests.map(([url]) => url)), '/api/v1/sync'];
    try {
      const first = await testApp({ db: file });
      let before: Record<string, any>[];
      try {
        await seed(first);
        await first.request('PUT', '/api/v1/sync', { enabled: true, redisUrl: 'redis://10.0.0.5:6379', redisPassword: 'pw' });
        before = await Promise.all(urls.map(async (url) => json(await first.request('GET', url))));
      } finally {
        await first.close();
      }
      const second = await testApp({ db: file });
      try {
        assert.equal(second.store.generation(), seedRequests.length + 1);
        const after = await Promise.all(urls.map(async (url) => json(await second.request('GET', url))));
        assert.deepEqual(after, before);
        const rs2 = json(await second.request('GET', '/api/v1/virtual-services/web/real-servers/rs2'));
        assert.equal(rs2.weight, 2);
        assert.equal(rs2.resourceVersion, seedRequests.length);
        assert.equal(after.at(-1)!.status.redisPasswordSet, true);
      } finally {
        await second.close();
      }
      const db = openDb(file);
      assert.equal(db.pragma('user_version', { simple: true }), latestMigration);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the generation rises by one per committed write, never on a refused one', async () => {
    const t = await testApp();
    try {
      assert.equal(t.store.generation(), 0);
      assert.equal((await t.request('POST', '/api/v1/nics', { name: 'a', ...nic })).statusCode, 201);
      assert.equal(t.store.generation(), 1);
      assert.equal((await t.request('POST', '/api/v1/routes', { name: 'r', prefix: '10.50.0.0/16', via: '10.9.0.1', nic: 'ghost' })).statusCode, 422);
      assert.equal((await t.request('POST', '/api/v1/nics', { name: 'a', ...nic })).statusCode, 409);
      assert.equal((await t.request('DELETE', '/api/v1/nics/absent')).statusCode, 404);
      assert.equal(t.store.generation(), 1);

      // Several changes in one transaction are one generation, shared as their resourceVersion.
      const [b, c] = t.store.write((tx) => [
        tx.put('nics', '', 'b', { device: 'net_af_packet1,iface=dp1', networks: ['10.8.0.0/24'], mtu: 1500 }),
        tx.put('nics', '', 'c', { device: 'net_af_packet2,iface=dp2', networks: ['10.7.0.0/24'], mtu: 1500 }),
      ]);
      assert.equal(t.store.generation(), 2);
      assert.deepEqual([b.resourceVersion, c.resourceVersion], [2, 2]);

      // A refused write rolls back everything it did, the generation bump included.
      assert.throws(
        () => t.store.write((tx) => {
          tx.put('nics', '', 'd', { device: 'net_af_packet3,iface=dp3', networks: ['10.6.0.0/24'], mtu: 1500 });
          tx.put('routes', '', 'r', { prefix: '10.50.0.0/16', via: '10.6.0.1', nic: 'ghost' });
        }),
        (err: unknown) => err instanceof ConfigError && err.kind === 'invalid' && err.errors[0].field === '/nic',
      );
      assert.equal(t.store.generation(), 2);
      assert.equal(t.store.get('nics', '', 'd'), undefined);
      assert.equal(t.store.count('routes'), 0);
    } finally {
      await t.close();
    }
  });

  test('deferred foreign keys stop a dangling reference when the rules are bypassed', () => {
    const db = openDb(':memory:');
    try {
      const store = new Store(db);
      // WriteTx alone skips the whole-configuration checks that Store.write runs.
      const tx = new WriteTx(db);
      assert.throws(
        () => db.transaction(() => tx.put('routes', '', 'r', { prefix: '10.50.0.0/16', via: '10.9.0.1', nic: 'ghost' }))(),
        /FOREIGN KEY constraint failed/,
      );
      assert.equal(store.count('routes'), 0);
      assert.equal(store.generation(), 0);

      // Deleting a referenced NIC the same way is stopped too.
      store.write((w) => {
        w.put('nics', '', 'n', { device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/24'], mtu: 1500 });
        w.put('routes', '', 'r', { prefix: '10.50.0.0/16', via: '10.9.0.1', nic: 'n' });
      });
      const del = new WriteTx(db);
      assert.throws(() => db.transaction(() => del.delete('nics', '', 'n'))(), /FOREIGN KEY constraint failed/);
      assert.ok(store.get('nics', '', 'n'));
      assert.equal(store.generation(), 1);
    } finally {
      db.close();
    }
  });
});
