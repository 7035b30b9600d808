// The KEK keyring: wrap with the current version, unwrap any version by the blob's kekId,
// reload when DATA/keks/current moves, first start and migration of DATA/kek.key, and no
// secret in the descriptors or in error messages.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureKeyring, Keyring, type KeyringLog } from '../../src/crypto/keyring.js';
import { deriveKekId, SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { KmipError } from '../../src/errors.js';
import { kekChoiceFromArgs } from '../../src/kek/choice.js';
import { readCurrent, readDescriptors, writeCurrent } from '../../src/kek/layout.js';
import { addKekVersion } from '../../src/kek/rotate.js';

const CRYPTOGRAPHIC_FAILURE = 0x0a;
const CHEAP_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

let dir: string;
const opened: Keyring[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmipd-keyring-'));
});
afterEach(async () => {
  for (const k of opened.splice(0)) await k.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(
  opts: { env?: NodeJS.ProcessEnv; checkIntervalMs?: number; log?: KeyringLog } = {},
) {
  const k = await Keyring.open({ dataDir: dir, ...opts });
  opened.push(k);
  return k;
}

async function rejection(p: Promise<unknown>): Promise<KmipError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KmipError);
    return err as KmipError;
  }
  throw new Error('expected a rejection');
}

describe('first start and migration', () => {
  it('an empty data directory gets version 1, a new software key file, as current', async () => {
    const e = await ensureKeyring({ dataDir: dir });
    expect(e.how).toBe('created');
    expect(e.current).toMatchObject({ version: 1, kind: 'file', keyFile: 'keks/0001.key' });
    const key = readFileSync(join(dir, 'keks', '0001.key'));
    expect(key).toHaveLength(32);
    expect(e.current.kekId).toBe(deriveKekId(key));
    expect(await readCurrent(dir)).toBe(1);
    // A second start changes nothing.
    expect(await ensureKeyring({ dataDir: dir, initial: { kind: 'env', envName: 'X' } })).toEqual({
      current: e.current,
      how: 'existing',
    });
  });

  it('DATA/kek.key from before keyrings becomes version 1, and what it wrapped stays readable', async () => {
    const legacy = randomBytes(32);
    writeFileSync(join(dir, 'kek.key'), legacy, { mode: 0o600 });
    const before = await new SoftwareKeyWrapper(legacy).wrap(Buffer.from('old secret'), 'uid-1');
    const e = await ensureKeyring({ dataDir: dir });
    expect(e.how).toBe('migrated');
    expect(e.current).toMatchObject({ version: 1, kind: 'file', keyFile: 'kek.key' });
    const k = await open();
    expect(k.kekId).toBe(deriveKekId(legacy));
    expect(await k.unwrap(before, 'uid-1')).toEqual(Buffer.from('old secret'));
  });

  it('first start from a KEK in an environment variable', async () => {
    const kek = randomBytes(32);
    const env = { KMIPD_TEST_KEK: kek.toString('hex') };
    const e = await ensureKeyring({
      dataDir: dir,
      initial: { kind: 'env', envName: 'KMIPD_TEST_KEK' },
      env,
    });
    expect(e.current).toMatchObject({ kind: 'env', envName: 'KMIPD_TEST_KEK' });
    expect(e.current.kekId).toBe(deriveKekId(kek));
    const k = await open({ env });
    const blob = await k.wrap(Buffer.from('m'), 'u');
    expect(await new SoftwareKeyWrapper(kek).unwrap(blob, 'u')).toEqual(Buffer.from('m'));
  });
});

