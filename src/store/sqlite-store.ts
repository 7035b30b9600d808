// Embedded SQLite ObjectStore (better-sqlite3). WAL with synchronous=FULL: a write is on
// disk before the server answers. Writes go through a group commit (group-commit.ts): those
// queued in one event-loop turn share one transaction and one fsync. Schema in
// sqlite-migrations.ts.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { GroupCommit } from './group-commit.js';
import {
  type IndexEntry,
  type ListWrappedQuery,
  type LocateFilter,
  type LocateQuery,
  type ObjectStore,
  objectAlreadyExists,
  type StoredObject,
  validateListWrapped,
  validateObject,
  validateQuery,
  validateSettingName,
  type WrappedRef,
} from './object-store.js';
import { MIGRATIONS, type Migration, migrate } from './sqlite-migrations.js';

export const SQLITE_FILE_NAME = 'objects.sqlite';

/** How long a write waits for another process's write lock unless told otherwise. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface SqliteStoreOptions {
  /** Directory holding the database; created with mode 0700 when missing. */
  path: string;
  /**
   * Milliseconds a write waits for another process's lock (default 5,000); group commits retry
   * without blocking the event loop meanwhile (src/store/group-commit.ts).
   */
  busyTimeoutMs?: number;
  /** Schema migrations to apply; tests pass older or newer lists. */
  migrations?: readonly Migration[];
}

/**
 * Locate counts the matches of each candidate driver (the owner and every filter) up to a
 * cap, growing the cap eightfold until some candidate falls under it, and drives the query
 * from the smallest. One broad filter (ObjectType) thus never forces a walk over half the
 * index when a narrow one (Name, a one-day date range) is present. Each probe counts only
 * up to the best count so far, so the probes cost a small multiple of what the chosen
 * driver costs anyway. Past PROBE_MAX every candidate is broad and the first one drives.
 */
const PROBE_START = 1000;
const PROBE_MAX = 64_000;
/** Page cache of the connection, KiB. */
const PAGE_CACHE_KIB = 64 * 1024;
/** Index rows per multi-row INSERT: one statement step instead of one per row. */
const ENTRY_ROWS_MAX = 32;
/** Distinct Locate query shapes kept prepared. */
const STATEMENT_CACHE_SIZE = 128;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

interface ObjectRow {
  seq: bigint;
  uid: string;
  owner: string;
  object_type: bigint;
  state: bigint;
  attributes: Buffer;
  material: Buffer | null;
  material_kek_id: string | null;
  material_alg: string | null;
  revision: bigint;
  created_at: bigint;
}

/** An index entry's identity: its name and its value with the value's type. */
function entryKey(name: string, value: IndexEntry['value']): string {
  const kind = typeof value === 'string' ? 't' : typeof value === 'bigint' ? 'b' : 'n';
  return `${name}\u0000${kind}${value}`;
}

interface IndexRow {
  name: string;
  num: bigint | null;
  txt: string | null;
  is_bigint: bigint;
}

type Param = string | number | bigint;

/**
 * SQL condition on object_index alias `a` for one filter, with its parameters. `noIndex`
 * prefixes the name with unary + so SQLite cannot use the name indexes for it.
 */
function filterSql(a: string, f: LocateFilter, noIndex = false): { sql: string; params: Param[] } {
  const name = `${noIndex ? '+' : ''}${a}.name = ?`;
  if (f.op === 'eq') {
    const col = typeof f.value === 'string' ? 'txt' : 'num';
    return { sql: `${name} AND ${a}.${col} = ?`, params: [f.name, f.value] };
  }
  return {
    sql: `${name} AND ${a}.num BETWEEN ? AND ?`,
    params: [f.name, f.min ?? INT64_MIN, f.max ?? INT64_MAX],
  };
}

export class SqliteStore implements ObjectStore {
  readonly kind = 'sqlite';
  readonly file: string;
  readonly schemaVersion: number;
  private readonly db: Database;
  private readonly cache = new Map<string, Statement>();
  private readonly entryInserts = new Map<number, Statement>();
  private readonly writes: GroupCommit;
  /** Reads the object row and (unless told not to) its index entries in one read transaction. */
  private readonly readObject: (uid: string, index: boolean) => StoredObject | undefined;
  private readonly s: {
    insertObject: Statement;
    getObject: Statement;
    getEntries: Statement;
    updateObject: Statement;
    deleteEntries: Statement;
    deleteEntry: Statement;
    deleteObjectAt: Statement;
    setRevision: Statement;
    getEntryRows: Statement;
    deleteObject: Statement;
    count: Statement;
  };

