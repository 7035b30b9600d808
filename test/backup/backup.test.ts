// Backups in process: export from one store, restore into another under a different KEK,
// and every object reads back the same through the message layer. Any changed byte of the
// file, a truncation, appended bytes or the wrong key fail the restore with a clear message
// and leave the target empty.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupSecret, HEADER_BYTES } from '../../src/backup/container.js';
import { exportBackup } from '../../src/backup/export.js';
import {
  BACKUP_FORMAT,
  decodeRecord,
  encodeEnd,
  encodeManifest,
} from '../../src/backup/records.js';
import { restoreBackup } from '../../src/backup/restore.js';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { expectSameObjects, populate } from './support.js';

let dir: string;
const source = { store: openMemoryStore(), wrapper: new SoftwareKeyWrapper(randomBytes(32)) };
const backupKey = randomBytes(32);
const keySecret = (): BackupSecret => ({ kind: 'key', key: Buffer.from(backupKey) });
let file: string;
let made: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-backup-'));
  made = await populate(source.store, source.wrapper);
  file = join(dir, 'all.kbk');
  const s = await exportBackup({ ...source, out: file, secret: keySecret() });
  expect(s).toMatchObject({ objects: made.length, withoutMaterial: 2, owners: 2, vanished: 0 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fresh() {
  return { store: openMemoryStore(), wrapper: new SoftwareKeyWrapper(randomBytes(32)) };
}

describe('backup and restore', () => {
  it('restores every object with the same bytes and attributes under another KEK', async () => {
    const target = fresh();
    const s = await restoreBackup({ path: file, ...target, secret: keySecret() });
    expect(s.restored).toBe(made.length);
    expect(s.owners).toBe(2);
    expect(await expectSameObjects(source, target)).toBe(made.length);
  });

  it("carries the server-wide settings; a merge keeps the target's own", async () => {
    const name = 'kmip.constraints';
    const value = Buffer.from('420122 stored constraint bytes');
    await source.store.putSetting(name, value);
    try {
      const out = join(dir, 'settings.kbk');
      const e = await exportBackup({ ...source, out, secret: keySecret() });
      expect(e.settings).toBe(1);
      const target = fresh();
      const r = await restoreBackup({ path: out, ...target, secret: keySecret() });
      expect(r).toMatchObject({ settings: 1, keptSettings: [] });
      expect(await target.store.getSetting(name)).toEqual(value);

      const other = fresh();
      await other.store.putSetting(name, Buffer.from('the target list'));
      const m = await restoreBackup({ path: out, ...other, secret: keySecret(), merge: true });
      expect(m).toMatchObject({ settings: 0, keptSettings: [name] });
      expect(await other.store.getSetting(name)).toEqual(Buffer.from('the target list'));
    } finally {
      await source.store.putSetting(name, undefined);
    }
  });

  it('reads a record-version 1 backup (before settings) and refuses unknown versions', () => {
    const manifest = (version: number) =>
      encodeManifest({
        format: BACKUP_FORMAT,
        version,
        createdAt: '',
        source: 'memory',
        listed: 0,
      });
    expect(decodeRecord(manifest(1), 0)).toMatchObject({ kind: 'manifest' });
    expect(() => decodeRecord(manifest(3), 0)).toThrow(/record version 3 is not supported/);
    const end = Buffer.from(encodeEnd(4, 0));
    // A version 1 end record has no setting count.
    const v1End = Buffer.concat([
      end.subarray(0, 1),
      Buffer.alloc(4),
      Buffer.from('{"objects":4}'),
    ]);
    v1End.writeUInt32BE(13, 1);
    expect(decodeRecord(v1End, 5)).toEqual({ kind: 'end', objects: 4, settings: 0 });
  });

  it('keeps no key material in clear in the file', async () => {
    const raw = await readFile(file);
    const secret = Buffer.from('pw-alice');
    expect(raw.includes(secret)).toBe(false);
  });

  it('works with a passphrase (scrypt) and refuses the wrong one', async () => {
    const out = join(dir, 'pass.kbk');
    const secret: BackupSecret = {
      kind: 'passphrase',
      passphrase: 'correct horse',
      scrypt: { log2N: 10, r: 8, p: 1 },
    };
    await exportBackup({ ...source, out, secret });
    const target = fresh();
    await expect(
      restoreBackup({ path: out, ...target, secret: { kind: 'passphrase', passphrase: 'wrong' } }),
    ).rejects.toThrow(/wrong passphrase or key/);
    await expect(restoreBackup({ path: out, ...target, secret: keySecret() })).rejects.toThrow(
      /protected by a passphrase/,
    );
    expect(await target.store.count()).toBe(0);
    await restoreBackup({ path: out, ...target, secret: { ...secret } });
    await expectSameObjects(source, target);
  });

  it('refuses a non-empty store unless merging, and merging leaves taken uids alone', async () => {
    // Gets in the tests before cleared Fresh in the source: a backup of it as it is now.
    const file = join(dir, 'merge.kbk');
    await exportBackup({ ...source, out: file, secret: keySecret() });
    const target = fresh();
    await restoreBackup({ path: file, ...target, secret: keySecret() });
    await expect(restoreBackup({ path: file, ...target, secret: keySecret() })).rejects.toThrow(
      /not empty/,
    );
    const first = made[0]!;
    await target.store.remove(first);
    const s = await restoreBackup({ path: file, ...target, secret: keySecret(), merge: true });
    expect(s.restored).toBe(1);
    expect(s.skipped).toHaveLength(made.length - 1);
    // The removed object comes back last in insertion order.
    await expectSameObjects(source, target, { sameOrder: false });
  });

  it('imports nothing when any byte of the file is changed', async () => {
    const good = await readFile(file);
    const bad = join(dir, 'bad.kbk');
    // Every byte of the header, then every 53rd byte of the body, and the last one.
    const positions = [
      ...Array.from({ length: HEADER_BYTES }, (_, i) => i),
      ...Array.from(
        { length: Math.floor((good.length - HEADER_BYTES) / 53) },
        (_, i) => HEADER_BYTES + i * 53,
      ),
      good.length - 1,
    ];
    for (const at of positions) {
      const copy = Buffer.from(good);
      copy[at]! ^= 0x01;
      await writeFile(bad, copy);
      const target = fresh();
      await expect(
        restoreBackup({ path: bad, ...target, secret: keySecret() }),
        `byte ${at}`,
      ).rejects.toThrow(/kmipd backup|authenticate|truncated|damaged|scrypt|key derivation/);
      expect(await target.store.count(), `byte ${at}`).toBe(0);
    }
  });

  it('names truncation and appended bytes', async () => {
    const good = await readFile(file);
    const bad = join(dir, 'cut.kbk');
    for (const len of [
      HEADER_BYTES,
      HEADER_BYTES + 2,
      Math.floor(good.length / 2),
      good.length - 1,
    ]) {
      await writeFile(bad, good.subarray(0, len));
      const target = fresh();
      await expect(restoreBackup({ path: bad, ...target, secret: keySecret() })).rejects.toThrow(
        /truncated|damaged|authenticate/,
      );
      expect(await target.store.count()).toBe(0);
    }
    await writeFile(bad, Buffer.concat([good, Buffer.alloc(40)]));
    await expect(restoreBackup({ path: bad, ...fresh(), secret: keySecret() })).rejects.toThrow(
      /does not authenticate|damaged/,
    );
    await writeFile(bad, Buffer.from('not a backup at all, but long enough to have a header.....'));
    await expect(restoreBackup({ path: bad, ...fresh(), secret: keySecret() })).rejects.toThrow(
      /not a kmipd backup/,
    );
  });
});
