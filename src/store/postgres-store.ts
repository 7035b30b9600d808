// PostgreSQL ObjectStore (node-postgres Pool), for several kmipd nodes sharing one set of
// objects. Every method is one statement or one transaction, so a write committed by one
// node is visible to the next read on any node. Schema in postgres-migrations.ts.

import pg, { type PoolClient } from 'pg';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import {
  changedColumns,
  type IndexEntry,
  type ListWrappedQuery,
  type LocateFilter,
  type LocateQuery,
  type ObjectStore,
  objectAlreadyExists,
  objectRow,
  type StoredObject,
  validateListWrapped,
  validateObject,
  validateQuery,
  validateSettingName,
  type WrappedRef,
} from './object-store.js';
import { MIGRATIONS, type Migration, migrate } from './postgres-migrations.js';

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Connections kept open; defaults to 10. */
  poolSize?: number;
  /** Schema migrations to apply; tests pass older or newer lists. */
  migrations?: readonly Migration[];
  /**
   * An idle pooled connection failed (server restart, network). The pool drops it and the
   * next query opens a new one; without a handler the error would crash the process.
   */
  onIdleError?: (err: Error) => void;
}

/** SQLSTATE unique_violation, and the constraint behind `uid UNIQUE`. */
const UNIQUE_VIOLATION = '23505';
const UID_CONSTRAINT = 'objects_uid_key';

/**
 * One object, index entries included, as one statement: the entries come back as parallel
 * arrays in `pos` order from the same snapshot as the object row. Integers travel as text
 * because node-postgres answers int8 as strings and has no bigint parameters.
 */
const SELECT_OBJECT = `
  SELECT o.uid, o.owner, o.object_type::text, o.state::text, o.attributes, o.material,
    o.material_kek_id, o.material_alg, o.revision::text, o.created_at::text,
    ARRAY(SELECT i.name FROM object_index i WHERE i.seq = o.seq ORDER BY i.pos) AS names,
    ARRAY(SELECT i.num::text FROM object_index i WHERE i.seq = o.seq ORDER BY i.pos) AS nums,
    ARRAY(SELECT i.txt FROM object_index i WHERE i.seq = o.seq ORDER BY i.pos) AS txts,
    ARRAY(SELECT i.is_bigint FROM object_index i WHERE i.seq = o.seq ORDER BY i.pos) AS bigs
  FROM objects o WHERE o.uid = $1`;

/** Index entries of object `seq` ($1) from parallel arrays $2..$5, positions in array order. */
const INSERT_ENTRIES = `
  INSERT INTO object_index (seq, pos, name, num, txt, is_bigint)
  SELECT $1, e.pos - 1, e.name, e.num, e.txt, e.is_bigint
  FROM unnest($2::text[], $3::int8[], $4::text[], $5::bool[])
    WITH ORDINALITY AS e(name, num, txt, is_bigint, pos)`;

/** The object row ($5..$13) and its entries ($1..$4) in one statement: atomic without a transaction. */
const INSERT_OBJECT = `
  WITH o AS (
    INSERT INTO objects (uid, owner, object_type, state, attributes, material,
      material_kek_id, material_alg, revision, created_at)
    VALUES ($5, $6, $7, $8, $9, $10, $11, $12, 1, $13)
    RETURNING seq)
  INSERT INTO object_index (seq, pos, name, num, txt, is_bigint)
  SELECT o.seq, e.pos - 1, e.name, e.num, e.txt, e.is_bigint
  FROM o CROSS JOIN unnest($1::text[], $2::int8[], $3::text[], $4::bool[])
    WITH ORDINALITY AS e(name, num, txt, is_bigint, pos)`;

/**
 * Compare-and-swap. Under READ COMMITTED a concurrent writer blocks on the row lock and then
 * re-checks `revision = $7` against the committed row, so exactly one of them wins.
 */
const UPDATE_OBJECT = `
  UPDATE objects SET state = $1, attributes = $2, material = $3, material_kek_id = $4,
    material_alg = $5, revision = revision + 1
  WHERE uid = $6 AND revision = $7
  RETURNING seq::text`;

interface ObjectRow {
  uid: string;
  owner: string;
  object_type: string;
  state: string;
  attributes: Buffer;
  material: Buffer | null;
  material_kek_id: string | null;
  material_alg: string | null;
  revision: string;
  created_at: string;
  names: string[];
  nums: (string | null)[];
  txts: (string | null)[];
  bigs: boolean[];
}

type Param = string | number | boolean | Buffer | null | (string | boolean | null)[];

