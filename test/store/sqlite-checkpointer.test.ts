// WAL checkpoints in a worker thread (src/store/sqlite-checkpointer.ts): the server's
// connection stops checkpointing inside its COMMITs, the thread copies the WAL into the
// database file, and a failed thread hands checkpoints back to the connection.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../../src/store/sqlite-checkpointer.js';

let dir: string;
let file: string;
let db: Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmipd-checkpointer-'));
  file = join(dir, 'db.sqlite');
  db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x BLOB)');
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const autocheckpoint = () => db.pragma('wal_autocheckpoint', { simple: true });
const write = (rows: number) => {
  const insert = db.prepare('INSERT INTO t VALUES (randomblob(4000))');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run();
  })();
};

describe('WAL checkpointer thread', () => {
  it('turns off checkpoints in COMMIT and copies the WAL into the database file itself', async () => {
    const c = new WalCheckpointer(db, file, { intervalMs: 20 });
    try {
      expect(autocheckpoint()).toBe(0);
      // 1,500 pages: past SQLite's 1,000-page automatic checkpoint, which is now off.
      write(1500);
      expect(statSync(file).size).toBeLessThan(1_000_000);
      await expect.poll(() => statSync(file).size, { timeout: 10_000 }).toBeGreaterThan(6_000_000);
      await expect.poll(() => c.stats.checkpointed, { timeout: 10_000 }).toBeGreaterThan(1000);
      expect(c.stats.runs).toBeGreaterThan(0);
      // The rows are all there, read back from the database file.
      expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1500);
    } finally {
      await c.stop();
    }
    // The connection closes normally after the thread has stopped.
    db.close();
    expect(statSync(file).size).toBeGreaterThan(6_000_000);
  });

  it('gives checkpoints back to the connection when the thread fails', async () => {
    // A thread that cannot open the database (its directory does not exist) fails at once.
    const c = new WalCheckpointer(db, join(dir, 'missing', 'db.sqlite'), { intervalMs: 20 });
    expect(autocheckpoint()).toBe(0);
    await expect.poll(() => autocheckpoint(), { timeout: 10_000 }).toBe(1000);
    await c.stop();
    // SQLite checkpoints inside COMMIT again: the WAL is copied without any thread.
    write(1500);
    expect(statSync(file).size).toBeGreaterThan(6_000_000);
  });
});
