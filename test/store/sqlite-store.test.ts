// SQLite-only behaviour: durability across reopen, schema migrations, Locate query plans.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import type { LocateQuery, StoredObject } from '../../src/store/object-store.js';
import { MIGRATIONS, type Migration } from '../../src/store/sqlite-migrations.js';
import { openSqliteStore, SQLITE_FILE_NAME } from '../../src/store/sqlite-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmipd-sqlite-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function obj(uid: string, i = 0): StoredObject {
  return {
    uid,
    owner: `owner-${i % 7}`,
    objectType: 2,
    state: 1,
    attributes: Buffer.from([i & 0xff]),
    index: [
      { name: 'Name', value: `key-${i}` },
      { name: 'ObjectType', value: i % 3 },
      { name: 'CryptographicAlgorithm', value: i % 5 },
      { name: 'InitialDate', value: BigInt(1_700_000_000 + i) },
    ],
    material: { kekId: 'k', algorithm: 'AES-256-GCM', blob: Buffer.from([i & 0xff]) },
    revision: 1,
    createdAt: 1_700_000_000_000 + i,
  };
}

function readMigrations(): { version: number; name: string }[] {
  const db = new BetterSqlite3(join(dir, SQLITE_FILE_NAME), { readonly: true });
  try {
    return db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as {
      version: number;
      name: string;
    }[];
  } finally {
    db.close();
  }
}