  constructor(opts: SqliteStoreOptions) {
    mkdirSync(opts.path, { recursive: true, mode: 0o700 });
    this.file = join(opts.path, SQLITE_FILE_NAME);
    this.db = new BetterSqlite3(this.file);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`);
      // Every object adds ~20 index rows at random places of the name indexes (uids,
      // digests); SQLite's 2 MiB default page cache misses on them from ~10k objects on.
      this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      // A multi-row INSERT inside a transaction keeps a statement journal; with temp files it
      // spills to disk past 64 KiB (a group commit of ~10 Creates). Transient Locate b-trees
      // (an IN list of a broad range) live in memory too: bounded by the matches, freed after.
      this.db.pragma('temp_store = MEMORY');
      this.schemaVersion = migrate(this.db, opts.migrations ?? MIGRATIONS);
    } catch (err) {
      this.db.close();
      throw err;
    }
    const db = this.db;
    this.s = {
      insertObject: db.prepare(
        `INSERT INTO objects (uid, owner, object_type, state, attributes, material,
           material_kek_id, material_alg, revision, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
      ),
      getObject: db.prepare('SELECT * FROM objects WHERE uid = ?').safeIntegers(true),
      getEntries: db
        .prepare('SELECT name, num, txt, is_bigint FROM object_index WHERE seq = ? ORDER BY pos')
        .safeIntegers(true),
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
      count: db.prepare('SELECT count(*) FROM objects').pluck(),
    };
    this.writes = new GroupCommit(db, opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    this.readObject = db.transaction((uid: string, index: boolean) => this.readOne(uid, index));
  }