describe('wrap and unwrap across versions', () => {
  it('wraps with the current version and unwraps every earlier one by kekId', async () => {
    await ensureKeyring({ dataDir: dir });
    const k = await open({ checkIntervalMs: 0 });
    const v1 = await k.wrap(Buffer.from('one'), 'u1');
    const d2 = await addKekVersion({ dataDir: dir, choice: { kind: 'file' } });
    await writeCurrent(dir, d2.version);
    const v2 = await k.wrap(Buffer.from('two'), 'u2');
    expect(v2.kekId).toBe(d2.kekId);
    expect(v2.kekId).not.toBe(v1.kekId);
    expect(k.kekId).toBe(d2.kekId);
    expect(await k.unwrap(v1, 'u1')).toEqual(Buffer.from('one'));
    expect(await k.unwrap(v2, 'u2')).toEqual(Buffer.from('two'));
    // The uid is still the associated data under each version.
    expect((await rejection(k.unwrap(v1, 'u2'))).reason).toBe(CRYPTOGRAPHIC_FAILURE);
  });

  it('a kekId it does not know: reloads once, then fails with Cryptographic Failure naming it', async () => {
    await ensureKeyring({ dataDir: dir });
    const k = await open({ checkIntervalMs: 60_000 });
    // Another process adds version 2 and wraps with it; this keyring has not looked yet.
    const d2 = await addKekVersion({ dataDir: dir, choice: { kind: 'file' } });
    const other = await Keyring.open({ dataDir: dir });
    opened.push(other);
    const w2 = await (await other.wrapperFor(d2)).wrap(Buffer.from('new'), 'u');
    expect(await k.unwrap(w2, 'u')).toEqual(Buffer.from('new'));

    const stranger = await new SoftwareKeyWrapper(randomBytes(32)).wrap(Buffer.from('x'), 'u');
    const err = await rejection(k.unwrap(stranger, 'u'));
    expect(err.reason).toBe(CRYPTOGRAPHIC_FAILURE);
    expect(err.message).toBe(`object u is wrapped by unknown KEK ${stranger.kekId}`);
  });

  it('notices a new current version no sooner than the check interval', async () => {
    await ensureKeyring({ dataDir: dir });
    const k = await open({ checkIntervalMs: 300 });
    const v1 = k.kekId;
    const d2 = await addKekVersion({ dataDir: dir, choice: { kind: 'file' } });
    await writeCurrent(dir, d2.version);
    expect((await k.wrap(Buffer.from('a'), 'a')).kekId).toBe(v1);
    await new Promise((r) => setTimeout(r, 350));
    expect((await k.wrap(Buffer.from('b'), 'b')).kekId).toBe(d2.kekId);
  });

  it('a new current version that cannot be opened: keeps wrapping with the old one, logs once without secrets', async () => {
    await ensureKeyring({ dataDir: dir });
    const kek = randomBytes(32);
    const env: NodeJS.ProcessEnv = { NEW_KEK: kek.toString('base64') };
    const logged: { fields: object; msg: string }[] = [];
    const log: KeyringLog = {
      info: () => {},
      warn: () => {},
      error: (fields, msg) => logged.push({ fields, msg }),
    };
    const k = await open({ checkIntervalMs: 0, log, env: {} });
    const v1 = k.kekId;
    const d2 = await addKekVersion({
      dataDir: dir,
      choice: { kind: 'env', envName: 'NEW_KEK' },
      env,
    });
    await writeCurrent(dir, d2.version);
    expect((await k.wrap(Buffer.from('a'), 'a')).kekId).toBe(v1);
    expect((await k.wrap(Buffer.from('b'), 'b')).kekId).toBe(v1);
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged)).toContain('NEW_KEK is unset');
    expect(JSON.stringify(logged)).not.toContain(kek.toString('base64'));
  });

  it('refuses a version whose secret changed, saying so without the secret', async () => {
    const first = randomBytes(32).toString('hex');
    await ensureKeyring({
      dataDir: dir,
      initial: { kind: 'env', envName: 'K' },
      env: { K: first },
    });
    const changed = randomBytes(32).toString('hex');
    const err = await rejection(Keyring.open({ dataDir: dir, env: { K: changed } }));
    expect(err.message).toContain('the secret changed');
    expect(err.message).not.toContain(changed);
    expect(err.message).not.toContain(first);
  });
});

