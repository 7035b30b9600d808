// The SQLite store with its writes on a thread (src/store/sqlite-writer-thread.ts): errors
// come back with their KMIP reason or SQLite code, the event loop keeps serving reads while a
// write waits for a lock, a dead thread fails writes with General Failure, close commits what
// was queued, and only an object's own bytes cross to the thread. The ObjectStore behaviour
// suite runs on this mode too (object-store.test.ts).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import type { StoredObject } from '../../src/store/object-store.js';
import {
  openSqliteStore,
  SQLITE_FILE_NAME,
  type SqliteStore,
} from '../../src/store/sqlite-store.js';
import { wire } from '../../src/store/sqlite-writer-thread.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';

function obj(uid: string, name = uid): StoredObject {
  return {
    uid,
    owner: 'alice',
    objectType: 2,
    state: 1,
    attributes: Buffer.from(`attrs of ${uid}`),
    index: [
      { name: 'Name', value: name },
      { name: 'ObjectType', value: 2 },
      { name: 'x-Big', value: 2n ** 62n },
    ],
    material: {
      kekId: 'kek-1',
      algorithm: 'AES-256-GCM',
      blob: Buffer.from([1, 2, 3, uid.length]),
    },
    revision: 1,
    createdAt: 1_700_000_000_000,
  };
}

describe('what crosses to the writer thread', () => {
  it("is a copy of the object's own bytes, never the Buffer pool around them", () => {
    const pooled = obj('p');
    // Small Buffers share Node's pool: posting one would copy the whole pool slab.
    expect(pooled.attributes.buffer.byteLength).toBeGreaterThan(pooled.attributes.length);
    const transfer: ArrayBuffer[] = [];
    const sent = wire(pooled, transfer);
    expect(sent.attributes.buffer.byteLength).toBe(pooled.attributes.length);
    expect(Buffer.from(sent.attributes).equals(pooled.attributes)).toBe(true);
    expect(sent.material?.blob.buffer.byteLength).toBe(pooled.material?.blob.length);
    expect(transfer).toEqual([sent.attributes.buffer, sent.material?.blob.buffer]);
    expect(pooled.attributes.toString()).toBe('attrs of p');
  });
});

describe('SQLite store with a writer thread', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmipd-writer-'));
    store = await openSqliteStore({ path: dir, writerThread: true });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips buffers and big integers through the thread', async () => {
    await store.insert(obj('a'));
    const got = await store.get('a');
    expect(Buffer.isBuffer(got?.attributes)).toBe(true);
    expect(got?.attributes.toString()).toBe('attrs of a');
    expect(got?.material?.blob).toEqual(Buffer.from([1, 2, 3, 1]));
    expect(got?.index).toContainEqual({ name: 'x-Big', value: 2n ** 62n });
  });

  it('answers a duplicate uid with Object Already Exists and commits the rest of the batch', async () => {
    await store.insert(obj('dup'));
    const results = await Promise.allSettled([
      store.insert(obj('b1')),
      store.insert(obj('dup')),
      store.insert(obj('b2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (results[1] as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(KmipError);
    expect((err as KmipError).reason).toBe(ResultReason.ObjectAlreadyExists);
    expect(await store.count()).toBe(3);
  });

  it('keeps the SQLite error code of a failed write', async () => {
    const side = new BetterSqlite3(join(dir, SQLITE_FILE_NAME));
    side.exec(`CREATE TRIGGER refuse BEFORE INSERT ON objects WHEN NEW.uid = 'refused'
               BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END`);
    side.close();
    const err = await store.insert(obj('refused')).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('SQLITE_CONSTRAINT_TRIGGER');
    expect((err as Error).message).toContain('refused by trigger');
    await store.insert(obj('fine'));
    expect(await store.get('refused')).toBeUndefined();
    expect(await store.get('fine')).toBeDefined();
  });

  it('serves reads and timers while a write waits for a lock another connection holds', async () => {
    await store.insert(obj('before'));
    const side = new BetterSqlite3(join(dir, SQLITE_FILE_NAME));
    side.exec('BEGIN IMMEDIATE');
    let committed = false;
    const write = store.insert(obj('later')).then(() => {
      committed = true;
    });
    const ticks: number[] = [];
    const started = Date.now();
    while (Date.now() - started < 150) {
      await new Promise((r) => setTimeout(r, 10));
      ticks.push(Date.now());
      expect((await store.get('before'))?.uid).toBe('before');
    }
    expect(committed).toBe(false);
    expect(ticks.length).toBeGreaterThan(5);
    side.exec('COMMIT');
    side.close();
    await write;
    expect(committed).toBe(true);
    expect(await store.get('later')).toBeDefined();
  });

  it('commits queued writes on close', async () => {
    const writes = Array.from({ length: 50 }, (_, i) => store.insert(obj(`q${i}`)));
    await store.close();
    await Promise.all(writes);
    store = await openSqliteStore({ path: dir, writerThread: true });
    expect(await store.count()).toBe(50);
  });

  it('fails writes with General Failure once the thread is gone, and keeps serving reads', async () => {
    await store.insert(obj('kept'));
    const thread = (store as unknown as { writes: { worker: { terminate(): Promise<number> } } })
      .writes.worker;
    await thread.terminate();
    const err = await store.insert(obj('lost')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipError);
    expect((err as KmipError).reason).toBe(ResultReason.GeneralFailure);
    expect((err as KmipError).message).toContain('writer thread stopped');
    expect((await store.get('kept'))?.uid).toBe('kept');
  });
});