/** The parallel arrays INSERT_ENTRIES and INSERT_OBJECT unnest: name, num, txt, is_bigint. */
function entryArrays(index: IndexEntry[]): Param[] {
  return [
    index.map((e) => e.name),
    index.map((e) => (typeof e.value === 'string' ? null : e.value.toString())),
    index.map((e) => (typeof e.value === 'string' ? e.value : null)),
    index.map((e) => typeof e.value === 'bigint'),
  ];
}

function fromRow(row: ObjectRow): StoredObject {
  return {
    uid: row.uid,
    owner: row.owner,
    objectType: Number(row.object_type),
    state: Number(row.state),
    attributes: row.attributes,
    index: row.names.map((name, i) => {
      const num = row.nums[i] ?? null;
      if (num === null) return { name, value: row.txts[i] ?? '' };
      return { name, value: row.bigs[i] ? BigInt(num) : Number(num) };
    }),
    material:
      row.material === null
        ? null
        : { kekId: row.material_kek_id!, algorithm: row.material_alg!, blob: row.material },
    revision: Number(row.revision),
    createdAt: Number(row.created_at),
  };
}

/** Builds Locate's SQL; `$n` placeholders are numbered as parameters are added. */
class LocateSql {
  readonly params: Param[] = [];

  param(v: Param | number | bigint): string {
    this.params.push(typeof v === 'bigint' ? v.toString() : v);
    return `$${this.params.length}`;
  }

  /** Condition on object_index alias `i` for one filter. */
  filter(f: LocateFilter): string {
    const name = `i.name = ${this.param(f.name)}`;
    if (f.op === 'eq') {
      if (typeof f.value === 'string') return `${name} AND i.txt = ${this.param(f.value)}`;
      return `${name} AND i.num = ${this.param(f.value.toString())}::int8`;
    }
    let sql = `${name} AND i.num IS NOT NULL`;
    if (f.min !== undefined) sql += ` AND i.num >= ${this.param(f.min.toString())}::int8`;
    if (f.max !== undefined) sql += ` AND i.num <= ${this.param(f.max.toString())}::int8`;
    return sql;
  }
}

/**
 * Each filter is a semi-join `o.seq IN (SELECT seq FROM object_index ...)`. PostgreSQL
 * plans semi-joins with the statistics of every filter, so it drives the query from the most
 * selective one (or from the owner index) and checks the others per candidate through
 * (name, value, seq), or hashes them; an object with several matching entries still comes
 * out once. Parameters are sent with each query (unnamed statements), so plans see the
 * actual values rather than a generic guess.
 */
function locateSql(q: LocateQuery, count = false): { sql: string; params: Param[] } {
  const b = new LocateSql();
  const where: string[] = [];
  if (q.owner !== undefined) where.push(`o.owner = ${b.param(q.owner)}`);
  for (const f of q.filters) {
    where.push(`o.seq IN (SELECT i.seq FROM object_index i WHERE ${b.filter(f)})`);
  }
  const cond = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  if (count) return { sql: `SELECT count(*)::int AS n FROM objects o${cond}`, params: b.params };
  const limit = b.param(q.limit ?? null);
  const offset = b.param(q.offset ?? 0);
  const order = q.newestFirst ? 'o.seq DESC' : 'o.seq';
  const sql = `SELECT o.uid FROM objects o${cond} ORDER BY ${order} LIMIT ${limit}::int8 OFFSET ${offset}::int8`;
  return { sql, params: b.params };
}

function isUidConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === UNIQUE_VIOLATION && e.constraint === UID_CONSTRAINT;
}