describe('descriptors', () => {
  it('hold the public parameters only: no key, passphrase or PIN', async () => {
    const kek = randomBytes(32).toString('hex');
    const passphrase = 'correct horse battery staple';
    const env = { K: kek, P: passphrase };
    await ensureKeyring({ dataDir: dir, initial: { kind: 'env', envName: 'K' }, env });
    await addKekVersion({
      dataDir: dir,
      choice: { kind: 'passphrase', passphraseEnv: 'P', scrypt: CHEAP_SCRYPT },
      env,
    });
    const fileVersion = await addKekVersion({ dataDir: dir, choice: { kind: 'file' }, env });
    const keyFile = readFileSync(join(dir, 'keks', '0003.key'));
    const descriptors = readdirSync(join(dir, 'keks'))
      .filter((n) => n.endsWith('.json'))
      .map((n) => readFileSync(join(dir, 'keks', n)));
    expect(descriptors).toHaveLength(3);
    for (const text of descriptors) {
      expect(text.includes(kek)).toBe(false);
      expect(text.includes(passphrase)).toBe(false);
      expect(text.includes(keyFile)).toBe(false);
      expect(text.includes(keyFile.toString('hex'))).toBe(false);
      expect(text.includes(keyFile.toString('base64'))).toBe(false);
    }
    expect((await readDescriptors(dir)).map((d) => d.kind)).toEqual(['env', 'passphrase', 'file']);
    expect(fileVersion).toMatchObject({ version: 3, keyFile: 'keks/0003.key' });
  });

  it('a passphrase version reopens from the same passphrase and salt', async () => {
    const env = { P: 'a passphrase' };
    await ensureKeyring({
      dataDir: dir,
      initial: { kind: 'passphrase', passphraseEnv: 'P', scrypt: CHEAP_SCRYPT },
      env,
    });
    const blob = await (await open({ env })).wrap(Buffer.from('m'), 'u');
    const again = await open({ env });
    expect(await again.unwrap(blob, 'u')).toEqual(Buffer.from('m'));
    const wrong = await rejection(Keyring.open({ dataDir: dir, env: { P: 'another' } }));
    expect(wrong.message).toContain('the secret changed');
  });

  it('adding a version with the current key is refused', async () => {
    const env = { K: randomBytes(32).toString('hex') };
    await ensureKeyring({ dataDir: dir, initial: { kind: 'env', envName: 'K' }, env });
    const err = await rejection(
      addKekVersion({ dataDir: dir, choice: { kind: 'env', envName: 'K' }, env }),
    );
    expect(err.message).toContain('nothing to rotate to');
  });
});

describe('KEK choice options', () => {
  it.each([
    [{}, undefined],
    [{ 'kek-env': 'K' }, { kind: 'env', envName: 'K' }],
    [{ 'kek-passphrase-env': 'P' }, { kind: 'passphrase', passphraseEnv: 'P' }],
  ])('%j', (args, choice) => {
    expect(kekChoiceFromArgs(args)).toEqual(choice);
  });

  it('an HSM choice keeps the PIN source, never a PIN', () => {
    expect(
      kekChoiceFromArgs({
        'hsm-module': '/usr/lib/softhsm/libsofthsm2.so',
        'hsm-token': 't',
        'hsm-pin-env': 'PIN',
        'hsm-kek-label': 'kek',
      }),
    ).toEqual({
      kind: 'pkcs11',
      modulePath: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 't',
      slot: undefined,
      pinFile: undefined,
      pinEnv: 'PIN',
      kekLabel: 'kek',
    });
  });

  it.each([
    [{ 'kek-file': 'a', 'kek-env': 'K' }, 'choose one KEK source, not --kek-file and --kek-env'],
    [{ 'kek-env': 'K', 'hsm-module': 'm' }, 'not --kek-env and --hsm-*'],
    [{ 'hsm-token': 't' }, 'needs --hsm-module'],
    [{ 'hsm-module': 'm', 'hsm-kek-label': 'l', 'hsm-pin-env': 'P' }, '--hsm-token and --hsm-slot'],
    [
      { 'hsm-module': 'm', 'hsm-token': 't', 'hsm-kek-label': 'l' },
      '--hsm-pin-file and --hsm-pin-env',
    ],
    [{ 'hsm-module': 'm', 'hsm-token': 't', 'hsm-pin-env': 'P' }, 'needs --hsm-kek-label'],
  ])('refuses %j', (args, message) => {
    expect(() => kekChoiceFromArgs(args)).toThrow(message);
  });
});
