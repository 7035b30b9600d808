// One behavioural suite for every ObjectStore implementation.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import type {
  IndexEntry,
  LocateQuery,
  ObjectStore,
  StoredObject,
} from '../../src/store/object-store.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { type PgCluster, startPgCluster } from '../helpers/pg-cluster.js';

const OBJECT_ALREADY_EXISTS = 0x18;

interface Factory {
  open(): Promise<ObjectStore>;
  cleanup(): void;
}

function sqliteFactory(writerThread = false): Factory {
  let dir = '';
  return {
    async open() {
      dir = mkdtempSync(join(tmpdir(), 'kmipd-store-'));
      return openSqliteStore({ path: dir, writerThread });
    },
    cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function memoryFactory(): Factory {
  return { open: async () => openMemoryStore(), cleanup() {} };
}

// One throwaway cluster for the file, started by the first postgres test; a fresh database
// per test.
let cluster: Promise<PgCluster> | undefined;
afterAll(async () => {
  await (await cluster)?.stop();
});

function postgresFactory(): Factory {
  return {
    async open() {
      cluster ??= startPgCluster();
      const url = await (await cluster).createDatabase();
      return openPostgresStore({ url, poolSize: 4 });
    },
    cleanup() {},
  };
}

function obj(uid: string, over: Partial<StoredObject> = {}): StoredObject {
  return {
    uid,
    owner: 'alice',
    objectType: 2,
    state: 1,
    attributes: Buffer.from(`attrs-of-${uid}`),
    index: [],
    material: { kekId: 'k1', algorithm: 'AES-256-GCM', blob: Buffer.from([1, 2, 3, uid.length]) },
    revision: 1,
    createdAt: 1_700_000_000_000,
    ...over,
  };
}

describe.each([
  { kind: 'sqlite', make: () => sqliteFactory() },
  { kind: 'sqlite with a writer thread', make: () => sqliteFactory(true) },
  { kind: 'memory', make: memoryFactory },
  { kind: 'postgres', make: postgresFactory },
])('ObjectStore behaviour: $kind', ({ make }) => {
  let factory: Factory;
  let store: ObjectStore;

  beforeEach(async () => {
    factory = make();
    store = await factory.open();
  });
  afterEach(async () => {
    await store.close();
    factory.cleanup();
  });

  async function insertAll(...objs: StoredObject[]): Promise<void> {
    for (const o of objs) await store.insert(o);
  }

  describe('insert and get', () => {
    it('returns what was inserted, with revision 1', async () => {
      const o = obj('a', {
        index: [
          { name: 'Name', value: 'k' },
          { name: 'CryptographicLength', value: 256 },
          { name: 'InitialDate', value: 1_700_000_000n },
        ],
        revision: 7,
      });
      await store.insert(o);
      expect(await store.get('a')).toEqual({ ...o, revision: 1 });
      expect(await store.count()).toBe(1);
    });

    it('keeps number and bigint index values distinct on the way out', async () => {
      await store.insert(
        obj('a', {
          index: [
            { name: 'n', value: 5 },
            { name: 'b', value: 5n },
            { name: 'max', value: 2n ** 63n - 1n },
            { name: 'min', value: -(2n ** 63n) },
            { name: 'neg', value: -42 },
            { name: 's', value: '5' },
          ],
        }),
      );
      const got = await store.get('a');
      expect(got?.index).toEqual([
        { name: 'n', value: 5 },
        { name: 'b', value: 5n },
        { name: 'max', value: 2n ** 63n - 1n },
        { name: 'min', value: -(2n ** 63n) },
        { name: 'neg', value: -42 },
        { name: 's', value: '5' },
      ]);
      expect(typeof got?.index[0]?.value).toBe('number');
      expect(typeof got?.index[1]?.value).toBe('bigint');
    });

    it('stores null material', async () => {
      await store.insert(obj('a', { material: null }));
      expect((await store.get('a'))?.material).toBeNull();
    });

    it('rejects a duplicate uid with Object Already Exists and keeps the first', async () => {
      await store.insert(obj('a', { owner: 'alice' }));
      const err = await store.insert(obj('a', { owner: 'bob' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KmipError);
      expect((err as KmipError).reason).toBe(OBJECT_ALREADY_EXISTS);
      expect((await store.get('a'))?.owner).toBe('alice');
      expect(await store.count()).toBe(1);
    });

    it('answers undefined for an unknown uid', async () => {
      expect(await store.get('nope')).toBeUndefined();
    });

    it('rejects index values outside the signed 64-bit range and unsafe numbers', async () => {
      await expect(
        store.insert(obj('a', { index: [{ name: 'x', value: 2n ** 63n }] })),
      ).rejects.toBeInstanceOf(KmipError);
      await expect(
        store.insert(obj('b', { index: [{ name: 'x', value: 1.5 }] })),
      ).rejects.toBeInstanceOf(KmipError);
      expect(await store.count()).toBe(0);
    });

    it('cannot be mutated through the inserted or returned object', async () => {
      const o = obj('a', { index: [{ name: 'Name', value: 'k' }] });
      await store.insert(o);
      o.attributes[0] = 0;
      o.index[0]!.value = 'changed';
      o.material!.blob[0] = 99;
      const got = (await store.get('a'))!;
      got.attributes[1] = 0;
      got.index.push({ name: 'Name', value: 'x' });
      got.material!.blob[1] = 99;
      const again = (await store.get('a'))!;
      expect(again.attributes.toString()).toBe('attrs-of-a');
      expect(again.index).toEqual([{ name: 'Name', value: 'k' }]);
      expect([...again.material!.blob]).toEqual([1, 2, 3, 1]);
    });
  });

  describe('update', () => {
    it('replaces state, attributes, index and material and bumps the revision', async () => {
      await store.insert(obj('a', { index: [{ name: 'Name', value: 'old' }] }));
      const next = obj('a', {
        state: 2,
        attributes: Buffer.from('new'),
        index: [{ name: 'Name', value: 'new' }],
        material: null,
      });
      expect(await store.update(next, 1)).toBe(true);
      const got = await store.get('a');
      expect(got).toEqual({ ...next, revision: 2 });
      expect(await store.locate({ filters: [{ name: 'Name', op: 'eq', value: 'old' }] })).toEqual(
        [],
      );
      expect(await store.locate({ filters: [{ name: 'Name', op: 'eq', value: 'new' }] })).toEqual([
        'a',
      ]);
    });

    it('never changes owner, object type or creation time', async () => {
      await store.insert(obj('a'));
      await store.update(obj('a', { owner: 'mallory', objectType: 7, createdAt: 5 }), 1);
      const got = await store.get('a');
      expect([got?.owner, got?.objectType, got?.createdAt]).toEqual([
        'alice',
        2,
        1_700_000_000_000,
      ]);
    });

    it('is a compare-and-swap on the revision', async () => {
      await store.insert(obj('a'));
      expect(await store.update(obj('a', { state: 2 }), 1)).toBe(true);
      // A second writer that read revision 1 loses.
      expect(await store.update(obj('a', { state: 3 }), 1)).toBe(false);
      expect((await store.get('a'))?.state).toBe(2);
      expect(await store.update(obj('a', { state: 3 }), 2)).toBe(true);
      expect(await store.get('a')).toMatchObject({ state: 3, revision: 3 });
    });

    it('answers false for an unknown uid', async () => {
      expect(await store.update(obj('ghost'), 1)).toBe(false);
      expect(await store.count()).toBe(0);
    });
  });

  describe('replace', () => {
    it('swaps type, owner, material and index atomically, as a compare-and-swap', async () => {
      await store.insert(obj('a', { index: [{ name: 'Name', value: 'old' }] }));
      await store.update(obj('a', { state: 2, index: [{ name: 'Name', value: 'old' }] }), 1);
      const next = obj('a', {
        owner: 'bob',
        objectType: 7,
        state: 3,
        attributes: Buffer.from('replaced'),
        index: [{ name: 'Name', value: 'new' }],
        material: { kekId: 'k2', algorithm: 'AES-256-GCM', blob: Buffer.from([9]) },
      });
      expect(await store.replace(next, 1)).toBe(false); // read before the update: loses
      expect(await store.replace(next, 2)).toBe(true);
      expect(await store.get('a')).toEqual({ ...next, revision: 3 });
      expect(await store.count()).toBe(1);
      expect(await store.locate({ filters: [{ name: 'Name', op: 'eq', value: 'old' }] })).toEqual(
        [],
      );
      expect(await store.locate({ filters: [{ name: 'Name', op: 'eq', value: 'new' }] })).toEqual([
        'a',
      ]);
      expect(await store.replace(obj('ghost'), 1)).toBe(false);
      expect(await store.count()).toBe(1);
    });
  });

  describe('remove', () => {
    it('deletes the object and its index entries', async () => {
      await insertAll(
        obj('a', { index: [{ name: 'Name', value: 'k' }] }),
        obj('b', { index: [{ name: 'Name', value: 'k' }] }),
      );
      expect(await store.remove('a')).toBe(true);
      expect(await store.remove('a')).toBe(false);
      expect(await store.get('a')).toBeUndefined();
      expect(await store.count()).toBe(1);
      expect(await store.locate({ filters: [{ name: 'Name', op: 'eq', value: 'k' }] })).toEqual([
        'b',
      ]);
    });

    it('frees the uid for a new object, which sorts after existing ones', async () => {
      await insertAll(obj('a'), obj('b'));
      await store.remove('a');
      await store.insert(obj('a', { owner: 'bob' }));
      expect((await store.get('a'))?.owner).toBe('bob');
      expect(await store.locate({ filters: [] })).toEqual(['b', 'a']);
    });
  });

  describe('locate', () => {
    const e = (name: string, value: IndexEntry['value']): IndexEntry => ({ name, value });
    beforeEach(async () => {
      // Inserted in an order unrelated to names, dates or uids.
      await insertAll(
        obj('u3', {
          owner: 'alice',
          index: [e('Name', 'db'), e('ObjectType', 2), e('Alg', 3), e('Date', 300n)],
        }),
        obj('u1', {
          owner: 'bob',
          index: [e('Name', 'web'), e('ObjectType', 2), e('Alg', 4), e('Date', 100n)],
        }),
        obj('u9', {
          owner: 'alice',
          index: [e('Name', 'web'), e('Name', 'www'), e('ObjectType', 4), e('Date', 200n)],
        }),
        obj('u2', {
          owner: 'alice',
          index: [e('Name', 'api'), e('ObjectType', 2), e('Alg', 3), e('x-Custom', 'blue')],
        }),
        obj('u5', {
          owner: 'bob',
          index: [e('Name', 'db'), e('ObjectType', 2), e('Alg', 3), e('Date', 250)],
        }),
      );
    });

    const q = (filters: LocateQuery['filters'], extra: Partial<LocateQuery> = {}) =>
      store.locate({ filters, ...extra });

    it('with no filters returns every object in insertion order', async () => {
      expect(await q([])).toEqual(['u3', 'u1', 'u9', 'u2', 'u5']);
    });

    it('eq on text', async () => {
      expect(await q([{ name: 'Name', op: 'eq', value: 'db' }])).toEqual(['u3', 'u5']);
      expect(await q([{ name: 'x-Custom', op: 'eq', value: 'blue' }])).toEqual(['u2']);
      expect(await q([{ name: 'Name', op: 'eq', value: 'DB' }])).toEqual([]);
    });

    it('eq on a name with several entries matches any of them', async () => {
      expect(await q([{ name: 'Name', op: 'eq', value: 'www' }])).toEqual(['u9']);
      expect(await q([{ name: 'Name', op: 'eq', value: 'web' }])).toEqual(['u1', 'u9']);
    });

    it('eq on numbers compares numerically across number and bigint', async () => {
      expect(await q([{ name: 'ObjectType', op: 'eq', value: 4 }])).toEqual(['u9']);
      expect(await q([{ name: 'ObjectType', op: 'eq', value: 4n }])).toEqual(['u9']);
      expect(await q([{ name: 'Date', op: 'eq', value: 250n }])).toEqual(['u5']);
      expect(await q([{ name: 'Date', op: 'eq', value: 300 }])).toEqual(['u3']);
    });

    it('a string never equals a number', async () => {
      expect(await q([{ name: 'ObjectType', op: 'eq', value: '2' }])).toEqual([]);
    });

    it('range is inclusive, open-ended on either side, and ignores text entries', async () => {
      expect(await q([{ name: 'Date', op: 'range', min: 200, max: 300n }])).toEqual([
        'u3',
        'u9',
        'u5',
      ]);
      expect(await q([{ name: 'Date', op: 'range', min: 201n }])).toEqual(['u3', 'u5']);
      expect(await q([{ name: 'Date', op: 'range', max: 200 }])).toEqual(['u1', 'u9']);
      expect(await q([{ name: 'Date', op: 'range' }])).toEqual(['u3', 'u1', 'u9', 'u5']);
      expect(await q([{ name: 'Name', op: 'range' }])).toEqual([]);
      expect(await q([{ name: 'Date', op: 'range', min: 301 }])).toEqual([]);
    });

    it('returns an object once when several of its entries match a range', async () => {
      await store.insert(obj('multi', { index: [e('Date', 210), e('Date', 220), e('Date', 230)] }));
      expect(await q([{ name: 'Date', op: 'range', min: 205, max: 235 }])).toEqual(['multi']);
    });

    it('returns an object once when it holds the same entry twice', async () => {
      await store.insert(obj('twice', { index: [e('Name', 'dup'), e('Name', 'dup')] }));
      await store.insert(obj('after', { index: [e('Name', 'dup')] }));
      expect(await q([{ name: 'Name', op: 'eq', value: 'dup' }])).toEqual(['twice', 'after']);
    });

    it('ANDs several filters', async () => {
      expect(
        await q([
          { name: 'ObjectType', op: 'eq', value: 2 },
          { name: 'Alg', op: 'eq', value: 3 },
        ]),
      ).toEqual(['u3', 'u2', 'u5']);
      expect(
        await q([
          { name: 'ObjectType', op: 'eq', value: 2 },
          { name: 'Alg', op: 'eq', value: 3 },
          { name: 'Date', op: 'range', min: 260 },
        ]),
      ).toEqual(['u3']);
      expect(
        await q([
          { name: 'Name', op: 'eq', value: 'web' },
          { name: 'Date', op: 'range', min: 150 },
        ]),
      ).toEqual(['u9']);
      expect(
        await q([
          { name: 'Name', op: 'eq', value: 'api' },
          { name: 'Date', op: 'range' },
        ]),
      ).toEqual([]);
    });

    it('scopes to an owner', async () => {
      expect(await q([], { owner: 'bob' })).toEqual(['u1', 'u5']);
      expect(await q([{ name: 'Name', op: 'eq', value: 'db' }], { owner: 'alice' })).toEqual([
        'u3',
      ]);
      expect(
        await q(
          [
            { name: 'ObjectType', op: 'eq', value: 2 },
            { name: 'Date', op: 'range', max: 1000 },
          ],
          { owner: 'bob' },
        ),
      ).toEqual(['u1', 'u5']);
      expect(await q([], { owner: 'carol' })).toEqual([]);
    });

    it('pages with offset and limit over the stable order', async () => {
      const all = await q([{ name: 'ObjectType', op: 'eq', value: 2 }]);
      expect(all).toEqual(['u3', 'u1', 'u2', 'u5']);
      const pages: string[] = [];
      for (let offset = 0; offset < 6; offset += 3) {
        pages.push(
          ...(await q([{ name: 'ObjectType', op: 'eq', value: 2 }], { offset, limit: 3 })),
        );
      }
      expect(pages).toEqual(all);
      expect(await q([], { limit: 0 })).toEqual([]);
      expect(await q([], { offset: 4 })).toEqual(['u5']);
      expect(await q([], { offset: 10 })).toEqual([]);
      expect(
        await q([{ name: 'Date', op: 'range' }], { owner: 'alice', offset: 1, limit: 1 }),
      ).toEqual(['u9']);
    });

    it('newest first reverses the order before offset and limit apply', async () => {
      const type2 = [{ name: 'ObjectType', op: 'eq', value: 2 } as const];
      expect(await q(type2, { newestFirst: true })).toEqual(['u5', 'u2', 'u1', 'u3']);
      expect(await q(type2, { newestFirst: true, offset: 1, limit: 2 })).toEqual(['u2', 'u1']);
      expect(await q([], { newestFirst: true, limit: 2 })).toEqual(['u5', 'u2']);
      expect(
        await q([{ name: 'Date', op: 'range', min: 150 }], { newestFirst: true, owner: 'alice' }),
      ).toEqual(['u9', 'u3']);
    });

    it('counts every match, whatever the page', async () => {
      const count = (filters: LocateQuery['filters'], extra: Partial<LocateQuery> = {}) =>
        store.countMatches({ filters, ...extra });
      expect(await count([])).toBe(5);
      expect(await count([{ name: 'ObjectType', op: 'eq', value: 2 }], { limit: 1 })).toBe(4);
      expect(await count([{ name: 'Name', op: 'eq', value: 'web' }])).toBe(2);
      expect(await count([{ name: 'Date', op: 'range', min: 150 }], { owner: 'bob' })).toBe(1);
      expect(await count([{ name: 'Name', op: 'eq', value: 'none' }])).toBe(0);
      await store.insert(obj('twice', { index: [e('Name', 'web'), e('Name', 'web')] }));
      expect(await count([{ name: 'Name', op: 'eq', value: 'web' }])).toBe(3);
    });

    it('keeps insertion order after updates', async () => {
      await store.update(obj('u3', { index: [e('ObjectType', 2), e('Date', 1n)] }), 1);
      expect(await q([{ name: 'ObjectType', op: 'eq', value: 2 }])).toEqual([
        'u3',
        'u1',
        'u2',
        'u5',
      ]);
    });

    it('rejects a negative or fractional offset or limit', async () => {
      await expect(q([], { offset: -1 })).rejects.toBeInstanceOf(KmipError);
      await expect(q([], { limit: 1.5 })).rejects.toBeInstanceOf(KmipError);
    });
  });

  describe('listWrapped', () => {
    const wrapped = (uid: string, kekId: string) =>
      obj(uid, { material: { kekId, algorithm: 'AES-256-GCM', blob: Buffer.from(uid) } });

    beforeEach(async () => {
      await insertAll(
        wrapped('u3', 'k2'),
        wrapped('u1', 'k1'),
        wrapped('u2', 'k2'),
        obj('destroyed', { material: null }),
        wrapped('u0', 'k3'),
        wrapped('u4', 'k1'),
      );
    });

    it('lists objects with material by (kekId, uid), destroyed ones left out', async () => {
      expect(await store.listWrapped({ limit: 100 })).toEqual([
        { uid: 'u1', kekId: 'k1' },
        { uid: 'u4', kekId: 'k1' },
        { uid: 'u2', kekId: 'k2' },
        { uid: 'u3', kekId: 'k2' },
        { uid: 'u0', kekId: 'k3' },
      ]);
    });

    it('leaves out one KEK and pages from a cursor across it', async () => {
      const page1 = await store.listWrapped({ exceptKekId: 'k2', limit: 2 });
      expect(page1).toEqual([
        { uid: 'u1', kekId: 'k1' },
        { uid: 'u4', kekId: 'k1' },
      ]);
      const page2 = await store.listWrapped({ exceptKekId: 'k2', after: page1[1], limit: 2 });
      expect(page2).toEqual([{ uid: 'u0', kekId: 'k3' }]);
      expect(await store.listWrapped({ exceptKekId: 'k2', after: page2[0], limit: 2 })).toEqual([]);
    });

    it('follows re-wrapping and destruction through update', async () => {
      const u1 = (await store.get('u1'))!;
      await store.update(
        { ...u1, material: { kekId: 'k2', algorithm: 'AES-256-GCM', blob: Buffer.from('x') } },
        u1.revision,
      );
      const u4 = (await store.get('u4'))!;
      await store.update({ ...u4, material: null }, u4.revision);
      expect(await store.listWrapped({ exceptKekId: 'k2', limit: 10 })).toEqual([
        { uid: 'u0', kekId: 'k3' },
      ]);
    });

    it('a cursor between entries of one KEK starts at the next uid', async () => {
      expect(await store.listWrapped({ after: { kekId: 'k2', uid: 'u25' }, limit: 10 })).toEqual([
        { uid: 'u3', kekId: 'k2' },
        { uid: 'u0', kekId: 'k3' },
      ]);
    });

    it('rejects a limit that is not a positive integer', async () => {
      await expect(store.listWrapped({ limit: 0 })).rejects.toBeInstanceOf(KmipError);
      await expect(store.listWrapped({ limit: 1.5 })).rejects.toBeInstanceOf(KmipError);
    });
  });

  describe('settings', () => {
    it('are unset until written, then read back byte for byte', async () => {
      expect(await store.getSetting('s')).toBeUndefined();
      await store.putSetting('s', Buffer.from([0, 1, 2, 0xff]));
      expect(await store.getSetting('s')).toEqual(Buffer.from([0, 1, 2, 0xff]));
      expect(await store.getSetting('other')).toBeUndefined();
    });

    it('a write replaces the value; undefined removes it', async () => {
      await store.putSetting('s', Buffer.from('first'));
      await store.putSetting('t', Buffer.from('kept'));
      await store.putSetting('s', Buffer.from('second, longer'));
      expect(await store.getSetting('s')).toEqual(Buffer.from('second, longer'));
      await store.putSetting('s', undefined);
      expect(await store.getSetting('s')).toBeUndefined();
      await store.putSetting('s', undefined);
      expect(await store.getSetting('t')).toEqual(Buffer.from('kept'));
    });

    it('are listed by name, sorted, only while they have a value', async () => {
      expect(await store.settingNames()).toEqual([]);
      await store.putSetting('b.two', Buffer.from('2'));
      await store.putSetting('a.one', Buffer.alloc(0));
      await store.putSetting('c.three', Buffer.from('3'));
      await store.putSetting('c.three', undefined);
      expect(await store.settingNames()).toEqual(['a.one', 'b.two']);
    });

    it('hold an empty value, distinct from none', async () => {
      await store.putSetting('s', Buffer.alloc(0));
      expect(await store.getSetting('s')).toEqual(Buffer.alloc(0));
    });

    it('cannot be changed through the written or returned buffer', async () => {
      const value = Buffer.from('abc');
      await store.putSetting('s', value);
      value.fill(0);
      (await store.getSetting('s'))!.fill(0);
      expect(await store.getSetting('s')).toEqual(Buffer.from('abc'));
    });

    it('are apart from objects', async () => {
      await store.putSetting('s', Buffer.from('v'));
      expect(await store.count()).toBe(0);
      expect(await store.locate({ filters: [] })).toEqual([]);
    });

    it('refuse an empty name', async () => {
      await expect(store.getSetting('')).rejects.toBeInstanceOf(KmipError);
      await expect(store.putSetting('', Buffer.from('v'))).rejects.toBeInstanceOf(KmipError);
    });
  });

  it('refuses work once closed', async () => {
    await store.close();
    await expect(store.get('a')).rejects.toBeInstanceOf(KmipError);
    await expect(store.insert(obj('a'))).rejects.toBeInstanceOf(KmipError);
    await expect(store.getSetting('s')).rejects.toBeInstanceOf(KmipError);
    await expect(store.putSetting('s', Buffer.from('v'))).rejects.toBeInstanceOf(KmipError);
    await store.close();
  });
});