export class PostgresStore implements ObjectStore {
  readonly kind = 'postgres';
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schemaVersion: number,
  ) {}

  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10 });
    pool.on('error', (err) => opts.onIdleError?.(err));
    try {
      const version = await migrate(pool, opts.migrations ?? MIGRATIONS);
      return new PostgresStore(pool, version);
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  private open(): pg.Pool {
    if (this.closed) throw new KmipError(ResultReason.GeneralFailure, 'object store is closed');
    return this.pool;
  }

  /** Runs `fn` in a READ COMMITTED transaction on one pooled connection. */
  private async transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.open().connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e;
        });
        throw err;
      }
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: the pool discards it.
      client.release(broken);
    }
  }

  private async insertOne(c: pg.Pool | PoolClient, obj: StoredObject): Promise<void> {
    try {
      await c.query(INSERT_OBJECT, [...entryArrays(obj.index), ...objectRow(obj)]);
    } catch (err) {
      if (isUidConflict(err)) throw objectAlreadyExists(obj.uid);
      throw err;
    }
  }

  async insert(obj: StoredObject): Promise<void> {
    const pool = this.open();
    validateObject(obj);
    await this.insertOne(pool, obj);
  }

  /** Inserts many objects in one transaction (imports, benchmarks); all or nothing. */
  async insertBatch(objs: readonly StoredObject[]): Promise<void> {
    this.open();
    for (const obj of objs) validateObject(obj);
    await this.transaction(async (c) => {
      for (const obj of objs) await this.insertOne(c, obj);
    });
  }

  async get(uid: string): Promise<StoredObject | undefined> {
    const res = await this.open().query<ObjectRow>(SELECT_OBJECT, [uid]);
    const row = res.rows[0];
    return row && fromRow(row);
  }

  async update(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    this.open();
    validateObject(obj);
    return this.transaction(async (c) => {
      const res = await c.query<{ seq: string }>(UPDATE_OBJECT, [
        ...changedColumns(obj),
        obj.uid,
        expectedRevision,
      ]);
      const seq = res.rows[0]?.seq;
      if (seq === undefined) return false;
      await c.query('DELETE FROM object_index WHERE seq = $1', [seq]);
      await c.query(INSERT_ENTRIES, [seq, ...entryArrays(obj.index)]);
      return true;
    });
  }

  async replace(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    this.open();
    validateObject(obj);
    return this.transaction(async (c) => {
      // The old object's index entries go with it (ON DELETE CASCADE).
      const gone = await c.query('DELETE FROM objects WHERE uid = $1 AND revision = $2', [
        obj.uid,
        expectedRevision,
      ]);
      if ((gone.rowCount ?? 0) === 0) return false;
      await this.insertOne(c, obj);
      await c.query('UPDATE objects SET revision = $1 WHERE uid = $2', [
        expectedRevision + 1,
        obj.uid,
      ]);
      return true;
    });
  }

  async remove(uid: string): Promise<boolean> {
    const res = await this.open().query('DELETE FROM objects WHERE uid = $1', [uid]);
    return (res.rowCount ?? 0) > 0;
  }

  async locate(q: LocateQuery): Promise<string[]> {
    const pool = this.open();
    validateQuery(q);
    const { sql, params } = locateSql(q);
    const res = await pool.query<{ uid: string }>(sql, params);
    return res.rows.map((r) => r.uid);
  }

  async countMatches(q: LocateQuery): Promise<number> {
    const pool = this.open();
    validateQuery(q);
    const { sql, params } = locateSql(q, true);
    const res = await pool.query<{ n: number }>(sql, params);
    return res.rows[0]!.n;
  }

  /** The plan PostgreSQL picks for a Locate query (EXPLAIN text lines). */
  async explainLocate(q: LocateQuery): Promise<string[]> {
    const pool = this.open();
    validateQuery(q);
    const { sql, params } = locateSql(q);
    const res = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
    return res.rows.map((r) => r['QUERY PLAN']);
  }

  async count(): Promise<number> {
    const res = await this.open().query<{ n: number }>('SELECT count(*)::int AS n FROM objects');
    return res.rows[0]!.n;
  }

  /** The row comparison walks objects_material_kek (migration 2) from the last page's end. */
  async listWrapped(q: ListWrappedQuery): Promise<WrappedRef[]> {
    const pool = this.open();
    validateListWrapped(q);
    const where = ['material IS NOT NULL'];
    const params: Param[] = [];
    if (q.after !== undefined) {
      params.push(q.after.kekId, q.after.uid);
      where.push(`(material_kek_id, uid) > ($${params.length - 1}, $${params.length})`);
    }
    if (q.exceptKekId !== undefined) {
      params.push(q.exceptKekId);
      where.push(`material_kek_id <> $${params.length}`);
    }
    params.push(q.limit);
    const res = await pool.query<{ uid: string; kek_id: string }>(
      `SELECT uid, material_kek_id AS kek_id FROM objects WHERE ${where.join(' AND ')}
       ORDER BY material_kek_id, uid LIMIT $${params.length}`,
      params,
    );
    return res.rows.map((r) => ({ uid: r.uid, kekId: r.kek_id }));
  }

  async getSetting(name: string): Promise<Buffer | undefined> {
    const pool = this.open();
    validateSettingName(name);
    const res = await pool.query<{ value: Buffer }>('SELECT value FROM settings WHERE name = $1', [
      name,
    ]);
    return res.rows[0]?.value;
  }

  async putSetting(name: string, value: Buffer | undefined): Promise<void> {
    const pool = this.open();
    validateSettingName(name);
    if (value === undefined) {
      await pool.query('DELETE FROM settings WHERE name = $1', [name]);
      return;
    }
    await pool.query(
      `INSERT INTO settings (name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      [name, value],
    );
  }

  async settingNames(): Promise<string[]> {
    const res = await this.open().query<{ name: string }>(
      'SELECT name FROM settings ORDER BY name COLLATE "C"',
    );
    return res.rows.map((r) => r.name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

export function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  return PostgresStore.open(opts);
}
