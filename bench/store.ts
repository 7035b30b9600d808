// Store and key-wrapper figures, next to the raw floors measured in the same run.
//   npm run bench -- store
// A store-level Create is what the Create operation does below TTLV: wrap 32 bytes of key
// material under the KEK, then insert the object with its index entries; a Get reads the
// object back and unwraps it. Both run from 16 concurrent callers (like 16 connections) and
// from 1, against SQLite (group commit, synchronous=FULL) and PostgreSQL (a throwaway
// cluster, as test/helpers/pg-cluster.ts starts for the tests), with the software KEK and a
// SoftHSM2 token. The floors: a bare better-sqlite3 insert, one transaction and one fsync
// each, with the same pragmas; and a bare AES-256-GCM wrap of 32 bytes with node:crypto.

import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { KeyWrapper } from '../src/crypto/key-wrapper.js';
import { openPkcs11KeyWrapper } from '../src/crypto/pkcs11-key-wrapper.js';
import { SoftwareKeyWrapper } from '../src/crypto/software-key-wrapper.js';
import type { ObjectStore, StoredObject } from '../src/store/object-store.js';
import { openPostgresStore } from '../src/store/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { startPgCluster } from '../test/helpers/pg-cluster.js';
import { createSoftHsmToken } from '../test/helpers/softhsm.js';

export interface Rate {
  ops_per_sec: number;
  p50_ms: number;
  p99_ms: number;
}

export interface StoreRow {
  store: 'sqlite' | 'postgres';
  wrapper: 'software' | 'softhsm2';
  concurrency: number;
  create: Rate;
  get: Rate;
  /** Mean wrap time over mean Create latency at concurrency 1. */
  wrap_share_of_create_pct?: number;
}

export interface StoreFigures {
  floors: {
    sqlite_insert_txn_per_sec: number;
    sqlite_insert_batched_per_sec: number;
    aes_gcm_wrap_per_sec: number;
    softhsm2_wrap_per_sec?: number;
  };
  rows: StoreRow[];
  notes: string[];
}

const SECONDS = Number(process.env.KMIPD_BENCH_STORE_SECONDS ?? 3);

/** Runs `op` from `concurrency` callers for `seconds`; rate and latency percentiles. */
async function closedLoop(
  concurrency: number,
  seconds: number,
  op: (worker: number, i: number) => Promise<unknown>,
): Promise<Rate> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < end) {
        const s = performance.now();
        await op(w, n++);
        lat.push(performance.now() - s);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]!, 3);
  return { ops_per_sec: round(lat.length / wall, 1), p50_ms: pct(0.5), p99_ms: pct(0.99) };
}

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

function syncRate(seconds: number, op: () => void): number {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) op();
    n += 64;
  }
  return round(n / ((performance.now() - t0) / 1000));
}

function sqliteFloors(dir: string): { txn: number; batched: number } {
  const db = new BetterSqlite3(join(dir, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE t (id INTEGER PRIMARY KEY, uid TEXT UNIQUE, attributes BLOB, material BLOB)',
  );
  const ins = db.prepare('INSERT INTO t (uid, attributes, material) VALUES (?, ?, ?)');
  const attrs = randomBytes(300);
  const mat = randomBytes(60);
  let i = 0;
  const one = db.transaction(() => ins.run(`f${i++}`, attrs, mat));
  const txn = syncRate(SECONDS, () => one.immediate());
  const sixteen = db.transaction(() => {
    for (let k = 0; k < 16; k++) ins.run(`f${i++}`, attrs, mat);
  });
  const batched = syncRate(SECONDS, () => sixteen.immediate()) * 16;
  db.close();
  return { txn, batched };
}

function aesWrapFloor(): number {
  const kek = createSecretKey(randomBytes(32));
  const plain = randomBytes(32);
  const aad = Buffer.from('00000000-0000-0000-0000-000000000000');
  return syncRate(SECONDS, () => {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: 16 });
    c.setAAD(aad);
    Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
  });
}

let uidCounter = 0;
function storedObject(uid: string, material: StoredObject['material']): StoredObject {
  return {
    uid,
    owner: 'bench',
    objectType: 2,
    state: 1,
    attributes: randomBytes(300),
    index: [
      { name: 'Name', value: `bench-${uid}` },
      { name: 'ObjectType', value: 2 },
      { name: 'CryptographicAlgorithm', value: 3 },
      { name: 'CryptographicLength', value: 256 },
      { name: 'State', value: 1 },
      { name: 'InitialDate', value: BigInt(Math.floor(Date.now() / 1000)) },
    ],
    material,
    revision: 1,
    createdAt: Date.now(),
  };
}

