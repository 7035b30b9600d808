// Schema migrations of the SQLite object store. Versions only ever grow; a released
// migration is never edited, a change is a new entry. All pending migrations run in one
// IMMEDIATE transaction at open, so a failure leaves the previous schema intact.

import type { Database } from 'better-sqlite3';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'objects and locate index',
    // seq gives Locate its stable insertion order. object_index is clustered on (seq, pos)
    // so one object's entries are adjacent; the two partial indexes serve Locate's eq and
    // range filters on numbers and on text, and end in seq so an eq match comes out in
    // insertion order without a sort.
    sql: `
      CREATE TABLE objects (
        seq INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        object_type INTEGER NOT NULL,
        state INTEGER NOT NULL,
        attributes BLOB NOT NULL,
        material BLOB,
        material_kek_id TEXT,
        material_alg TEXT,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX objects_owner ON objects (owner);
      CREATE TABLE object_index (
        seq INTEGER NOT NULL,
        pos INTEGER NOT NULL,
        name TEXT NOT NULL,
        num INTEGER,
        txt TEXT,
        is_bigint INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (seq, pos)
      ) WITHOUT ROWID;
      CREATE INDEX object_index_num ON object_index (name, num, seq) WHERE num IS NOT NULL;
      CREATE INDEX object_index_txt ON object_index (name, txt, seq) WHERE txt IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: 'objects by key-encryption key',
    // KEK rotation pages through (material_kek_id, uid) from a cursor; objects already under
    // the new KEK form one contiguous run that a walk crosses once. Destroyed objects (no
    // material) have nothing to re-wrap and stay out of the index.
    sql: `
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
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

function schemaError(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

/** Applies pending migrations in order; returns the schema version afterwards. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version <= migrations[i - 1]!.version) {
      throw schemaError('migrations are not in ascending version order');
    }
  }
  const latest = migrations.at(-1)?.version ?? 0;
  const run = db.transaction((): number => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const current =
      (db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number | null) ??
      0;
    if (current > latest) {
      throw schemaError(
        `database schema version ${current} is newer than this kmipd supports (${latest})`,
      );
    }
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }
    return Math.max(current, latest);
  });
  return run.immediate();
}
