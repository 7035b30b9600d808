// The write side of the SQLite object store: the statements that change objects and their
// index entries, run through a group commit (group-commit.ts). It works on any connection
// to the database: the store's own, or one that a writer thread opens
// (sqlite-writer-thread.ts), so that the statements and the COMMIT's fsync run off the
// event loop. Callers validate objects before they get here.

import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { GroupCommit } from './group-commit.js';
import {
  changedColumns,
  type IndexEntry,
  objectAlreadyExists,
  objectRow,
  type StoredObject,
} from './object-store.js';

/** Page cache of a connection, KiB. */
const PAGE_CACHE_KIB = 64 * 1024;
/** Index rows per multi-row INSERT: one statement step instead of one per row. */
const ENTRY_ROWS_MAX = 32;

/** The store's writes, whichever connection and thread they run on. */
export interface SqliteWrites {
  insert(obj: StoredObject): Promise<void>;
  /** All or nothing, in one transaction. */
  insertBatch(objs: readonly StoredObject[]): Promise<void>;
  update(obj: StoredObject, expectedRevision: number): Promise<boolean>;
  replace(obj: StoredObject, expectedRevision: number): Promise<boolean>;
  remove(uid: string): Promise<boolean>;
  /** Sets a server setting (migration 3), or deletes it when VALUE is undefined. */
  putSetting(name: string, value: Buffer | undefined): Promise<void>;
  /** Commits what is queued, then stops taking writes. */
  close(): Promise<void>;
}

