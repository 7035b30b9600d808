// Embedded SQLite ObjectStore (better-sqlite3). WAL with synchronous=FULL: a write is on
// disk before the server answers. Writes (sqlite-writer.ts) go through a group commit
// (group-commit.ts): those queued together share one transaction and one fsync. They run on
// the store's connection, or with `writerThread` on a thread of their own
// (sqlite-writer-thread.ts). Reads and Locate run here. Schema in sqlite-migrations.ts.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import {
  type ListWrappedQuery,
  type LocateFilter,
  type LocateQuery,
  type ObjectStore,
  type StoredObject,
  validateListWrapped,
  validateObject,
  validateQuery,
  validateSettingName,
  type WrappedRef,
} from './object-store.js';
import { MIGRATIONS, type Migration, migrate } from './sqlite-migrations.js';
import { openConnection, SqliteWriter, type SqliteWrites } from './sqlite-writer.js';
import { WriterThread } from './sqlite-writer-thread.js';

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
  /**
   * Run writes on a thread of their own (sqlite-writer-thread.ts) instead of the event loop.
   * Default false; `kmipd serve` turns it on.
   */
  writerThread?: boolean;
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
  private readonly busyTimeoutMs: number;
  private readonly cache = new Map<string, Statement>();
  private writes: SqliteWrites;
  /** Reads the object row and (unless told not to) its index entries in one read transaction. */
  private readonly readObject: (uid: string, index: boolean) => StoredObject | undefined;
  private readonly s: Record<'getObject' | 'getEntries' | 'count', Statement>;

  constructor(opts: SqliteStoreOptions) {
    mkdirSync(opts.path, { recursive: true, mode: 0o700 });
    this.file = join(opts.path, SQLITE_FILE_NAME);
    this.busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.db = openConnection(this.file, this.busyTimeoutMs);
    try {
      this.schemaVersion = migrate(this.db, opts.migrations ?? MIGRATIONS);
    } catch (err) {
      this.db.close();
      throw err;
    }
    const db = this.db;
    this.s = {
      getObject: db.prepare('SELECT * FROM objects WHERE uid = ?').safeIntegers(true),
      getEntries: db
        .prepare('SELECT name, num, txt, is_bigint FROM object_index WHERE seq = ? ORDER BY pos')
        .safeIntegers(true),
      count: db.prepare('SELECT count(*) FROM objects').pluck(),
    };
    this.writes = new SqliteWriter(db, this.busyTimeoutMs);
    this.readObject = db.transaction((uid: string, index: boolean) => this.readOne(uid, index));
  }

  /** Moves the writes to a thread of their own; before the first write only. */
  async startWriterThread(): Promise<void> {
    this.writes = await WriterThread.start({ file: this.file, busyTimeoutMs: this.busyTimeoutMs });
  }

  private open(): Database {
    if (!this.db.open) throw new KmipError(ResultReason.GeneralFailure, 'object store is closed');
    return this.db;
  }

  async insert(obj: StoredObject): Promise<void> {
    validateObject(obj);
    this.open();
    return this.writes.insert(obj);
  }

  /** Inserts many objects in one transaction (imports, benchmarks); all or nothing. */
  async insertBatch(objs: readonly StoredObject[]): Promise<void> {
    for (const obj of objs) validateObject(obj);
    this.open();
    return this.writes.insertBatch(objs);
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
    this.open();
    return this.writes.update(obj, expectedRevision);
  }

  async replace(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    validateObject(obj);
    this.open();
    return this.writes.replace(obj, expectedRevision);
  }

  async remove(uid: string): Promise<boolean> {
    this.open();
    return this.writes.remove(uid);
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
    return this.writes.putSetting(name, value);
  }

  async settingNames(): Promise<string[]> {
    this.open();
    return this.prepared('SELECT name FROM settings ORDER BY name').pluck().all() as string[];
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      await this.writes.close();
    } finally {
      this.cache.clear();
      this.db.close();
    }
  }
}

export async function openSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  const store = new SqliteStore(opts);
  if (opts.writerThread === true) {
    try {
      await store.startWriterThread();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
