// PKCS#11 key wrapper against a real SoftHSM2 token (Debian package softhsm2): CKM_AES_GCM
// under a sensitive, non-extractable AES-256 token key, the uid as associated data.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { Handle, PKCS11 } from 'pkcs11js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  openPkcs11KeyWrapper,
  PKCS11_WRAP_ALGORITHM,
  type Pkcs11KeyWrapper,
  type Pkcs11KeyWrapperOptions,
} from '../../src/crypto/pkcs11-key-wrapper.js';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { KmipError } from '../../src/errors.js';
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.js';

const require = createRequire(import.meta.url);
const p11: typeof import('pkcs11js') = require('pkcs11js');

const CRYPTOGRAPHIC_FAILURE = 0x0a;
const GENERAL_FAILURE = 0x100;
const SECRET = Buffer.from('SECRET-KEY-MATERIAL-'.repeat(4).slice(0, 64));

let token: SoftHsmToken;
const open: Pkcs11KeyWrapper[] = [];

beforeAll(() => {
  token = createSoftHsmToken();
});
afterEach(() => {
  for (const w of open.splice(0)) w.close();
});
afterAll(() => {
  token?.cleanup();
});

function options(overrides: Partial<Pkcs11KeyWrapperOptions> = {}): Pkcs11KeyWrapperOptions {
  return {
    modulePath: token.modulePath,
    tokenLabel: token.tokenLabel,
    pin: token.pin,
    kekLabel: 'kmipd-kek',
    createIfMissing: true,
    ...overrides,
  };
}

async function wrapper(overrides: Partial<Pkcs11KeyWrapperOptions> = {}) {
  const w = await openPkcs11KeyWrapper(options(overrides));
  open.push(w);
  return w;
}

async function rejection(p: Promise<unknown>): Promise<KmipError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KmipError);
  return err as KmipError;
}

async function failure(p: Promise<unknown>): Promise<KmipError> {
  const err = await rejection(p);
  expect(err.reason).toBe(CRYPTOGRAPHIC_FAILURE);
  return err;
}

function errorText(e: KmipError): string {
  return [e.message, e.describe(), e.stack ?? '', inspect(e, { showHidden: true })].join('\n');
}