async function storeRows(
  storeName: StoreRow['store'],
  store: ObjectStore,
  wrapperName: StoreRow['wrapper'],
  wrapper: KeyWrapper,
): Promise<StoreRow[]> {
  const rows: StoreRow[] = [];
  const created: string[] = [];
  const key = randomBytes(32);
  const create = async () => {
    const uid = `${wrapperName}-${++uidCounter}-${randomBytes(4).toString('hex')}`;
    await store.insert(storedObject(uid, await wrapper.wrap(key, uid)));
    created.push(uid);
  };
  const get = async (i: number) => {
    const uid = created[i % created.length]!;
    const o = await store.get(uid);
    await wrapper.unwrap(o!.material!, uid);
  };
  for (const concurrency of [1, 16]) {
    const c = await closedLoop(concurrency, SECONDS, create);
    const g = await closedLoop(concurrency, SECONDS, (_, i) => get(i));
    const row: StoreRow = {
      store: storeName,
      wrapper: wrapperName,
      concurrency,
      create: c,
      get: g,
    };
    if (concurrency === 1) {
      const w = await closedLoop(1, 1, () => wrapper.wrap(key, 'x'));
      row.wrap_share_of_create_pct = round((100 * c.ops_per_sec) / w.ops_per_sec, 1);
    }
    rows.push(row);
    process.stderr.write(
      `${storeName} + ${wrapperName}, ${concurrency} caller(s): create ${c.ops_per_sec}/s, get ${g.ops_per_sec}/s\n`,
    );
  }
  return rows;
}

export async function benchStore(): Promise<StoreFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-store-bench-'));
  const notes: string[] = [];
  const cleanups: Array<() => Promise<void> | void> = [
    () => rmSync(dir, { recursive: true, force: true }),
  ];
  try {
    process.stderr.write('floors: bare better-sqlite3 insert, bare AES-256-GCM wrap ...\n');
    const sq = sqliteFloors(dir);
    const floors: StoreFigures['floors'] = {
      sqlite_insert_txn_per_sec: sq.txn,
      sqlite_insert_batched_per_sec: sq.batched,
      aes_gcm_wrap_per_sec: aesWrapFloor(),
    };
    const wrappers: Array<[StoreRow['wrapper'], KeyWrapper]> = [
      ['software', new SoftwareKeyWrapper(randomBytes(32))],
    ];
    try {
      const token = createSoftHsmToken('kmipd-bench');
      cleanups.push(() => token.cleanup());
      const hsm = await openPkcs11KeyWrapper({
        modulePath: token.modulePath,
        tokenLabel: token.tokenLabel,
        pin: token.pin,
        kekLabel: 'bench-kek',
        createIfMissing: true,
      });
      cleanups.push(() => hsm.close());
      wrappers.push(['softhsm2', hsm]);
      const key = randomBytes(32);
      floors.softhsm2_wrap_per_sec = (await closedLoop(1, 1, () => hsm.wrap(key, 'x'))).ops_per_sec;
    } catch (err) {
      notes.push(`SoftHSM2 rows skipped: ${(err as Error).message}`);
    }
    const rows: StoreRow[] = [];
    const sqlite = await openSqliteStore({ path: join(dir, 'sqlite') });
    cleanups.push(() => sqlite.close());
    for (const [name, w] of wrappers) rows.push(...(await storeRows('sqlite', sqlite, name, w)));
    try {
      const cluster = await startPgCluster();
      cleanups.push(() => cluster.stop());
      const pgStore = await openPostgresStore({ url: cluster.url, poolSize: 16 });
      cleanups.push(() => pgStore.close());
      for (const [name, w] of wrappers)
        rows.push(...(await storeRows('postgres', pgStore, name, w)));
    } catch (err) {
      notes.push(`PostgreSQL rows skipped: ${(err as Error).message}`);
    }
    return { floors, rows, notes };
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

export function storeMarkdown(f: StoreFigures): string {
  const r = (x: Rate) => `${x.ops_per_sec} (${x.p50_ms}/${x.p99_ms})`;
  const lines = [
    '## Store and key wrapper',
    '',
    'Generated by `npm run bench -- store` (bench/store.ts). Store-level Create = wrap 32 bytes',
    '+ insert with 6 index entries; Get = read + unwrap. ops/s (p50/p99 ms).',
    '',
    `Floors in the same run: bare better-sqlite3 insert, one transaction each (WAL, synchronous=FULL) ` +
      `**${f.floors.sqlite_insert_txn_per_sec}/s**, 16 per transaction ${f.floors.sqlite_insert_batched_per_sec}/s; ` +
      `bare AES-256-GCM wrap **${f.floors.aes_gcm_wrap_per_sec}/s**` +
      (f.floors.softhsm2_wrap_per_sec
        ? `; SoftHSM2 wrap ${f.floors.softhsm2_wrap_per_sec}/s.`
        : '.'),
    '',
    '| store | wrapper | callers | Create/s | Get/s | wrap share of a Create |',
    '|---|---|---:|---:|---:|---:|',
    ...f.rows.map(
      (x) =>
        `| ${x.store} | ${x.wrapper} | ${x.concurrency} | ${r(x.create)} | ${r(x.get)} | ` +
        `${x.wrap_share_of_create_pct === undefined ? '' : `${x.wrap_share_of_create_pct}%`} |`,
    ),
    '',
    ...f.notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}
