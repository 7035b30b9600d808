// Durability on PostgreSQL (issue: key protection at rest and storage at scale): a Create is
// acknowledged only once PostgreSQL has committed it. Sixteen connections create keys while
// the kmipd process is killed with SIGKILL; a new process on the same database (and the same
// data directory, for its KEK) answers every acknowledged key intact, and no key's bytes sit
// in the database in clear. A missing PostgreSQL fails the test.

import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createUntilKilled, fetchKeys, leakedKeys } from '../helpers/crash-load.js';
import { startKmipdProcess } from '../helpers/kmipd-process.js';
import { type PgCluster, startPgCluster } from '../helpers/pg-cluster.js';

let dataDir: string | undefined;
let cluster: PgCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('durability on PostgreSQL', () => {
  it('loses no acknowledged Create when the server is killed mid-load', async () => {
    cluster = await startPgCluster();
    const options = {
      // The helper passes `store` through to --store.
      store: 'postgres' as 'sqlite',
      args: ['--postgres-url', cluster.url],
    };
    const first = await startKmipdProcess(options);
    dataDir = first.dataDir;
    const { uids, exit } = await createUntilKilled(first);
    expect(exit.signal).toBe('SIGKILL');

    const second = await startKmipdProcess({ ...options, dataDir });
    try {
      const keys = await fetchKeys(second, uids);
      expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(uids.length);

      // Every row of the database, in clear or hex, holds none of the keys.
      const db = new pg.Client({ connectionString: cluster.url });
      await db.connect();
      let dump: string;
      try {
        const rows = await db.query<{ row: string }>(
          'SELECT row_to_json(o)::text AS row FROM objects o UNION ALL SELECT row_to_json(i)::text FROM object_index i',
        );
        expect(rows.rows.length).toBeGreaterThanOrEqual(uids.length);
        dump = rows.rows.map((r) => r.row).join('\n');
      } finally {
        await db.end();
      }
      expect(leakedKeys(dump, keys)).toHaveLength(0);
      expect(leakedKeys(JSON.stringify([...first.logs(), ...second.logs()]), keys)).toHaveLength(0);
    } finally {
      await second.stop();
    }
  }, 180_000);
});