describe('sqlite store on disk', () => {
  it('keeps data across close and reopen', async () => {
    const a = await openSqliteStore({ path: dir });
    await a.insert(obj('one', 1));
    await a.insert(obj('two', 2));
    await a.update({ ...obj('two', 2), state: 3 }, 1);
    await a.close();
    const b = await openSqliteStore({ path: dir });
    expect(await b.count()).toBe(2);
    expect(await b.get('two')).toEqual({ ...obj('two', 2), state: 3, revision: 2 });
    expect(await b.locate({ filters: [{ name: 'Name', op: 'eq', value: 'key-1' }] })).toEqual([
      'one',
    ]);
    await b.close();
  });

  it('keeps settings across close and reopen, and shows them to a second connection', async () => {
    const a = await openSqliteStore({ path: dir });
    const b = await openSqliteStore({ path: dir });
    await a.putSetting('s', Buffer.from('v1'));
    expect(await b.getSetting('s')).toEqual(Buffer.from('v1'));
    await b.putSetting('s', Buffer.from('v2'));
    await b.putSetting('gone', Buffer.from('x'));
    await b.putSetting('gone', undefined);
    await Promise.all([a.close(), b.close()]);
    const c = await openSqliteStore({ path: dir });
    expect(await c.getSetting('s')).toEqual(Buffer.from('v2'));
    expect(await c.getSetting('gone')).toBeUndefined();
    await c.close();
  });

  it('reads an object without its index entries when asked to', async () => {
    const s = await openSqliteStore({ path: dir });
    await s.insert(obj('one', 1));
    expect(await s.get('one', { index: false })).toEqual({ ...obj('one', 1), index: [] });
    expect((await s.get('one'))?.index).toEqual(obj('one', 1).index);
    expect(await s.get('none', { index: false })).toBeUndefined();
    await s.close();
  });

  it('an update rewrites only the index entries that changed', async () => {
    const s = await openSqliteStore({ path: dir });
    const before = obj('u', 1);
    await s.insert(before);
    const index = [
      ...before.index.filter((e) => e.name !== 'CryptographicAlgorithm'),
      { name: 'State', value: 6 },
      { name: 'Name', value: 'second' },
      { name: 'Name', value: 'second' },
    ];
    expect(await s.update({ ...before, index }, 1)).toBe(true);
    const stored = (await s.get('u'))!.index;
    const sorted = (l: readonly { name: string; value: unknown }[]) =>
      l.map((e) => `${e.name}=${String(e.value)}:${typeof e.value}`).sort();
    expect(sorted(stored)).toEqual(sorted(index));
    await s.close();
    const db = new BetterSqlite3(join(dir, SQLITE_FILE_NAME), { readonly: true });
    const rows = db.prepare('SELECT pos, name FROM object_index ORDER BY pos').all();
    db.close();
    // Name key-1 (0), ObjectType (1) and InitialDate (3) kept their rows; algorithm (2) went.
    expect(rows).toEqual([
      { pos: 0, name: 'Name' },
      { pos: 1, name: 'ObjectType' },
      { pos: 3, name: 'InitialDate' },
      { pos: 4, name: 'State' },
      { pos: 5, name: 'Name' },
      { pos: 6, name: 'Name' },
    ]);
    const again = await openSqliteStore({ path: dir });
    expect(await again.locate({ filters: [{ name: 'Name', op: 'eq', value: 'second' }] })).toEqual([
      'u',
    ]);
    expect(
      await again.locate({ filters: [{ name: 'CryptographicAlgorithm', op: 'eq', value: 1 }] }),
    ).toEqual([]);
    await again.close();
  });

  it('creates its directory private and runs in WAL mode', async () => {
    const nested = join(dir, 'data', 'store');
    const s = await openSqliteStore({ path: nested });
    await s.close();
    expect(statSync(nested).mode & 0o777).toBe(0o700);
    const db = new BetterSqlite3(join(nested, SQLITE_FILE_NAME));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('inserts a batch all or nothing', async () => {
    const s = await openSqliteStore({ path: dir });
    await s.insert(obj('b', 1));
    await expect(s.insertBatch([obj('a', 0), obj('b', 1), obj('c', 2)])).rejects.toBeInstanceOf(
      KmipError,
    );
    expect(await s.locate({ filters: [] })).toEqual(['b']);
    await s.insertBatch([obj('a', 0), obj('c', 2)]);
    expect(await s.locate({ filters: [] })).toEqual(['b', 'a', 'c']);
    await s.close();
  });
});

describe('sqlite schema migrations', () => {
  const addNote: Migration = {
    version: MIGRATIONS.at(-1)!.version + 1,
    name: 'test: note column',
    sql: 'ALTER TABLE objects ADD COLUMN note TEXT',
  };

  it('records every migration on a new database', async () => {
    const s = await openSqliteStore({ path: dir });
    expect(s.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    await s.close();
    expect(readMigrations()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('migrates a database at an older schema and keeps its data', async () => {
    const old = await openSqliteStore({ path: dir });
    await old.insert(obj('kept', 4));
    await old.close();

    const s = await openSqliteStore({ path: dir, migrations: [...MIGRATIONS, addNote] });
    expect(s.schemaVersion).toBe(addNote.version);
    expect(await s.get('kept')).toEqual(obj('kept', 4));
    await s.close();
    expect(readMigrations().map((m) => m.version)).toEqual([
      ...MIGRATIONS.map((m) => m.version),
      addNote.version,
    ]);
    const db = new BetterSqlite3(join(dir, SQLITE_FILE_NAME), { readonly: true });
    const columns = (db.prepare('PRAGMA table_info(objects)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    db.close();
    expect(columns).toContain('note');

    // Reopening applies nothing twice (ALTER TABLE ADD COLUMN would fail the second time).
    const again = await openSqliteStore({ path: dir, migrations: [...MIGRATIONS, addNote] });
    await again.close();
  });

  it('rolls back every pending migration when one fails', async () => {
    const broken: Migration = {
      version: addNote.version + 1,
      name: 'test: broken',
      sql: 'SELECT * FROM no_such_table',
    };
    await (await openSqliteStore({ path: dir })).close();
    await expect(
      openSqliteStore({ path: dir, migrations: [...MIGRATIONS, addNote, broken] }),
    ).rejects.toThrow(/no_such_table/);
    expect(readMigrations().map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const db = new BetterSqlite3(join(dir, SQLITE_FILE_NAME), { readonly: true });
    const columns = (db.prepare('PRAGMA table_info(objects)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    db.close();
    expect(columns).not.toContain('note');
  });

  it('refuses a database written by a newer schema', async () => {
    await (await openSqliteStore({ path: dir, migrations: [...MIGRATIONS, addNote] })).close();
    const err = await openSqliteStore({ path: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipError);
    expect((err as KmipError).message).toMatch(/newer/);
  });
});

describe('sqlite Locate query plans', () => {
  const N = 3000;
  const plan = async (q: LocateQuery): Promise<string[]> => {
    const s = await openSqliteStore({ path: dir });
    try {
      if ((await s.count()) === 0) {
        await s.insertBatch(Array.from({ length: N }, (_, i) => obj(`u${i}`, i)));
      }
      return s.explainLocate(q);
    } finally {
      await s.close();
    }
  };
  const noScanOrSort = (lines: string[]) => {
    for (const line of lines) {
      expect(line).not.toMatch(/^SCAN/);
      expect(line).not.toMatch(/TEMP B-TREE/);
    }
  };

  it('eq on text walks the text index', async () => {
    const p = await plan({ filters: [{ name: 'Name', op: 'eq', value: 'key-7' }] });
    expect(p.join('\n')).toMatch(/object_index_txt \(name=\? AND txt=\?\)/);
    noScanOrSort(p);
  });

  it('a range walks the number index and needs no sort for insertion order', async () => {
    const p = await plan({
      filters: [{ name: 'InitialDate', op: 'range', min: 1_700_000_100, max: 1_700_000_200 }],
    });
    expect(p.join('\n')).toMatch(/object_index_num \(name=\? AND num>\? AND num<\?\)/);
    noScanOrSort(p);
  });

  it('drives from the most selective filter and checks the rest by primary key', async () => {
    const p = await plan({
      owner: 'owner-3',
      filters: [
        { name: 'ObjectType', op: 'eq', value: 1 },
        { name: 'InitialDate', op: 'range', min: 1_700_000_000 },
        { name: 'Name', op: 'eq', value: 'key-10' },
      ],
    });
    expect(p[0]).toMatch(/SEARCH d USING COVERING INDEX object_index_txt/);
    expect(p.filter((l) => /SEARCH x USING PRIMARY KEY \(seq=\?\)/.test(l))).toHaveLength(2);
    expect(p.join('\n')).not.toMatch(/objects_owner/);
    noScanOrSort(p);
  });

  it('drives from a narrow range rather than a broad eq listed first', async () => {
    const p = await plan({
      filters: [
        { name: 'ObjectType', op: 'eq', value: 1 },
        { name: 'InitialDate', op: 'range', min: 1_700_000_100, max: 1_700_000_200 },
      ],
    });
    expect(p.join('\n')).toMatch(
      /SEARCH d USING COVERING INDEX object_index_num \(name=\? AND num>\? AND num<\?\)/,
    );
    expect(p.join('\n')).toMatch(/SEARCH x USING PRIMARY KEY \(seq=\?\)/);
    noScanOrSort(p);
  });

  it('drives from the owner when it is the most selective', async () => {
    const s = await openSqliteStore({ path: dir });
    await s.insertBatch(
      Array.from({ length: N }, (_, i) => ({ ...obj(`u${i}`, i), owner: 'big' })),
    );
    await s.insert({ ...obj('lonely', 1), owner: 'small' });
    const p = s.explainLocate({
      owner: 'small',
      filters: [
        { name: 'ObjectType', op: 'eq', value: 1 },
        { name: 'CryptographicAlgorithm', op: 'eq', value: 1 },
      ],
    });
    expect(
      await s.locate({ owner: 'small', filters: [{ name: 'ObjectType', op: 'eq', value: 1 }] }),
    ).toEqual(['lonely']);
    await s.close();
    expect(p[0]).toMatch(/objects_owner \(owner=\?\)/);
    noScanOrSort(p);
  });
});
