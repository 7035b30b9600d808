// KEK rotation between the software KEK and a PKCS#11 HSM (a throwaway SoftHSM2 token; the
// test fails, never skips, without the softhsm2 package): software → HSM → software, with
// every object's key bytes unchanged and the PIN nowhere on disk but the token.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKeyring, Keyring } from '../../src/crypto/keyring.js';
import { PKCS11_WRAP_ALGORITHM } from '../../src/crypto/pkcs11-key-wrapper.js';
import { kekStatus, rotateKek } from '../../src/kek/rotate.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';
import { testServer } from '../helpers/kmip-test-client.js';
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.js';
import { createdUids, createRequest, getRequest, gotKeys } from './support.js';

const OBJECTS = 100;

let token: SoftHsmToken;
let dir: string;
let store: SqliteStore;
let keyring: Keyring;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  token = createSoftHsmToken('kmipd-rotate');
  dir = mkdtempSync(join(tmpdir(), 'kmipd-rotate-hsm-'));
  env = { ...process.env, KMIPD_TEST_PIN: token.pin };
  await ensureKeyring({ dataDir: dir, env });
  store = await openSqliteStore({ path: dir });
  keyring = await Keyring.open({ dataDir: dir, env, checkIntervalMs: 0 });
});
afterAll(async () => {
  await keyring?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  token?.cleanup();
});

describe('rotation between the software KEK and a PKCS#11 HSM', () => {
  it('software → HSM → software keeps every key byte for byte', async () => {
    const s = testServer({ store, wrapper: keyring });
    const uids: string[] = [];
    for (let i = 0; i < OBJECTS; i += 50) uids.push(...createdUids(await s.raw(createRequest(50))));
    const keys = gotKeys(await s.raw(getRequest(uids)));
    const expectSame = async (list: string[], expected: Buffer[]) => {
      const got = gotKeys(await s.raw(getRequest(list)));
      list.forEach((u, i) => {
        expect(got[i]!.equals(expected[i]!), `key of ${u}`).toBe(true);
      });
    };

    const toHsm = await rotateKek({
      dataDir: dir,
      store,
      env,
      graceMs: 0,
      choice: {
        kind: 'pkcs11',
        modulePath: token.modulePath,
        tokenLabel: token.tokenLabel,
        pinEnv: 'KMIPD_TEST_PIN',
        kekLabel: 'kmipd-kek-v2',
      },
    });
    expect(toHsm).toMatchObject({ how: 'added', complete: true });
    expect(toHsm.target).toMatchObject({ version: 2, kind: 'pkcs11', kekLabel: 'kmipd-kek-v2' });
    expect(toHsm.summary.rewrapped).toBe(OBJECTS);
    for (const uid of uids) {
      expect((await store.get(uid))?.material).toMatchObject({
        kekId: toHsm.target.kekId,
        algorithm: PKCS11_WRAP_ALGORITHM,
      });
    }
    await expectSame(uids, keys);

    // New objects now go to the HSM KEK.
    const [onHsm] = createdUids(await s.raw(createRequest(1)));
    expect((await store.get(onHsm!))?.material?.algorithm).toBe(PKCS11_WRAP_ALGORITHM);
    const onHsmKey = gotKeys(await s.raw(getRequest([onHsm!])));

    const back = await rotateKek({ dataDir: dir, store, env, graceMs: 0 });
    expect(back).toMatchObject({ how: 'added', complete: true });
    expect(back.target).toMatchObject({ version: 3, kind: 'file', keyFile: 'keks/0003.key' });
    expect(back.summary.rewrapped).toBe(OBJECTS + 1);
    await expectSame([...uids, onHsm!], [...keys, ...onHsmKey]);
    for (const uid of [...uids, onHsm!]) {
      expect((await store.get(uid))?.material).toMatchObject({
        kekId: back.target.kekId,
        algorithm: 'AES-256-GCM',
      });
    }

    const st = await kekStatus(dir, store);
    expect(st.versions.map((v) => [v.descriptor.kind, v.current, v.objects])).toEqual([
      ['file', false, 0],
      ['pkcs11', false, 0],
      ['file', true, OBJECTS + 1],
    ]);
    // The PIN is named by its variable only.
    for (const name of readdirSync(join(dir, 'keks'))) {
      expect(readFileSync(join(dir, 'keks', name)).includes(token.pin)).toBe(false);
    }
  });
});