  private open(): Database {
    if (!this.db.open) throw new KmipError(ResultReason.GeneralFailure, 'object store is closed');
    return this.db;
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

  private insertOne(obj: StoredObject): void {
    const m = obj.material;
    let seq: bigint;
    try {
      seq = BigInt(
        this.s.insertObject.run(
          obj.uid,
          obj.owner,
          obj.objectType,
          obj.state,
          obj.attributes,
          m?.blob ?? null,
          m?.kekId ?? null,
          m?.algorithm ?? null,
          obj.createdAt,
        ).lastInsertRowid,
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw objectAlreadyExists(obj.uid);
      }
      throw err;
    }
    this.insertEntries(seq, obj.index);
  }

  async insert(obj: StoredObject): Promise<void> {
    validateObject(obj);
    this.open();
    return this.writes.run(() => this.insertOne(obj));
  }

  /** Inserts many objects in one transaction (imports, benchmarks); all or nothing. */
  async insertBatch(objs: readonly StoredObject[]): Promise<void> {
    for (const obj of objs) validateObject(obj);
    this.open();
    return this.writes.run(() => {
      for (const obj of objs) this.insertOne(obj);
    });
  }

  async get(uid: string, opts: { index?: boolean } = {}): Promise<StoredObject | undefined> {
    this.open();
    const index = opts.index ?? true;
    // One row needs no transaction; the row and its entries are read in one.
    return index ? this.readObject(uid, true) : this.readOne(uid, false);
  }

  private readOne(uid: string, index: boolean): StoredObject | undefined {
    const row = this.s.getObject.get(uid) as ObjectRow | undefined;
    if (!row) return undefined;
    const entries = index ? (this.s.getEntries.all(row.seq) as IndexRow[]) : [];
    return {
      uid: row.uid,
      owner: row.owner,
      objectType: Number(row.object_type),
      state: Number(row.state),
      attributes: row.attributes,
      index: entries.map((e) => ({
        name: e.name,
        value: e.txt !== null ? e.txt : e.is_bigint ? e.num! : Number(e.num!),
      })),
      material:
        row.material === null
          ? null
          : { kekId: row.material_kek_id!, algorithm: row.material_alg!, blob: row.material },
      revision: Number(row.revision),
      createdAt: Number(row.created_at),
    };
  }

  async update(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    validateObject(obj);
    const m = obj.material;
    this.open();
    return this.writes.run(() => {
      const seq = this.s.updateObject.get(
        obj.state,
        obj.attributes,
        m?.blob ?? null,
        m?.kekId ?? null,
        m?.algorithm ?? null,
        obj.uid,
        expectedRevision,
      ) as bigint | undefined;
      if (seq === undefined) return false;
      this.replaceEntries(seq, obj.index);
      return true;
    });
  }

  /**
   * Makes INDEX the entries of SEQ, touching only the rows that differ: an update (a Destroy,
   * an Activate) changes a few attributes of the ~20 indexed ones, and rewriting them all
   * doubled the pages each commit wrote to the WAL. Entries already there keep their rows.
   */
  private replaceEntries(seq: bigint, index: readonly IndexEntry[]): void {
    const kept = new Map<string, number[]>();
    let next = 0;
    for (const r of this.s.getEntryRows.all(seq) as (IndexRow & { pos: bigint })[]) {
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

  async replace(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    validateObject(obj);
    this.open();
    return this.writes.run(() => {
      const seq = this.s.deleteObjectAt.get(obj.uid, expectedRevision) as bigint | undefined;
      if (seq === undefined) return false;
      this.s.deleteEntries.run(seq);
      this.insertOne(obj);
      this.s.setRevision.run(expectedRevision + 1, obj.uid);
      return true;
    });
  }

  async remove(uid: string): Promise<boolean> {
    this.open();
    return this.writes.run(() => {
      const seq = this.s.deleteObject.get(uid) as bigint | undefined;
      if (seq === undefined) return false;
      this.s.deleteEntries.run(seq);
      return true;
    });
  }

  private prepared(sql: string): Statement {
    let stmt = this.cache.get(sql);
    if (stmt) {
      this.cache.delete(sql);
    } else {
      stmt = this.db.prepare(sql);
      if (this.cache.size >= STATEMENT_CACHE_SIZE) {
        this.cache.delete(this.cache.keys().next().value!);
      }
    }
    this.cache.set(sql, stmt);
    return stmt;
  }

  /** Matches of one filter, or of the owner when `f` is undefined, counted up to `cap`. */
  private probe(f: LocateFilter | undefined, owner: string | undefined, cap: number): number {
    if (f === undefined) {
      const sql = 'SELECT count(*) FROM (SELECT 1 FROM objects WHERE owner = ? LIMIT ?)';
      return this.prepared(sql).pluck().get(owner, cap) as number;
    }
    const c = filterSql('i', f);
    const sql = `SELECT count(*) FROM (SELECT 1 FROM object_index i WHERE ${c.sql} LIMIT ?)`;
    return this.prepared(sql)
      .pluck()
      .get(...c.params, cap) as number;
  }

  /** Index into q.filters of the driving filter, or -1 when the owner (or a scan) drives. */
  private chooseDriver(q: LocateQuery): number {
    const filters = q.filters;
    if (filters.length === 0) return -1;
    if (filters.length === 1 && q.owner === undefined) return 0;
    const candidates = q.owner === undefined ? filters.map((_, i) => i) : [-1, ...filters.keys()];
    for (let cap = PROBE_START; ; cap *= 8) {
      let best = candidates[0]!;
      let bestCount = cap;
      for (const i of candidates) {
        const n = this.probe(i < 0 ? undefined : filters[i], q.owner, bestCount);
        if (n < bestCount) {
          best = i;
          bestCount = n;
          if (n === 0) return i;
        }
      }
      if (bestCount < cap || cap >= PROBE_MAX) return best;
    }
  }

  /**
   * Shape: an eq driver walks its (name, value, seq) index, which yields matches already in
   * insertion order, so LIMIT stops early and GROUP BY seq (duplicate entries) needs no
   * sort. A range driver feeds `o.seq IN (...)`, which SQLite materialises as a b-tree keyed
   * by seq: deduplicated and in insertion order. Every other filter is an EXISTS over the
   * object's own entries through the (seq, pos) primary key (unary + keeps the planner off
   * the name indexes there, where a range would scan all its matches per candidate). Unary
   * + on owner likewise keeps its index out unless the owner drives.
   */
  /** The Locate query, ordered and paged; `count` asks for the number of matches instead. */
  private locateSql(q: LocateQuery, count = false): { sql: string; params: Param[] } {
    const filters = q.filters;
    const driver = this.chooseDriver(q);
    const where: string[] = [];
    const params: Param[] = [];
    const lead = driver >= 0 ? filters[driver]! : undefined;
    let from = 'objects o';
    let order = 'o.seq';
    if (lead?.op === 'eq') {
      const c = filterSql('d', lead);
      from = 'object_index d CROSS JOIN objects o ON o.seq = d.seq';
      order = 'd.seq';
      where.push(c.sql);
      params.push(...c.params);
    } else if (lead) {
      const c = filterSql('d', lead);
      where.push(`o.seq IN (SELECT d.seq FROM object_index d WHERE ${c.sql})`);
      params.push(...c.params);
    }
    if (q.owner !== undefined) {
      where.push(driver >= 0 ? '+o.owner = ?' : 'o.owner = ?');
      params.push(q.owner);
    }
    filters.forEach((f, i) => {
      if (i === driver) return;
      const c = filterSql('x', f, true);
      where.push(`EXISTS (SELECT 1 FROM object_index x WHERE x.seq = o.seq AND ${c.sql})`);
      params.push(...c.params);
    });
    const cond = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    const group = lead?.op === 'eq' ? ' GROUP BY d.seq' : '';
    const matches = `SELECT o.uid FROM ${from}${cond}${group}`;
    if (count) return { sql: `SELECT count(*) FROM (${matches})`, params };
    const sql = `${matches} ORDER BY ${order}${q.newestFirst ? ' DESC' : ''} LIMIT ? OFFSET ?`;
    params.push(q.limit ?? -1, q.offset ?? 0);
    return { sql, params };
  }

  /** The plan SQLite picks for a Locate query (EXPLAIN QUERY PLAN detail lines). */
  explainLocate(q: LocateQuery): string[] {
    validateQuery(q);
    const { sql, params } = this.locateSql(q);
    const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as {
      detail: string;
    }[];
    return rows.map((r) => r.detail);
  }

  async locate(q: LocateQuery): Promise<string[]> {
    validateQuery(q);
    return this.open().transaction(() => {
      const { sql, params } = this.locateSql(q);
      return this.prepared(sql)
        .pluck()
        .all(...params) as string[];
    })();
  }

  async countMatches(q: LocateQuery): Promise<number> {
    validateQuery(q);
    this.open();
    const { sql, params } = this.locateSql(q, true);
    return this.prepared(sql)
      .pluck()
      .get(...params) as number;
  }

  async count(): Promise<number> {
    this.open();
    return this.s.count.get() as number;
  }

  /** The row-value cursor walks objects_material_kek (migration 2) from the last page's end. */
  private listWrappedSql(q: ListWrappedQuery): { sql: string; params: Param[] } {
    const where = ['material IS NOT NULL'];
    const params: Param[] = [];
    if (q.after !== undefined) {
      where.push('(material_kek_id, uid) > (?, ?)');
      params.push(q.after.kekId, q.after.uid);
    }
    if (q.exceptKekId !== undefined) {
      where.push('material_kek_id <> ?');
      params.push(q.exceptKekId);
    }
    params.push(q.limit);
    const sql = `SELECT uid, material_kek_id AS kekId FROM objects WHERE ${where.join(' AND ')}
      ORDER BY material_kek_id, uid LIMIT ?`;
    return { sql, params };
  }

  /** The plan SQLite picks for listWrapped (EXPLAIN QUERY PLAN detail lines). */
  explainListWrapped(q: ListWrappedQuery): string[] {
    validateListWrapped(q);
    const { sql, params } = this.listWrappedSql(q);
    const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as {
      detail: string;
    }[];
    return rows.map((r) => r.detail);
  }

  async listWrapped(q: ListWrappedQuery): Promise<WrappedRef[]> {
    validateListWrapped(q);
    this.open();
    const { sql, params } = this.listWrappedSql(q);
    return this.prepared(sql).all(...params) as WrappedRef[];
  }

  /** Settings (migration 3); statements prepared on first use. */
  async getSetting(name: string): Promise<Buffer | undefined> {
    validateSettingName(name);
    this.open();
    const value = this.prepared('SELECT value FROM settings WHERE name = ?').pluck().get(name);
    return value === undefined ? undefined : (value as Buffer);
  }

  async putSetting(name: string, value: Buffer | undefined): Promise<void> {
    validateSettingName(name);
    this.open();
    return this.writes.run(() => {
      if (value === undefined) {
        this.prepared('DELETE FROM settings WHERE name = ?').run(name);
      } else {
        this.prepared(
          'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
        ).run(name, value);
      }
    });
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.writes.flush({ wait: true });
    this.cache.clear();
    this.db.close();
  }
}

export async function openSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  return new SqliteStore(opts);
}
