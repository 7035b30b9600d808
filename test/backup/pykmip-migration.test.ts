// Migration from PyKMIP's server (issue: key protection at rest and storage at scale). Debian's
// pykmip-server makes the database: PyKMIP's client creates an AES key (activated), an RSA
// pair, and registers a password, an X.509 certificate and an opaque object. The server is
// stopped, `kmipd import --from-pykmip` moves its database into a fresh data directory, and
// PyKMIP's client then Gets every object from kmipd by its old integer id: same bytes, same
// names, algorithms, lengths, usage masks and states. A missing pykmip-server or PyKMIP
// fails the test.

import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { access, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { initPki } from '../../src/pki/dev-pki.js';
import { runKmipd, startKmipdProcess } from '../helpers/kmipd-process.js';
import { writePyKmipConfig } from '../helpers/pykmip-server.js';
import { requirePyKmip, runPyScript } from '../helpers/python.js';

const PYKMIP_SERVER = '/usr/bin/pykmip-server';
const SCRIPT = '../../backup/py/pykmip_migration.py';

interface Read {
  objects: Record<string, { get: Record<string, unknown>; attributes: Record<string, unknown> }>;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`pykmip-server exited:\n${await readFile(log, 'utf8').catch(() => '')}`);
    }
    const open = await new Promise<boolean>((done) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        done(true);
      });
      s.once('error', () => done(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`pykmip-server did not listen on ${port}`);
}

let dir: string | undefined;
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kmipd import --from-pykmip', () => {
  it('serves every PyKMIP object under its old id with the same bytes and attributes', async () => {
    await requirePyKmip();
    await access(PYKMIP_SERVER).catch(() => {
      throw new Error(
        `${PYKMIP_SERVER} is missing: install the Debian package python3-pykmip (apt-get install python3-pykmip)`,
      );
    });
    dir = await mkdtemp(join(tmpdir(), 'kmipd-pykmip-migration-'));
    const pki = await initPki({ dir: join(dir, 'pki'), clients: ['client'] });
    const client = pki.clients.client!;
    const cfg = (port: number) => ({
      port,
      ca: pki.ca.cert,
      identity: 'client',
      clients: { client: { cert: client.cert, key: client.key } },
    });

    // 1. pykmip-server makes the database.
    const db = join(dir, 'pykmip.sqlite');
    const pyPort = await freePort();
    const conf = writePyKmipConfig({
      dir,
      port: pyPort,
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca.cert,
      database: db,
    });
    const log = join(dir, 'server.log');
    child = spawn(PYKMIP_SERVER, ['-f', conf, '-l', log], { stdio: 'ignore' });
    await waitForPort(pyPort, child, log);
    const certificate = new X509Certificate(await readFile(client.cert)).raw.toString('hex');
    const seeded = await runPyScript<Read & { uids: Record<string, string> }>(SCRIPT, {
      ...cfg(pyPort),
      action: 'seed',
      certificate,
    });
    const closed = new Promise((r) => child!.once('close', r));
    child.kill('SIGTERM');
    await closed;
    const uids = Object.values(seeded.uids);
    expect(uids).toHaveLength(6);
    for (const uid of uids) {
      expect(uid).toMatch(/^\d+$/);
      expect(seeded.objects[uid]!.get.ok, JSON.stringify(seeded.objects[uid])).toBe(true);
    }

    // 2. One object lost its owner (as objects of a server without client authentication
    // have none): it goes to --owner.
    const copy = join(dir, 'copy.sqlite');
    await copyFile(db, copy);
    const sql = new BetterSqlite3(copy);
    expect(sql.prepare('SELECT DISTINCT owner FROM managed_objects').pluck().all()).toEqual([
      'client',
    ]);
    sql
      .prepare('UPDATE managed_objects SET owner = NULL WHERE uid = ?')
      .run(Number(seeded.uids.opaque));
    sql.close();

    const dataDir = join(dir, 'kmipd');
    const started = Date.now();
    const mig = await runKmipd([
      'import',
      '--from-pykmip',
      copy,
      '--data-dir',
      dataDir,
      '--owner',
      'client',
    ]);
    expect(mig.stderr).not.toMatch(/kmipd:/);
    expect(mig.code).toBe(0);
    expect(mig.stdout).toMatch(
      /migrated 6 PyKMIP objects of 1 owners .*1 had no owner and now belong to client; 0 not migrated/,
    );
    expect(Date.now() - started).toBeLessThan(30_000);

    // 3. kmipd on the result, PyKMIP's client by the old ids.
    const kmipd = await startKmipdProcess({
      store: 'sqlite',
      dataDir,
      args: ['--cert', pki.server.cert, '--key', pki.server.key, '--ca', pki.ca.cert],
    });
    try {
      const read = await runPyScript<Read>(SCRIPT, { ...cfg(kmipd.port), action: 'read', uids });
      for (const uid of uids) {
        const expected = structuredClone(seeded.objects[uid]!);
        if (uid === seeded.uids.certificate) {
          // kmipd reads these from the certificate's public key, as it does on Register.
          Object.assign(expected.attributes.value as object, {
            'Cryptographic Algorithm': 'RSA',
            'Cryptographic Length': 2048,
          });
        }
        if (uid === seeded.uids.opaque) {
          // PyKMIP keeps no state for opaque objects; every kmipd object has one.
          Object.assign(expected.attributes.value as object, { State: 'PRE_ACTIVE' });
        }
        expect(read.objects[uid], `object ${uid}`).toEqual(expected);
      }
      expect(read.objects[seeded.uids.aes!]!.attributes.value).toMatchObject({ State: 'ACTIVE' });
    } finally {
      await kmipd.stop();
    }
  });
});
