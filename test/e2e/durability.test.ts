// Durability (issue: key protection at rest): a Create is acknowledged only once it is on
// disk. Sixteen connections create keys while the server is killed with SIGKILL; after a
// restart on the same data directory every acknowledged key is there, intact, and its bytes
// never reached the database file, its WAL or a log line in clear.

import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createUntilKilled, fetchKeys, leakedKeys } from '../helpers/crash-load.js';
import { startKmipdProcess } from '../helpers/kmipd-process.js';

let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('durability on SQLite', () => {
  it('loses no acknowledged Create when the server is killed mid-load', async () => {
    const first = await startKmipdProcess({ store: 'sqlite' });
    dataDir = first.dataDir;
    const { uids, exit } = await createUntilKilled(first);
    expect(exit.signal).toBe('SIGKILL');

    const second = await startKmipdProcess({ store: 'sqlite', dataDir });
    try {
      const keys = await fetchKeys(second, uids);
      expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(uids.length);

      // No key reached the database, its WAL or any other file in the data directory in clear.
      const names = (await readdir(dataDir)).filter((n) => n.startsWith('objects.sqlite'));
      expect(names).toContain('objects.sqlite');
      const raw = Buffer.concat(await Promise.all(names.map((n) => readFile(join(dataDir!, n)))));
      expect(leakedKeys(raw, keys)).toHaveLength(0);
      // Nor any log line.
      const logs = JSON.stringify([...first.logs(), ...second.logs()]);
      expect(logs).toContain('"audit":true');
      expect(leakedKeys(logs, keys)).toHaveLength(0);
    } finally {
      await second.stop();
    }
  });
});
