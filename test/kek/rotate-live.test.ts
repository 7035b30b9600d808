// Online rotation: `kmipd kek rotate` runs as its own process against the data directory a
// `kmipd serve` child is serving, while clients keep creating and reading keys over mutual
// TLS. Afterwards every key reads back byte for byte, keys created during and after the
// rotation are under the new KEK, and neither the SQLite files (database, WAL) nor any log
// or command output hold a key's bytes.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type KmipConnection, readCertificateFiles } from '../../src/client/connection.js';
import { readDescriptors } from '../../src/kek/layout.js';
import type { KekStatus } from '../../src/kek/rotate.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { type KmipdProcess, runKmipd, startKmipdProcess } from '../helpers/kmipd-process.js';
import { createdUids, createRequest, filesContaining, getRequest, gotKeys } from './support.js';

let server: KmipdProcess | undefined;
const connections: KmipConnection[] = [];
afterAll(async () => {
  for (const c of connections) await c.close();
  await server?.stop();
});

describe('rotation while kmipd serves the same data directory', () => {
  it('keeps serving every key, moves all of them to the new KEK, leaks no key bytes', async () => {
    server = await startKmipdProcess({ store: 'sqlite' });
    const { dataDir } = server;
    const files = await readCertificateFiles({ ...server.client('admin'), ca: server.ca });
    const open = async () => {
      const c = await connect(
        '127.0.0.1',
        server!.port,
        files.cert,
        files.key,
        files.ca,
        'localhost',
      );
      connections.push(c);
      return c;
    };
    const main = await open();
    const keys = new Map<string, Buffer>();
    const createSome = async (c: KmipConnection, n: number) => {
      const uids = createdUids(await c.send(createRequest(n)));
      gotKeys(await c.send(getRequest(uids))).forEach((k, i) => {
        keys.set(uids[i]!, k);
      });
      return uids;
    };
    await createSome(main, 50);
    await createSome(main, 50);
    const start = server.logs().find((l) => l.msg === 'key-encryption key');
    expect(start).toMatchObject({ kekVersion: 1, kekKind: 'file' });

    // Load during the rotation: creates, and reads of keys made before it.
    let stop = false;
    const problems: string[] = [];
    const before = [...keys.keys()];
    const load = (async () => {
      const c = await open();
      for (let i = 0; !stop; i++) {
        try {
          await createSome(c, 2);
          const sample = before.slice((i * 7) % 90, ((i * 7) % 90) + 10);
          const got = gotKeys(await c.send(getRequest(sample)));
          sample.forEach((u, j) => {
            if (!got[j]!.equals(keys.get(u)!)) problems.push(`wrong bytes for ${u}`);
          });
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
    })();

    const rotation = await runKmipd(['kek', 'rotate', '--data-dir', dataDir]);
    stop = true;
    await load;
    expect(rotation.stderr).toContain('added and made current KEK version 2 (file');
    expect(rotation.stdout).toMatch(/^re-wrapped \d+ objects under KEK version 2 .* 0 failed\n$/);
    expect(rotation.code).toBe(0);
    expect(problems).toEqual([]);
    expect(keys.size, 'keys created while the rotation ran').toBeGreaterThan(110);

    const after = await createSome(main, 5);
    const all = [...keys.keys()];
    const got = gotKeys(await main.send(getRequest(all)));
    all.forEach((u, i) => {
      expect(got[i]!.equals(keys.get(u)!), `key bytes of ${u}`).toBe(true);
    });

    const [v1, v2] = await readDescriptors(dataDir);
    const store = await openSqliteStore({ path: dataDir });
    try {
      for (const uid of all) expect((await store.get(uid))?.material?.kekId).toBe(v2!.kekId);
      expect(after.length).toBe(5);
    } finally {
      await store.close();
    }
    expect(server.logs()).toContainEqual(
      expect.objectContaining({ msg: 'current KEK version changed', version: 2, kind: 'file' }),
    );

    const status = await runKmipd(['kek', 'status', '--data-dir', dataDir, '--json']);
    const st = JSON.parse(status.stdout) as KekStatus;
    expect(st.versions.map((v) => [v.descriptor.kekId, v.current, v.objects])).toEqual([
      [v1!.kekId, false, 0],
      [v2!.kekId, true, all.length],
    ]);
    expect(st.rotating).toBeUndefined();

    // External scan: the database and its WAL, logs and command output.
    const secrets = [...keys.values()];
    const sqliteFiles = (n: string) => n.startsWith('objects.sqlite');
    expect(await filesContaining(dataDir, sqliteFiles, secrets)).toEqual([]);
    const keks = [
      await readFile(join(dataDir, 'keks', '0001.key')),
      await readFile(join(dataDir, 'keks', '0002.key')),
    ];
    const text = [
      server.stderr(),
      JSON.stringify(server.logs()),
      rotation.stdout,
      rotation.stderr,
      status.stdout,
    ].join('\n');
    for (const s of [...secrets, ...keks]) {
      expect(text.includes(s.toString('hex'))).toBe(false);
      expect(text.includes(s.toString('base64'))).toBe(false);
    }
  });
});
