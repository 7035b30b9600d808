// `kmipd export` and `kmipd import` as an operator runs them: a SQLite data directory with
// objects of two owners is exported under a key file and under a passphrase, imported into
// a fresh data directory that gets its own KEK, and every object reads back the same. A
// backup with one byte changed is refused with a clear message and nothing is imported.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKeyring, Keyring } from '../../src/crypto/keyring.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { runKmipd } from '../helpers/kmipd-process.js';
import { expectSameObjects, populate } from './support.js';

let dir: string;
let source: string;
let keyFile: string;
let uids: string[];

async function open(dataDir: string) {
  await ensureKeyring({ dataDir });
  return {
    store: await openSqliteStore({ path: dataDir }),
    wrapper: await Keyring.open({ dataDir }),
  };
}

async function close(s: Awaited<ReturnType<typeof open>>) {
  await s.store.close();
  await s.wrapper.close();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-backup-cli-'));
  source = join(dir, 'source');
  keyFile = join(dir, 'backup.key');
  await writeFile(keyFile, randomBytes(32), { mode: 0o600 });
  const s = await open(source);
  uids = await populate(s.store, s.wrapper);
  await close(s);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kmipd export / import', () => {
  it('restores a key-file backup into a fresh data directory with another KEK', async () => {
    const out = join(dir, 'key.kbk');
    const exp = await runKmipd([
      'export',
      '--data-dir',
      source,
      '--out',
      out,
      '--key-file',
      keyFile,
    ]);
    expect(exp.stderr).not.toMatch(/kmipd:/);
    expect(exp.code).toBe(0);
    expect(exp.stdout).toMatch(
      new RegExp(`exported ${uids.length} objects of 2 owners \\(2 destroyed`),
    );
    const target = join(dir, 'target');
    const imp = await runKmipd(['import', out, '--data-dir', target, '--key-file', keyFile]);
    expect(imp.stderr).not.toMatch(/kmipd:/);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(new RegExp(`restored ${uids.length} objects of 2 owners`));

    const a = await open(source);
    const b = await open(target);
    try {
      expect(b.wrapper.current.kekId).not.toBe(a.wrapper.current.kekId);
      expect(await expectSameObjects(a, b)).toBe(uids.length);
    } finally {
      await close(a);
      await close(b);
    }
    // A second import into the now non-empty store is refused.
    const again = await runKmipd(['import', out, '--data-dir', target, '--key-file', keyFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty.*--merge/);
    const merged = await runKmipd([
      'import',
      out,
      '--data-dir',
      target,
      '--key-file',
      keyFile,
      '--merge',
    ]);
    expect(merged.code).toBe(0);
    expect(merged.stdout).toMatch(new RegExp(`restored 0 objects.*${uids.length} left out`));
  });

  it('refuses a tampered backup and imports nothing', async () => {
    const out = join(dir, 'pass.kbk');
    process.env.KMIPD_TEST_BACKUP_PASS = 'a passphrase for the test';
    try {
      const exp = await runKmipd([
        'export',
        '--data-dir',
        source,
        '--out',
        out,
        '--passphrase-env',
        'KMIPD_TEST_BACKUP_PASS',
      ]);
      expect(exp.code, exp.stderr).toBe(0);
      const bytes = await readFile(out);
      expect(bytes.includes(Buffer.from('pw-alice'))).toBe(false);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
      const bad = join(dir, 'tampered.kbk');
      await writeFile(bad, bytes);
      const target = join(dir, 'tampered-target');
      const imp = await runKmipd([
        'import',
        bad,
        '--data-dir',
        target,
        '--passphrase-env',
        'KMIPD_TEST_BACKUP_PASS',
      ]);
      expect(imp.code).toBe(1);
      expect(imp.stderr).toMatch(
        /record \d+ of the backup does not authenticate: the file was altered/,
      );
      expect(imp.stderr).not.toContain('a passphrase for the test');
      const t = await open(target);
      try {
        expect(await t.store.count()).toBe(0);
      } finally {
        await close(t);
      }
      const wrong = await runKmipd(['import', out, '--data-dir', target, '--key-file', keyFile]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/protected by a passphrase/);
    } finally {
      delete process.env.KMIPD_TEST_BACKUP_PASS;
    }
  });

  it('explains a missing key and an existing output file', async () => {
    const none = await runKmipd(['export', '--data-dir', source, '--out', join(dir, 'x.kbk')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/--passphrase-env NAME or --key-file FILE/);
    const short = join(dir, 'short.key');
    await writeFile(short, randomBytes(16));
    const bad = await runKmipd([
      'export',
      '--data-dir',
      source,
      '--out',
      join(dir, 'y.kbk'),
      '--key-file',
      short,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/exactly 32 bytes/);
    const exists = await runKmipd([
      'export',
      '--data-dir',
      source,
      '--out',
      keyFile,
      '--key-file',
      keyFile,
    ]);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/exists/);
  });
});
