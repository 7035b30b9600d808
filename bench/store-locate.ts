// Locate latency of the SQLite store at scale.
//   npx tsx bench/store-locate.ts [--objects 1000000] [--runs 200] [--keep]
// Fills a temporary store with synthetic objects shaped like a KMIP server's (names, object
// types, algorithms, lengths, dates, a few custom attributes), then times Locate queries
// and prints the figures as JSON on stdout; progress goes to stderr.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LocateQuery, StoredObject } from '../src/store/object-store.js';
import { openSqliteStore, SQLITE_FILE_NAME } from '../src/store/sqlite-store.js';

const { values: args } = parseArgs({
  options: {
    objects: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(args.objects);
const RUNS = Number(args.runs);
const BATCH = 10_000;
const OWNERS = 50;
const START = 1_600_000_000; // InitialDate of object 0, POSIX seconds; one object per 60 s

// Enumeration values (KMIP 1.4 §9.1.3.2.12-13): ObjectType Certificate 1, Symmetric Key 2,
// Public Key 3, Private Key 4, Secret Data 7; Cryptographic Algorithm AES 3, RSA 4,
// HMAC-SHA256 9, EC 0x1A. State (§9.1.3.2.17): Pre-Active 1, Active 2, Deactivated 3.
const TYPES = [2, 2, 2, 2, 2, 3, 4, 1, 7] as const;
const ALGS: Record<number, readonly number[]> = {
  1: [4],
  2: [3, 3, 3, 9],
  3: [4, 0x1a],
  4: [4, 0x1a],
  7: [9],
};

/** Deterministic xorshift so runs are comparable. */
let seed = 0x9e3779b9;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;

function makeObject(i: number): StoredObject {
  const objectType = pick(TYPES);
  const alg = pick(ALGS[objectType]!);
  const index: StoredObject['index'] = [
    { name: 'Name', value: `key-${i}` },
    { name: 'ObjectType', value: objectType },
    { name: 'CryptographicAlgorithm', value: alg },
    { name: 'CryptographicLength', value: alg === 3 ? 256 : 2048 },
    { name: 'State', value: pick([1, 2, 2, 2, 3]) },
    { name: 'InitialDate', value: BigInt(START + i * 60) },
    { name: 'ActivationDate', value: BigInt(START + i * 60 + 3600) },
  ];
  if (i % 100 === 0) index.push({ name: 'x-Team', value: `team-${rnd(20)}` });
  return {
    uid: `${i.toString(16).padStart(8, '0')}-${randomBytes(8).toString('hex')}`,
    owner: `client-${i % OWNERS}`,
    objectType,
    state: 2,
    attributes: randomBytes(160),
    index,
    material: { kekId: '0011223344556677', algorithm: 'AES-256-GCM', blob: randomBytes(60) },
    revision: 1,
    createdAt: Date.now(),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const dir = mkdtempSync(join(tmpdir(), 'kmipd-bench-'));
const store = await openSqliteStore({ path: dir });

const fillStart = performance.now();
let nextProgress = 0.1;
let entries = 0;
for (let i = 0; i < N; i += BATCH) {
  const batch: StoredObject[] = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) {
    const o = makeObject(j);
    entries += o.index.length;
    batch.push(o);
  }
  await store.insertBatch(batch);
  const done = Math.min(N, i + BATCH) / N;
  if (done >= nextProgress - 1e-9) {
    process.stderr.write(
      `filled ${Math.round(done * 100)}% (${Math.min(N, i + BATCH)} objects, ${((performance.now() - fillStart) / 1000).toFixed(1)} s)\n`,
    );
    while (nextProgress <= done + 1e-9) nextProgress += 0.1;
  }
}
const fillSeconds = (performance.now() - fillStart) / 1000;

interface Case {
  name: string;
  query: () => LocateQuery;
}
const day = 86_400;
const cases: Case[] = [
  {
    name: 'name eq (1 match)',
    query: () => ({ filters: [{ name: 'Name', op: 'eq', value: `key-${rnd(N)}` }] }),
  },
  {
    name: 'name eq, scoped to owner',
    query: () => {
      const i = rnd(N);
      return {
        owner: `client-${i % OWNERS}`,
        filters: [{ name: 'Name', op: 'eq', value: `key-${i}` }],
      };
    },
  },
  {
    name: 'type+algorithm eq, limit 100',
    query: () => ({
      filters: [
        { name: 'ObjectType', op: 'eq', value: 3 },
        { name: 'CryptographicAlgorithm', op: 'eq', value: 0x1a },
      ],
      offset: rnd(1000),
      limit: 100,
    }),
  },
  {
    name: 'type+algorithm eq, owner, limit 100',
    query: () => ({
      owner: `client-${rnd(OWNERS)}`,
      filters: [
        { name: 'ObjectType', op: 'eq', value: 2 },
        { name: 'CryptographicAlgorithm', op: 'eq', value: 3 },
      ],
      limit: 100,
    }),
  },
  {
    name: 'InitialDate range 1 day (~1440 matches)',
    query: () => {
      const min = START + rnd(Math.max(1, N - 1440)) * 60;
      return { filters: [{ name: 'InitialDate', op: 'range', min, max: min + day - 1 }] };
    },
  },
  {
    name: 'InitialDate range 1 day + type eq',
    query: () => {
      const min = START + rnd(Math.max(1, N - 1440)) * 60;
      return {
        filters: [
          { name: 'ObjectType', op: 'eq', value: 2 },
          { name: 'InitialDate', op: 'range', min, max: min + day - 1 },
        ],
      };
    },
  },
  {
    name: 'custom attribute eq (~0.05% match)',
    query: () => ({ filters: [{ name: 'x-Team', op: 'eq', value: `team-${rnd(20)}` }] }),
  },
];

const results: Record<string, unknown>[] = [];
for (const c of cases) {
  const ms: number[] = [];
  let hits = 0;
  for (let r = 0; r < RUNS; r++) {
    const q = c.query();
    const t = performance.now();
    const uids = await store.locate(q);
    ms.push(performance.now() - t);
    hits += uids.length;
  }
  ms.sort((a, b) => a - b);
  results.push({
    query: c.name,
    runs: RUNS,
    meanMatches: Math.round(hits / RUNS),
    p50ms: +percentile(ms, 50).toFixed(3),
    p95ms: +percentile(ms, 95).toFixed(3),
    maxms: +ms.at(-1)!.toFixed(3),
  });
  process.stderr.write(`timed ${c.name}\n`);
}

const dbBytes = statSync(join(dir, SQLITE_FILE_NAME)).size;
await store.close();
console.log(
  JSON.stringify(
    {
      objects: N,
      indexEntriesPerObject: +(entries / N).toFixed(2),
      fillSeconds: +fillSeconds.toFixed(1),
      insertsPerSecond: Math.round(N / fillSeconds),
      databaseMiB: +(dbBytes / 2 ** 20).toFixed(1),
      locate: results,
    },
    null,
    2,
  ),
);
if (args.keep) process.stderr.write(`kept ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
