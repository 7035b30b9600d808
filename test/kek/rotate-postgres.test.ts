// KEK rotation on the PostgreSQL store (a throwaway cluster; fails, never skips, without the
// postgresql package): the keyring in the data directory, the objects in the database.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureKeyring, Keyring } from '../../src/crypto/keyring.js';
import { kekStatus, rotateKek } from '../../src/kek/rotate.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { testServer } from '../helpers/kmip-test-client.js';
import { type PgCluster, startPgCluster } from '../helpers/pg-cluster.js';
import { createdUids, createRequest, getRequest, gotKeys } from './support.js';

let cluster: PgCluster | undefined;
const dir = mkdtempSync(join(tmpdir(), 'kmipd-rotate-pg-'));
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rotation on PostgreSQL', () => {
  it('re-wraps every object in the database and resumes after an interruption', async () => {
    cluster = await startPgCluster();
    await ensureKeyring({ dataDir: dir });
    const store = await openPostgresStore({ url: cluster.url, poolSize: 4 });
    const keyring = await Keyring.open({ dataDir: dir, checkIntervalMs: 0 });
    try {
      const s = testServer({ store, wrapper: keyring });
      const uids = [
        ...createdUids(await s.raw(createRequest(50))),
        ...createdUids(await s.raw(createRequest(50))),
      ];
      const keys = gotKeys(await s.raw(getRequest(uids)));

      const first = await rotateKek({ dataDir: dir, store, graceMs: 0, batch: 7, stopAfter: 30 });
      expect(first.summary).toMatchObject({ rewrapped: 30, interrupted: true });
      const second = await rotateKek({ dataDir: dir, store, graceMs: 0, batch: 7 });
      expect(second).toMatchObject({ how: 'resumed', complete: true });
      expect(second.summary.rewrapped).toBe(70);

      const got = gotKeys(await s.raw(getRequest(uids)));
      uids.forEach((u, i) => {
        expect(got[i]!.equals(keys[i]!), `key bytes of ${u}`).toBe(true);
      });
      const st = await kekStatus(dir, store);
      expect(st.versions.map((v) => [v.current, v.objects])).toEqual([
        [false, 0],
        [true, 100],
      ]);
    } finally {
      await keyring.close();
      await store.close();
    }
  });
});
