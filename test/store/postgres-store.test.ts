// PostgreSQL-only behaviour: several kmipd nodes on one database, schema migrations under
// concurrent start, Locate query plans. Needs the Debian package postgresql; fails without.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import type { LocateQuery, StoredObject } from '../../src/store/object-store.js';
import { MIGRATIONS, type Migration } from '../../src/store/postgres-migrations.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres-store.js';
import { type PgCluster, startPgCluster } from '../helpers/pg-cluster.js';

const OBJECT_ALREADY_EXISTS = 0x18;

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPgCluster();
});
afterAll(async () => {
  await cluster?.stop();
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

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

/** Two stores with their own pools on one database, as two kmipd nodes would be. */
async function twoNodes(): Promise<[PostgresStore, PostgresStore, string]> {
  const url = await cluster.createDatabase();
  const a = await openPostgresStore({ url, poolSize: 8 });
  const b = await openPostgresStore({ url, poolSize: 8 });
  return [a, b, url];
}

describe('postgres store shared by two nodes', () => {
  it('shows an object inserted, updated or removed on one node to the other at once', async () => {
    const [a, b] = await twoNodes();
    try {
      await a.insert(obj('shared', 3));
      expect(await b.get('shared')).toEqual(obj('shared', 3));
      expect(await b.locate({ filters: [{ name: 'Name', op: 'eq', value: 'key-3' }] })).toEqual([
        'shared',
      ]);
      expect(await b.update({ ...obj('shared', 4), uid: 'shared' }, 1)).toBe(true);
      expect(await a.locate({ filters: [{ name: 'Name', op: 'eq', value: 'key-4' }] })).toEqual([
        'shared',
      ]);
      expect(await a.update(obj('shared', 5), 1)).toBe(false);
      expect(await a.remove('shared')).toBe(true);
      expect(await b.get('shared')).toBeUndefined();
      expect(await b.count()).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('shows a setting written or removed on one node to the other at once', async () => {
    const [a, b] = await twoNodes();
    try {
      await a.putSetting('s', Buffer.from('v1'));
      expect(await b.getSetting('s')).toEqual(Buffer.from('v1'));
      await b.putSetting('s', Buffer.from('v2'));
      expect(await a.getSetting('s')).toEqual(Buffer.from('v2'));
      await a.putSetting('s', undefined);
      expect(await b.getSetting('s')).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('loses no update when both nodes compare-and-swap one object concurrently', async () => {
    const [a, b] = await twoNodes();
    const WRITERS = 50;
    const counterObj = (n: number): StoredObject => {
      const attributes = Buffer.alloc(4);
      attributes.writeUInt32BE(n);
      return { ...obj('counter'), attributes, index: [{ name: 'Counter', value: n }] };
    };
    let conflicts = 0;
    const increment = async (store: PostgresStore): Promise<void> => {
      for (;;) {
        const cur = (await store.get('counter'))!;
        const next = counterObj(cur.attributes.readUInt32BE() + 1);
        if (await store.update(next, cur.revision)) return;
        conflicts++;
      }
    };
    try {
      await a.insert(counterObj(0));
      await Promise.all(Array.from({ length: WRITERS }, (_, i) => increment(i % 2 ? a : b)));
      for (const store of [a, b]) {
        const got = (await store.get('counter'))!;
        expect(got.attributes.readUInt32BE()).toBe(WRITERS);
        expect(got.revision).toBe(WRITERS + 1);
        expect(got.index).toEqual([{ name: 'Counter', value: WRITERS }]);
        expect(await store.locate({ filters: [{ name: 'Counter', op: 'range' }] })).toEqual([
          'counter',
        ]);
      }
      // The writers really raced: all of them read revision 1 before the first commit.
      expect(conflicts).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('lets exactly one node take a uid when both insert it at once', async () => {
    const [a, b, url] = await twoNodes();
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).insert({ ...obj('contested', i), owner: `node-${i}` }),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(19);
      for (const err of failed) {
        expect(err).toBeInstanceOf(KmipError);
        expect((err as KmipError).reason).toBe(OBJECT_ALREADY_EXISTS);
      }
      expect(await a.count()).toBe(1);
      // The losers' index entries were not written either.
      const entries = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM object_index');
      expect(entries).toEqual([{ n: obj('contested').index.length }]);

      await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).insert(obj(`u${i}`, i))),
      );
      const uids = await a.locate({ filters: [] });
      expect(uids).toHaveLength(41);
      expect(new Set(uids).size).toBe(41);
      expect(await b.locate({ filters: [] })).toEqual(uids);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('postgres store', () => {
  it('inserts a batch all or nothing', async () => {
    const s = await openPostgresStore({ url: await cluster.createDatabase() });
    try {
      await s.insert(obj('b', 1));
      await expect(s.insertBatch([obj('a', 0), obj('b', 1), obj('c', 2)])).rejects.toBeInstanceOf(
        KmipError,
      );
      expect(await s.locate({ filters: [] })).toEqual(['b']);
      await s.insertBatch([obj('a', 0), obj('c', 2)]);
      expect(await s.locate({ filters: [] })).toEqual(['b', 'a', 'c']);
    } finally {
      await s.close();
    }
  });

  it('stores index numbers as int8 and text byte-exact', async () => {
    const url = await cluster.createDatabase();
    const s = await openPostgresStore({ url });
    await s.insert({
      ...obj('x'),
      index: [
        { name: 'n', value: -(2n ** 63n) },
        { name: 't', value: 'É' },
      ],
    });
    await s.close();
    const rows = await sql<{ num: string | null; txt: string | null; t: string }>(
      url,
      'SELECT num::text, txt, pg_typeof(num)::text AS t FROM object_index ORDER BY pos',
    );
    expect(rows).toEqual([
      { num: '-9223372036854775808', txt: null, t: 'bigint' },
      { num: null, txt: 'É', t: 'bigint' },
    ]);
  });
});

describe('postgres schema migrations', () => {
  const addNote: Migration = {
    version: MIGRATIONS.at(-1)!.version + 1,
    name: 'test: note column',
    sql: 'ALTER TABLE objects ADD COLUMN note text',
  };
  const applied = (url: string) =>
    sql<{ version: number; name: string }>(
      url,
      'SELECT version, name FROM schema_migrations ORDER BY version',
    );
  const columns = async (url: string) =>
    (
      await sql<{ column_name: string }>(
        url,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'objects'",
      )
    ).map((c) => c.column_name);

  it('applies each migration once when several nodes open a new database at once', async () => {
    const url = await cluster.createDatabase();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore({ url, poolSize: 2 })),
    );
    try {
      for (const s of stores) expect(s.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
      expect(await applied(url)).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      );
      await stores[0]!.insert(obj('one', 1));
      expect(await stores[3]!.get('one')).toEqual(obj('one', 1));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('migrates a database at an older schema and keeps its data', async () => {
    const url = await cluster.createDatabase();
    const old = await openPostgresStore({ url });
    await old.insert(obj('kept', 4));
    await old.close();

    // ALTER TABLE ADD COLUMN fails when run twice, so the race would show.
    const [s, t] = await Promise.all([
      openPostgresStore({ url, migrations: [...MIGRATIONS, addNote] }),
      openPostgresStore({ url, migrations: [...MIGRATIONS, addNote] }),
    ]);
    expect([s.schemaVersion, t.schemaVersion]).toEqual([addNote.version, addNote.version]);
    expect(await s.get('kept')).toEqual(obj('kept', 4));
    await Promise.all([s.close(), t.close()]);
    expect((await applied(url)).map((m) => m.version)).toEqual([
      ...MIGRATIONS.map((m) => m.version),
      addNote.version,
    ]);
    expect(await columns(url)).toContain('note');
  });

  it('rolls back every pending migration when one fails', async () => {
    const url = await cluster.createDatabase();
    await (await openPostgresStore({ url })).close();
    const broken: Migration = {
      version: addNote.version + 1,
      name: 'test: broken',
      sql: 'SELECT * FROM no_such_table',
    };
    await expect(
      openPostgresStore({ url, migrations: [...MIGRATIONS, addNote, broken] }),
    ).rejects.toThrow(/no_such_table/);
    expect((await applied(url)).map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await columns(url)).not.toContain('note');
  });

  it('refuses a database written by a newer schema', async () => {
    const url = await cluster.createDatabase();
    await (await openPostgresStore({ url, migrations: [...MIGRATIONS, addNote] })).close();
    const err = await openPostgresStore({ url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipError);
    expect((err as KmipError).message).toMatch(/newer/);
  });
});

describe('postgres Locate query plans', () => {
  const N = 5000;
  let url: string;
  let store: PostgresStore;
  beforeAll(async () => {
    url = await cluster.createDatabase();
    store = await openPostgresStore({ url });
    await store.insertBatch(Array.from({ length: N }, (_, i) => obj(`u${i}`, i)));
    await store.insert({ ...obj('lonely', 1), owner: 'small' });
    await sql(url, 'ANALYZE');
  });
  afterAll(async () => {
    await store?.close();
  });

  /**
   * EXPLAIN text lists the plan depth first, so its first index or recheck condition
   * belongs to the scan that produces the first candidates: the driver.
   */
  const explain = async (q: LocateQuery): Promise<{ plan: string; driver: string }> => {
    const lines = await store.explainLocate(q);
    const plan = lines.join('\n');
    expect(plan).not.toMatch(/Seq Scan on object_index/);
    return { plan, driver: lines.find((l) => /(Index|Recheck) Cond:/.test(l)) ?? '' };
  };

  it('eq on text walks the text index', async () => {
    const q: LocateQuery = { filters: [{ name: 'Name', op: 'eq', value: 'key-7' }] };
    const { plan, driver } = await explain(q);
    expect(plan).toMatch(/Index (Only )?Scan using object_index_txt/);
    expect(driver).toMatch(/name = 'Name'.*txt = 'key-7'/);
    expect(await store.locate(q)).toEqual(['u7']);
  });

  it('a narrow range walks the number index', async () => {
    const q: LocateQuery = {
      filters: [{ name: 'InitialDate', op: 'range', min: 1_700_000_100, max: 1_700_000_119 }],
    };
    const { plan, driver } = await explain(q);
    expect(plan).toMatch(/(Index|Index Only|Bitmap Index) Scan (using|on) object_index_num/);
    expect(driver).toMatch(/name = 'InitialDate'.*num >= .*num <= /);
    expect(await store.locate(q)).toEqual(Array.from({ length: 20 }, (_, i) => `u${100 + i}`));
  });

  it('drives from the most selective filter, not the first listed', async () => {
    const q: LocateQuery = {
      owner: 'owner-3',
      filters: [
        { name: 'ObjectType', op: 'eq', value: 1 },
        { name: 'InitialDate', op: 'range', min: 1_700_000_000 },
        { name: 'Name', op: 'eq', value: 'key-10' },
      ],
    };
    const { plan, driver } = await explain(q);
    expect(driver).toMatch(/name = 'Name'.*txt = 'key-10'/);
    expect(plan).toMatch(/object_index_txt/);
    expect(await store.locate(q)).toEqual(['u10']);
  });

  it('drives from a narrow range rather than a broad eq listed first', async () => {
    const q: LocateQuery = {
      filters: [
        { name: 'ObjectType', op: 'eq', value: 1 },
        { name: 'InitialDate', op: 'range', min: 1_700_000_100, max: 1_700_000_119 },
      ],
    };
    const { plan, driver } = await explain(q);
    expect(driver).toMatch(/name = 'InitialDate'/);
    expect(plan).toMatch(/object_index_num/);
    expect(await store.locate(q)).toEqual(
      Array.from({ length: 20 }, (_, i) => 100 + i)
        .filter((i) => i % 3 === 1)
        .map((i) => `u${i}`),
    );
  });

  it('drives from the owner when it is the most selective', async () => {
    const q: LocateQuery = {
      owner: 'small',
      filters: [
        { name: 'ObjectType', op: 'eq', value: 1 },
        { name: 'CryptographicAlgorithm', op: 'eq', value: 1 },
      ],
    };
    const { plan, driver } = await explain(q);
    expect(driver).toMatch(/owner = 'small'/);
    expect(plan).toMatch(/objects_owner/);
    expect(await store.locate(q)).toEqual(['lonely']);
  });

  it('pages through a broad filter in insertion order without scanning the index table', async () => {
    const q: LocateQuery = {
      filters: [{ name: 'ObjectType', op: 'eq', value: 2 }],
      offset: 3,
      limit: 2,
    };
    await explain(q);
    expect(await store.locate(q)).toEqual(['u11', 'u14']);
  });
});