/** Runs `fn` in a second, independent logged-in session opened by the test itself. */
function withRawSession<T>(fn: (lib: PKCS11, session: Handle) => T): T {
  const lib = new p11.PKCS11();
  lib.load(token.modulePath);
  let initialised = false;
  try {
    lib.C_Initialize();
    initialised = true;
  } catch (err) {
    if ((err as Error).message !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw err;
  }
  const slot = lib
    .C_GetSlotList(true)
    .find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.tokenLabel);
  if (!slot) throw new Error('test token not found');
  const session = lib.C_OpenSession(slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
  try {
    try {
      lib.C_Login(session, p11.CKU_USER, token.pin);
    } catch (err) {
      if ((err as Error).message !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
    }
    return fn(lib, session);
  } finally {
    lib.C_CloseSession(session);
    if (initialised) lib.C_Finalize();
    lib.close();
  }
}

function findKeys(lib: PKCS11, session: Handle, label: string): Handle[] {
  lib.C_FindObjectsInit(session, [
    { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
    { type: p11.CKA_LABEL, value: label },
  ]);
  const found = lib.C_FindObjects(session, 10);
  lib.C_FindObjectsFinal(session);
  return found;
}

describe('PKCS#11 key wrapper over SoftHSM2', () => {
  it.each([1, 16, 32, 33, 64, 1000])('round-trips %i bytes inside the HSM', async (n) => {
    const w = await wrapper();
    const plain = randomBytes(n);
    const blob = await w.wrap(plain, 'uid-1');
    expect(blob.algorithm).toBe(PKCS11_WRAP_ALGORITHM);
    expect(blob.kekId).toBe(w.kekId);
    expect(blob.blob.length).toBe(12 + n + 16);
    if (n >= 16) expect(blob.blob.includes(plain)).toBe(false);
    expect(await w.unwrap(blob, 'uid-1')).toEqual(plain);
  });

  it('uses a fresh IV each time', async () => {
    const w = await wrapper();
    const a = await w.wrap(SECRET, 'uid-1');
    const b = await w.wrap(SECRET, 'uid-1');
    expect(a.blob.subarray(0, 12)).not.toEqual(b.blob.subarray(0, 12));
    expect(a.blob).not.toEqual(b.blob);
  });

  it('binds the blob to the unique identifier (associated data)', async () => {
    const w = await wrapper();
    const blob = await w.wrap(SECRET, 'uid-1');
    const err = await failure(w.unwrap(blob, 'uid-2'));
    expect(err.message).toContain('uid-2');
    expect(err.message).toContain('failed to authenticate');
    // The failed operation must not poison the next one.
    expect(await w.unwrap(blob, 'uid-1')).toEqual(SECRET);
  });

  it('fails on a flipped bit anywhere in the blob, and on truncation', async () => {
    const w = await wrapper();
    const blob = await w.wrap(SECRET, 'uid-1');
    for (const i of [0, 11, 12, 40, blob.blob.length - 16, blob.blob.length - 1]) {
      const tampered = Buffer.from(blob.blob);
      tampered[i]! ^= 0x01;
      const err = await failure(w.unwrap({ ...blob, blob: tampered }, 'uid-1'));
      expect(err.message).toContain('failed to authenticate');
    }
    await failure(
      w.unwrap({ ...blob, blob: blob.blob.subarray(0, blob.blob.length - 1) }, 'uid-1'),
    );
    await failure(w.unwrap({ ...blob, blob: blob.blob.subarray(0, 28) }, 'uid-1'));
    expect(await w.unwrap(blob, 'uid-1')).toEqual(SECRET);
  });

  it('refuses empty material', async () => {
    const w = await wrapper();
    await failure(w.wrap(Buffer.alloc(0), 'uid-1'));
  });

  it('keeps the KEK on the token: AES-256, sensitive, non-extractable, value unreadable', async () => {
    const w = await wrapper({ kekLabel: 'kek-attributes' });
    await w.wrap(SECRET, 'uid-1');
    withRawSession((lib, session) => {
      const keys = findKeys(lib, session, 'kek-attributes');
      expect(keys).toHaveLength(1);
      const key = keys[0]!;
      const attrs = lib.C_GetAttributeValue(session, key, [
        { type: p11.CKA_TOKEN },
        { type: p11.CKA_PRIVATE },
        { type: p11.CKA_SENSITIVE },
        { type: p11.CKA_EXTRACTABLE },
        { type: p11.CKA_ALWAYS_SENSITIVE },
        { type: p11.CKA_NEVER_EXTRACTABLE },
        { type: p11.CKA_ENCRYPT },
        { type: p11.CKA_DECRYPT },
        { type: p11.CKA_WRAP },
        { type: p11.CKA_KEY_TYPE },
        { type: p11.CKA_VALUE_LEN },
      ]);
      const [tok, priv, sens, extr, alwaysSens, neverExtr, enc, dec, wrap, keyType, len] =
        attrs.map((a) => a.value as Buffer);
      expect(tok![0]).toBe(1);
      expect(priv![0]).toBe(1);
      expect(sens![0]).toBe(1);
      expect(extr![0]).toBe(0);
      expect(alwaysSens![0]).toBe(1);
      expect(neverExtr![0]).toBe(1);
      expect(enc![0]).toBe(1);
      expect(dec![0]).toBe(1);
      expect(wrap![0]).toBe(0);
      expect(keyType!.readUInt32LE(0)).toBe(p11.CKK_AES);
      expect(len!.readUInt32LE(0)).toBe(32);
      expect(() => lib.C_GetAttributeValue(session, key, [{ type: p11.CKA_VALUE }])).toThrow(
        'CKR_ATTRIBUTE_SENSITIVE',
      );
    });
  });

  it('persists the KEK: a wrapper opened later on the same token unwraps', async () => {
    const first = await openPkcs11KeyWrapper(options({ kekLabel: 'kek-persist' }));
    const blob = await first.wrap(SECRET, 'uid-9');
    first.close();
    // The module was finalised with the last wrapper; this one initialises it afresh.
    const second = await wrapper({ kekLabel: 'kek-persist', createIfMissing: false });
    expect(second.kekId).toBe(first.kekId);
    expect(await second.unwrap(blob, 'uid-9')).toEqual(SECRET);
    // Two wrappers open at once share the module and the login.
    const third = await wrapper({ kekLabel: 'kek-persist', createIfMissing: false });
    expect(await third.unwrap(await second.wrap(SECRET, 'uid-3'), 'uid-3')).toEqual(SECRET);
    withRawSession((lib, session) => {
      expect(findKeys(lib, session, 'kek-persist')).toHaveLength(1);
    });
  });

  it('gives each KEK label its own identifier, and refuses blobs of another KEK', async () => {
    const a = await wrapper({ kekLabel: 'kek-a' });
    const b = await wrapper({ kekLabel: 'kek-b' });
    expect(a.kekId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.kekId).not.toBe(b.kekId);
    const blob = await a.wrap(SECRET, 'uid-1');
    const err = await failure(b.unwrap(blob, 'uid-1'));
    expect(err.message).toContain(a.kekId);
    // A blob relabelled with b's identifier still fails: b's key does not authenticate it.
    await failure(b.unwrap({ ...blob, kekId: b.kekId }, 'uid-1'));
  });

  it('does not create a missing KEK unless asked', async () => {
    const err = await rejection(
      openPkcs11KeyWrapper(options({ kekLabel: 'kek-absent', createIfMissing: false })),
    );
    expect(err.reason).toBe(GENERAL_FAILURE);
    expect(err.message).toContain('kek-absent');
  });

  it('refuses an extractable key under the KEK label', async () => {
    withRawSession((lib, session) => {
      lib.C_GenerateKey(session, { mechanism: p11.CKM_AES_KEY_GEN }, [
        { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
        { type: p11.CKA_KEY_TYPE, value: p11.CKK_AES },
        { type: p11.CKA_VALUE_LEN, value: 32 },
        { type: p11.CKA_TOKEN, value: true },
        { type: p11.CKA_SENSITIVE, value: true },
        { type: p11.CKA_EXTRACTABLE, value: true },
        { type: p11.CKA_ENCRYPT, value: true },
        { type: p11.CKA_DECRYPT, value: true },
        { type: p11.CKA_LABEL, value: 'kek-extractable' },
      ]);
    });
    const err = await rejection(openPkcs11KeyWrapper(options({ kekLabel: 'kek-extractable' })));
    expect(err.message).toContain('CKA_EXTRACTABLE');
  });

  it('reads the PIN from a file or an environment variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmipd-pin-'));
    try {
      const pinFile = join(dir, 'pin');
      writeFileSync(pinFile, `${token.pin}\n`, { mode: 0o600 });
      const viaFile = await wrapper({ pin: undefined, pinFile });
      const viaEnv = await wrapper({
        pin: undefined,
        pinEnv: 'KMIPD_HSM_PIN',
        env: { KMIPD_HSM_PIN: token.pin },
      });
      expect(await viaEnv.unwrap(await viaFile.wrap(SECRET, 'u'), 'u')).toEqual(SECRET);
      const unset = await rejection(
        openPkcs11KeyWrapper(options({ pin: undefined, pinEnv: 'KMIPD_NO_SUCH_PIN', env: {} })),
      );
      expect(unset.message).toContain('KMIPD_NO_SUCH_PIN');
      await rejection(openPkcs11KeyWrapper(options({ pinFile })));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a wrong PIN as a configuration error that does not contain the PIN', async () => {
    const wrong = `${token.pin}99`;
    // No wrapper is open, so the token itself checks the PIN (CKR_PIN_INCORRECT).
    const err = await rejection(openPkcs11KeyWrapper(options({ pin: wrong })));
    expect(err.reason).toBe(GENERAL_FAILURE);
    expect(err.message).toMatch(/PIN is incorrect/);
    expect(err.message).toContain(token.tokenLabel);
    const text = errorText(err);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(token.pin);
    // With a wrapper logged in, the token answers CKR_USER_ALREADY_LOGGED_IN without checking;
    // the wrapper still refuses the wrong PIN.
    const good = await wrapper();
    const again = await rejection(openPkcs11KeyWrapper(options({ pin: wrong })));
    expect(again.message).toMatch(/PIN/);
    expect(errorText(again)).not.toContain(wrong);
    expect(await good.unwrap(await good.wrap(SECRET, 'u'), 'u')).toEqual(SECRET);
  });

  it('names a missing token and module clearly', async () => {
    const noToken = await rejection(openPkcs11KeyWrapper(options({ tokenLabel: 'nope' })));
    expect(noToken.message).toContain('"nope" not found');
    expect(noToken.message).toContain(token.tokenLabel);
    const noModule = await rejection(
      openPkcs11KeyWrapper(options({ modulePath: '/nonexistent/libpkcs11.so' })),
    );
    expect(noModule.message).toContain('/nonexistent/libpkcs11.so');
  });

  it('selects the token by slot ID too', async () => {
    const slotId = withRawSession((lib) => {
      const slot = lib
        .C_GetSlotList(true)
        .find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.tokenLabel)!;
      return Number(slot.readBigUInt64LE(0));
    });
    const bySlot = await wrapper({ tokenLabel: undefined, slot: slotId });
    const byLabel = await wrapper();
    expect(bySlot.kekId).toBe(byLabel.kekId);
  });

  it('rejects software-wrapped blobs cleanly, and the software wrapper rejects its blobs', async () => {
    const hsm = await wrapper();
    const soft = new SoftwareKeyWrapper(randomBytes(32));
    const softBlob = await soft.wrap(SECRET, 'uid-1');
    const e1 = await failure(hsm.unwrap(softBlob, 'uid-1'));
    expect(e1.message).toContain('AES-256-GCM');
    expect(e1.message).toContain(PKCS11_WRAP_ALGORITHM);
    // Even when it claims the HSM's KEK, the algorithm does not match.
    await failure(hsm.unwrap({ ...softBlob, kekId: hsm.kekId }, 'uid-1'));

    const hsmBlob = await hsm.wrap(SECRET, 'uid-1');
    await failure(soft.unwrap(hsmBlob, 'uid-1'));
    // Relabelled as a software blob of the software KEK, the same layout fails to authenticate.
    await failure(
      soft.unwrap({ ...hsmBlob, algorithm: 'AES-256-GCM', kekId: soft.kekId }, 'uid-1'),
    );
  });

  it('puts neither the PIN nor material into errors, inspection or JSON', async () => {
    const w = await wrapper();
    const blob = await w.wrap(SECRET, 'uid-1');
    const tampered = Buffer.from(blob.blob);
    tampered[20]! ^= 0xff;
    for (const e of [
      await failure(w.unwrap({ ...blob, blob: tampered }, 'uid-1')),
      await failure(w.unwrap(blob, 'uid-2')),
      await failure(w.unwrap({ ...blob, algorithm: 'ROT13' }, 'uid-1')),
    ]) {
      const text = errorText(e);
      expect(text).not.toContain(token.pin);
      expect(text).not.toContain(SECRET.toString('latin1').slice(0, 12));
      expect(text).not.toContain(blob.blob.toString('hex').slice(0, 24));
    }
    expect(inspect(w, { showHidden: true, depth: 5 })).not.toContain(token.pin);
    expect(JSON.stringify(w)).not.toContain(token.pin);
  });

  it('fails every operation once closed', async () => {
    const w = await openPkcs11KeyWrapper(options());
    const blob = await w.wrap(SECRET, 'uid-1');
    w.close();
    w.close();
    await failure(w.wrap(SECRET, 'uid-1'));
    await failure(w.unwrap(blob, 'uid-1'));
  });
});
