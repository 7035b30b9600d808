// Schema migrations of the PostgreSQL object store. Versions only ever grow; a released
// migration is never edited, a change is a new entry. Pending migrations run in one
// transaction under an advisory lock, so several kmipd nodes starting at once apply each
// migration exactly once and a failure leaves the previous schema intact.

import type { Pool } from 'pg';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import type { Migration } from './sqlite-migrations.js';

export type { Migration };

/**
 * Key of the transaction-scoped advisory lock that serialises migrations across nodes
 * sharing a database; an arbitrary constant ('kmipd' in ASCII) that other applications on
 * the same database are unlikely to pick.
 */
export const MIGRATION_LOCK_KEY = 0x6b6d697064n;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'objects and locate index',
    // seq (bigserial) gives Locate its stable insertion order. Text columns use the "C"
    // collation: Locate's eq on text is byte-exact, whatever the database's locale. Index
    // entries of an object go with it (ON DELETE CASCADE). The two partial indexes serve
    // Locate's eq and range filters on numbers and on text and end in seq, so a filter
    // checked per candidate object is one index probe on (name, value, seq).
    // object_type and state are bigint because KMIP enumerations are unsigned 32-bit.
    sql: `
      CREATE TABLE objects (
        seq bigserial PRIMARY KEY,
        uid text COLLATE "C" NOT NULL UNIQUE,
        owner text COLLATE "C" NOT NULL,
        object_type bigint NOT NULL,
        state bigint NOT NULL,
        attributes bytea NOT NULL,
        material bytea,
        material_kek_id text,
        material_alg text,
        revision bigint NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE INDEX objects_owner ON objects (owner, seq);
      CREATE TABLE object_index (
        seq bigint NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,
        pos integer NOT NULL,
        name text COLLATE "C" NOT NULL,
        num bigint,
        txt text COLLATE "C",
        is_bigint boolean NOT NULL DEFAULT false,
        PRIMARY KEY (seq, pos)
      );
      CREATE INDEX object_index_num ON object_index (name, num, seq) WHERE num IS NOT NULL;
      CREATE INDEX object_index_txt ON object_index (name, txt, seq) WHERE txt IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: 'objects by key-encryption key',
    // KEK rotation pages through (material_kek_id, uid) from a cursor; objects already under
    // the new KEK form one contiguous run that a walk crosses once. The "C" collation makes
    // the order byte order, as in the other stores. Destroyed objects (no material) have
    // nothing to re-wrap and stay out of the index.
    sql: `
      ALTER TABLE objects ALTER COLUMN material_kek_id TYPE text COLLATE "C";
      CREATE INDEX objects_material_kek ON objects (material_kek_id, uid)
        WHERE material IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'server settings',
    // Server-wide values by name (the Set Constraints list), opaque to the store.
    sql: `
      CREATE TABLE settings (
        name text COLLATE "C" PRIMARY KEY,
        value bytea NOT NULL
      );
    `,
  },
];

function schemaError(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

/** Applies pending migrations in order; returns the schema version afterwards. */
export async function migrate(
  pool: Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number> {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version <= migrations[i - 1]!.version) {
      throw schemaError('migrations are not in ascending version order');
    }
  }
  const latest = migrations.at(-1)?.version ?? 0;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      // Held until COMMIT or ROLLBACK; a second node waits here, then sees the work done.
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at bigint NOT NULL
      )`);
      const res = await client.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM schema_migrations',
      );
      const current = res.rows[0]?.v ?? 0;
      if (current > latest) {
        throw schemaError(
          `database schema version ${current} is newer than this kmipd supports (${latest})`,
        );
      }
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query(m.sql);
        await client.query(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
          [m.version, m.name, Date.now()],
        );
      }
      await client.query('COMMIT');
      return Math.max(current, latest);
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw err;
    }
  } finally {
    client.release(broken);
  }
}
