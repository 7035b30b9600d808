// Group commit in the SQLite store (src/store/group-commit.ts): writes queued in one
// event-loop turn share a transaction, yet each promise settles only once its write is
// committed, a failing write fails only its caller, and compare-and-swap behaves as if the
// writes had run one after another.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import type { StoredObject } from '../../src/store/object-store.js';
import {
  openSqliteStore,
  SQLITE_FILE_NAME,
  type SqliteStore,
} from '../../src/store/sqlite-store.js';

let dir: string;
let store: SqliteStore;
/** A second connection: it sees only what the store has committed. */
let reader: Database;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmipd-group-commit-'));
  store = await openSqliteStore({ path: dir });
  reader = new BetterSqlite3(join(dir, SQLITE_FILE_NAME), { readonly: true });
});
afterEach(async () => {
  reader.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function obj(uid: string, state = 1): StoredObject {
  return {
    uid,
    owner: 'alice',
    objectType: 2,
    state,
    attributes: Buffer.from(uid),
    index: [{ name: 'Name', value: `name-${uid}` }],
    material: { kekId: 'k', algorithm: 'AES-256-GCM', blob: Buffer.from([1, 2, 3]) },
    revision: 1,
    createdAt: 1_700_000_000_000,
  };
}

const committed = (uid: string) =>
  reader.prepare('SELECT state, revision FROM objects WHERE uid = ?').get(uid) as
    | { state: number; revision: number }
    | undefined;

const commits = () => (reader.prepare('PRAGMA data_version').pluck().get() as number) ?? 0;

describe('SQLite group commit', () => {
  it('resolves each of many concurrent inserts only once another connection can read it', async () => {
    const uids = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const seen: boolean[] = [];
    await Promise.all(
      uids.map((u) =>
        store.insert(obj(u)).then(() => {
          seen.push(committed(u) !== undefined);
        }),
      ),
    );
    expect(seen).toHaveLength(200);
    expect(seen.every(Boolean)).toBe(true);
    // Nothing was visible before the turn ended, and the batch was one transaction.
    expect(await store.count()).toBe(200);
  });

  it('commits writes queued in one turn together, not one transaction each', async () => {
    const before = commits();
    const pending = Array.from({ length: 50 }, (_, i) => store.insert(obj(`g${i}`)));
    // Queued, not yet committed: the other connection sees none of them.
    expect(committed('g0')).toBeUndefined();
    expect(committed('g49')).toBeUndefined();
    await Promise.all(pending);
    // data_version moves once per commit by another connection that the reader observes.
    expect(commits() - before).toBe(1);
  });

  it('resolves concurrent updates only once the new revision is readable', async () => {
    const uids = Array.from({ length: 50 }, (_, i) => `v${i}`);
    await Promise.all(uids.map((u) => store.insert(obj(u))));
    const states: Array<{ state: number; revision: number } | undefined> = [];
    const results = await Promise.all(
      uids.map((u) =>
        store.update(obj(u, 2), 1).then((ok) => {
          states.push(committed(u));
          return ok;
        }),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
    expect(states.every((s) => s?.state === 2 && s.revision === 2)).toBe(true);
  });

  it('fails only the duplicate insert in the middle of a batch', async () => {
    await store.insert(obj('dup'));
    const outcomes = await Promise.allSettled([
      store.insert(obj('a')),
      store.insert(obj('b')),
      store.insert(obj('dup')),
      store.insert(obj('c')),
      store.insert(obj('c')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
    ]);
    const err = (outcomes[2] as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(KmipError);
    expect((err as KmipError).reason).toBe(0x18);
    for (const u of ['a', 'b', 'c', 'dup']) expect(committed(u)?.revision).toBe(1);
    // The failed insert left no index entries behind.
    expect(
      await store.locate({ filters: [{ name: 'Name', op: 'eq', value: 'name-dup' }] }),
    ).toEqual(['dup']);
    expect(await store.locate({ filters: [{ name: 'Name', op: 'eq', value: 'name-c' }] })).toEqual([
      'c',
    ]);
  });

  it('runs compare-and-swap inside one batch as if the writes were serial', async () => {
    await store.insert(obj('cas'));
    const results = await Promise.all([
      store.update(obj('cas', 2), 1), // 1 -> 2
      store.update(obj('cas', 3), 1), // stale: revision is now 2
      store.update(obj('cas', 3), 2), // 2 -> 3
      store.remove('cas'),
      store.update(obj('cas', 4), 3), // gone
    ]);
    expect(results).toEqual([true, false, true, true, false]);
    expect(committed('cas')).toBeUndefined();
  });

  it('sees an insert queued earlier in the same batch', async () => {
    const results = await Promise.all([
      store.insert(obj('x')),
      store.update(obj('x', 2), 1),
      store.update(obj('x', 3), 2),
    ]);
    expect(results).toEqual([undefined, true, true]);
    expect(committed('x')).toEqual({ state: 3, revision: 3 });
  });

  it('fails an invalid write before batching, and the rest commit', async () => {
    const bad = { ...obj('bad'), uid: '' };
    const outcomes = await Promise.allSettled([store.insert(obj('ok1')), store.insert(bad)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(committed('ok1')).toBeDefined();
  });

  it('commits writes still queued when the store closes', async () => {
    const pending = store.insert(obj('late'));
    await store.close();
    await pending;
    expect(committed('late')).toBeDefined();
  });

  it('keeps an insertBatch all or nothing next to other writes', async () => {
    await store.insert(obj('taken'));
    const outcomes = await Promise.allSettled([
      store.insert(obj('solo')),
      store.insertBatch([obj('b1'), obj('taken'), obj('b2')]),
      store.insertBatch([obj('b3'), obj('b4')]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committed('b1')).toBeUndefined();
    expect(committed('b2')).toBeUndefined();
    for (const u of ['solo', 'b3', 'b4']) expect(committed(u)).toBeDefined();
  });

  it('rolls back a write that throws after changing rows, and only that write', async () => {
    const db = new BetterSqlite3(join(dir, 'raw.sqlite'));
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const gc = new GroupCommit(db);
    const put = db.prepare('INSERT INTO t (k) VALUES (?)');
    const outcomes = await Promise.allSettled([
      gc.run(() => put.run('a')),
      gc.run(() => {
        put.run('half');
        throw new Error('second statement failed');
      }),
      gc.run(() => put.run('c').changes),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseFulfilledResult<number>).value).toBe(1);
    expect(db.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'c']);
    db.close();
  });

  it("waits for another process's write lock without blocking the event loop", async () => {
    const other = new BetterSqlite3(join(dir, SQLITE_FILE_NAME));
    try {
      other.prepare('BEGIN IMMEDIATE').run();
      let settled = false;
      const write = store.insert(obj('late')).then(() => {
        settled = true;
      });
      // Timers keep firing while the write waits: the loop is free.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 2);
      await new Promise((r) => setTimeout(r, 60));
      clearInterval(timer);
      expect(ticks).toBeGreaterThan(5);
      expect(settled).toBe(false);
      expect(committed('late')).toBeUndefined();
      // Writes queued meanwhile join the same retry.
      const more = store.insert(obj('later'));
      other.prepare('COMMIT').run();
      await Promise.all([write, more]);
      expect(committed('late')).toEqual({ state: 1, revision: 1 });
      expect(committed('later')).toEqual({ state: 1, revision: 1 });
    } finally {
      other.close();
    }
  });

  it("fails the waiting writes with SQLite's busy error after the busy timeout", async () => {
    const other = new BetterSqlite3(join(dir, SQLITE_FILE_NAME));
    const impatient = await openSqliteStore({ path: dir, busyTimeoutMs: 50 });
    try {
      other.prepare('BEGIN IMMEDIATE').run();
      const started = Date.now();
      await expect(impatient.insert(obj('never'))).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(50);
      other.prepare('ROLLBACK').run();
      await impatient.insert(obj('after'));
      expect(committed('after')).toEqual({ state: 1, revision: 1 });
      expect(committed('never')).toBeUndefined();
    } finally {
      other.close();
      await impatient.close();
    }
  });
});
