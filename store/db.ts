import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { projectFile } from '../lib/project-files.js';

export type Db = Database.Database;

/**
 * Opens the configuration database and brings its schema up to date.
 * WAL lets readers (status, metrics) run beside the writer; `synchronous = FULL` makes every
 * acknowledged write survive a power cut, which matters more here than write throughput.
 * The file holds the Redis password: a directory it creates, and the file, are the owner's
 * only (SQLite gives the -wal and -shm files the database file's permissions).
 */
export function openDb(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  if (file !== ':memory:') chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** Applies every `migrations/NNN-*.sql` newer than `PRAGMA user_version`, each in its own transaction. */
function migrate(db: Db): void {
  const dir = projectFile('migrations');
  const current = db.pragma('user_version', { simple: true }) as number;
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}-.*\.sql$/.test(f))
    .sort();
  for (const file of files) {
    const version = Number(file.slice(0, 3));
    if (version <= current) continue;
    const sql = readFileSync(`${dir}/${file}`, 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
