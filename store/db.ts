import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { projectFile } from '../lib/project-files.js';

export type Db = Database.Database;

/**
 * Opens the configuration database and brings its schema up to date.
 * WAL lets readers (status, metrics) run beside the writer; `synchronous = FULL` makes every
 * acknowledged write survive a power cut, which matters more here than write throughput.
 * The file holds the Redis password: a directory it creates, the file and its -wal and -shm
 * files are the owner's only from the moment they exist (the umask is narrowed while they are
 * made); an existing directory others can read is kept, with a `warn`ing.
 */
export function openDb(file: string, warn: (message: string) => void = () => {}): Db {
  if (file === ':memory:') return prepare(new Database(file));
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dirMode = statSync(dir).mode & 0o777;
  if (dirMode & 0o007) warn(`the database directory ${dir} is readable by others (mode ${dirMode.toString(8)}); chmod 700 it`);
  const umask = process.umask(0o077);
  try {
    const db = new Database(file);
    chmodSync(file, 0o600);   // an existing file made before this rule
    return prepare(db);
  } finally {
    process.umask(umask);
  }
}

function prepare(db: Db): Db {
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