/** Opens FILE with the settings every connection of the store uses. */
export function openConnection(file: string, busyTimeoutMs: number): Database {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    // Every object adds ~20 index rows at random places of the name indexes (uids,
    // digests); SQLite's 2 MiB default page cache misses on them from ~10k objects on.
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    // A multi-row INSERT inside a transaction keeps a statement journal; with temp files it
    // spills to disk past 64 KiB (a group commit of ~10 Creates). Transient Locate b-trees
    // (an IN list of a broad range) live in memory too: bounded by the matches, freed after.
    db.pragma('temp_store = MEMORY');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** An index entry's identity: its name and its value with the value's type. */
function entryKey(name: string, value: IndexEntry['value']): string {
  const kind = typeof value === 'string' ? 't' : typeof value === 'bigint' ? 'b' : 'n';
  return `${name}\u0000${kind}${value}`;
}

interface IndexRow {
  pos: bigint;
  name: string;
  num: bigint | null;
  txt: string | null;
  is_bigint: bigint;
}

type Param = string | number | bigint;

export class SqliteWriter implements SqliteWrites {
  private readonly group: GroupCommit;
  private readonly entryInserts = new Map<number, Statement>();
  private readonly lazy = new Map<string, Statement>();
  private readonly s: Record<
    | 'insertObject'
    | 'updateObject'
    | 'deleteEntries'
    | 'deleteEntry'
    | 'deleteObjectAt'
    | 'setRevision'
    | 'getEntryRows'
    | 'deleteObject',
    Statement
  >;

  constructor(
    private readonly db: Database,
    busyTimeoutMs: number,
  ) {
    this.s = {
      insertObject: db.prepare(
        `INSERT INTO objects (uid, owner, object_type, state, attributes, material,
           material_kek_id, material_alg, revision, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
      ),
      updateObject: db
        .prepare(
          `UPDATE objects SET state = ?, attributes = ?, material = ?, material_kek_id = ?,
             material_alg = ?, revision = revision + 1
           WHERE uid = ? AND revision = ? RETURNING seq`,
        )
        .pluck()
        .safeIntegers(true),
      deleteEntries: db.prepare('DELETE FROM object_index WHERE seq = ?'),
      deleteEntry: db.prepare('DELETE FROM object_index WHERE seq = ? AND pos = ?'),
      deleteObjectAt: db
        .prepare('DELETE FROM objects WHERE uid = ? AND revision = ? RETURNING seq')
        .pluck()
        .safeIntegers(true),
      setRevision: db.prepare('UPDATE objects SET revision = ? WHERE uid = ?'),
      getEntryRows: db
        .prepare('SELECT pos, name, num, txt, is_bigint FROM object_index WHERE seq = ?')
        .safeIntegers(true),
      deleteObject: db
        .prepare('DELETE FROM objects WHERE uid = ? RETURNING seq')
        .pluck()
        .safeIntegers(true),
    };
    this.group = new GroupCommit(db, busyTimeoutMs);
  }

  insert(obj: StoredObject): Promise<void> {
    return this.group.run(() => this.insertOne(obj));
  }

  insertBatch(objs: readonly StoredObject[]): Promise<void> {
    return this.group.run(() => {
      for (const obj of objs) this.insertOne(obj);
    });
  }

  update(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    return this.group.run(() => {
      const seq = this.s.updateObject.get(...changedColumns(obj), obj.uid, expectedRevision) as
        | bigint
        | undefined;
      if (seq === undefined) return false;
      this.replaceEntries(seq, obj.index);
      return true;
    });
  }

  replace(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    return this.group.run(() => {
      const seq = this.s.deleteObjectAt.get(obj.uid, expectedRevision) as bigint | undefined;
      if (seq === undefined) return false;
      this.s.deleteEntries.run(seq);
      this.insertOne(obj);
      this.s.setRevision.run(expectedRevision + 1, obj.uid);
      return true;
    });
  }

  remove(uid: string): Promise<boolean> {
    return this.group.run(() => {
      const seq = this.s.deleteObject.get(uid) as bigint | undefined;
      if (seq === undefined) return false;
      this.s.deleteEntries.run(seq);
      return true;
    });
  }

  putSetting(name: string, value: Buffer | undefined): Promise<void> {
    return this.group.run(() => {
      // Prepared on first use: a store opened with an older schema has no settings table.
      if (value === undefined) {
        this.statement('DELETE FROM settings WHERE name = ?').run(name);
      } else {
        this.statement(
          `INSERT INTO settings (name, value) VALUES (?, ?)
           ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
        ).run(name, value);
      }
    });
  }

  /** Commits what is queued; the connection stays the caller's to close. */
  async close(): Promise<void> {
    this.group.flush({ wait: true });
  }

  private insertOne(obj: StoredObject): void {
    let seq: bigint;
    try {
      seq = BigInt(this.s.insertObject.run(...objectRow(obj)).lastInsertRowid);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw objectAlreadyExists(obj.uid);
      }
      throw err;
    }
    this.insertEntries(seq, obj.index);
  }

  /** Inserts INDEX as the entries of SEQ at positions FIRST, FIRST + 1, ... */
  private insertEntries(seq: bigint, index: readonly IndexEntry[], first = 0): void {
    for (let start = 0; start < index.length; start += ENTRY_ROWS_MAX) {
      const rows = index.slice(start, start + ENTRY_ROWS_MAX);
      const params: Array<Param | null> = [];
      rows.forEach((e, i) => {
        const pos = first + start + i;
        if (typeof e.value === 'string') params.push(seq, pos, e.name, null, e.value, 0);
        else params.push(seq, pos, e.name, e.value, null, typeof e.value === 'bigint' ? 1 : 0);
      });
      this.entryInsert(rows.length).run(params);
    }
  }

  private statement(sql: string): Statement {
    let stmt = this.lazy.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.lazy.set(sql, stmt);
    }
    return stmt;
  }

  private entryInsert(rows: number): Statement {
    let stmt = this.entryInserts.get(rows);
    if (stmt === undefined) {
      stmt = this.db.prepare(
        `INSERT INTO object_index (seq, pos, name, num, txt, is_bigint) VALUES ${Array(rows)
          .fill('(?, ?, ?, ?, ?, ?)')
          .join(', ')}`,
      );
      this.entryInserts.set(rows, stmt);
    }
    return stmt;
  }

  /**
   * Makes INDEX the entries of SEQ, touching only the rows that differ: an update (a Destroy,
   * an Activate) changes a few attributes of the ~20 indexed ones, and rewriting them all
   * doubled the pages each commit wrote to the WAL. Entries already there keep their rows.
   */
  private replaceEntries(seq: bigint, index: readonly IndexEntry[]): void {
    const kept = new Map<string, number[]>();
    let next = 0;
    for (const r of this.s.getEntryRows.all(seq) as IndexRow[]) {
      const key = entryKey(r.name, r.txt ?? (r.is_bigint ? r.num! : Number(r.num!)));
      const pos = Number(r.pos);
      kept.set(key, [...(kept.get(key) ?? []), pos]);
      next = Math.max(next, pos + 1);
    }
    const added: IndexEntry[] = [];
    for (const e of index) {
      const same = kept.get(entryKey(e.name, e.value));
      if (same !== undefined && same.length > 0) same.pop();
      else added.push(e);
    }
    for (const positions of kept.values()) {
      for (const pos of positions) this.s.deleteEntry.run(seq, pos);
    }
    this.insertEntries(seq, added, next);
  }
}
