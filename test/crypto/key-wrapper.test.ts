// Software key wrapper: AES-256-GCM with the uid as associated data, RFC 5649 AES-KWP,
// and the KEK sources (file, environment, passphrase).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deriveKekId,
  kekFromEnv,
  kekFromPassphrase,
  loadOrCreateKekFile,
  SoftwareKeyWrapper,
  type SoftwareWrapAlgorithm,
} from '../../src/crypto/software-key-wrapper.js';
import { KmipError } from '../../src/errors.js';

const CRYPTOGRAPHIC_FAILURE = 0x0a;
const KEK = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
/** A recognisable plaintext: 64 bytes of a repeating pattern. */
const SECRET = Buffer.from('SECRET-KEY-MATERIAL-'.repeat(4).slice(0, 64));
const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

/** Every text an error could leak through. */
function errorText(err: unknown): string {
  expect(err).toBeInstanceOf(KmipError);
  const e = err as KmipError;
  return [e.message, e.describe(), e.stack ?? '', inspect(e)].join('\n');
}

/** True when any 6-byte window of `needle` occurs in `hay` as raw bytes, hex or base64. */
function leaks(hay: Buffer | string, needle: Buffer): boolean {
  for (let i = 0; i + 6 <= needle.length; i++) {
    const w = needle.subarray(i, i + 6);
    if (typeof hay === 'string') {
      if (hay.toLowerCase().includes(w.toString('hex'))) return true;
      if (hay.includes(w.toString('base64'))) return true;
      if (hay.includes(w.toString('latin1'))) return true;
    } else if (hay.includes(w)) {
      return true;
    }
  }
  return false;
}

/** RFC 5649 §4.1 written out block by block over AES-ECB, as an independent reference. */
function naiveKwp(kek: Buffer, plain: Buffer): Buffer {
  const aes = (block: Buffer) => {
    const c = createCipheriv(`aes-${kek.length * 8}-ecb`, kek, null);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(block), c.final()]);
  };
  const aiv = Buffer.alloc(8);
  aiv.writeUInt32BE(0xa65959a6, 0);
  aiv.writeUInt32BE(plain.length, 4);
  const padded = Buffer.concat([plain, Buffer.alloc((8 - (plain.length % 8)) % 8)]);
  const n = padded.length / 8;
  if (n === 1) return aes(Buffer.concat([aiv, padded]));
  let a = aiv;
  const r = Array.from({ length: n }, (_, i) => padded.subarray(i * 8, i * 8 + 8));
  for (let j = 0; j <= 5; j++) {
    for (let i = 0; i < n; i++) {
      const b = aes(Buffer.concat([a, r[i]!]));
      a = Buffer.alloc(8);
      a.writeBigUInt64BE(b.readBigUInt64BE(0) ^ BigInt(n * j + i + 1));
      r[i] = b.subarray(8);
    }
  }
  return Buffer.concat([a, ...r]);
}

async function failure(p: Promise<unknown>): Promise<KmipError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KmipError);
  expect((err as KmipError).reason).toBe(CRYPTOGRAPHIC_FAILURE);
  return err as KmipError;
}

describe.each<SoftwareWrapAlgorithm>(['AES-256-GCM', 'AES-256-KWP'])('%s', (algorithm) => {
  const wrapper = new SoftwareKeyWrapper(KEK, { algorithm });

  it.each([1, 7, 8, 16, 32, 33, 64, 1000])('round-trips %i bytes', async (n) => {
    const plain = randomBytes(n);
    const w = await wrapper.wrap(plain, 'uid-1');
    expect(w.kekId).toBe(wrapper.kekId);
    expect(w.algorithm).toBe(algorithm);
    expect(await wrapper.unwrap(w, 'uid-1')).toEqual(plain);
  });

  it('leaves nothing of the plaintext in the blob', async () => {
    const w = await wrapper.wrap(SECRET, 'uid-1');
    expect(leaks(w.blob, SECRET)).toBe(false);
  });

  it('fails on any flipped bit of the blob', async () => {
    const w = await wrapper.wrap(SECRET, 'uid-1');
    for (let i = 0; i < w.blob.length; i++) {
      const blob = Buffer.from(w.blob);
      blob[i]! ^= 0x01;
      await failure(wrapper.unwrap({ ...w, blob }, 'uid-1'));
    }
  });

  it('fails on a truncated or extended blob', async () => {
    const w = await wrapper.wrap(SECRET, 'uid-1');
    await failure(wrapper.unwrap({ ...w, blob: w.blob.subarray(0, w.blob.length - 8) }, 'uid-1'));
    await failure(wrapper.unwrap({ ...w, blob: w.blob.subarray(0, 8) }, 'uid-1'));
    await failure(
      wrapper.unwrap({ ...w, blob: Buffer.concat([w.blob, Buffer.alloc(8)]) }, 'uid-1'),
    );
  });

  it('fails under another KEK, even when the blob claims its id', async () => {
    const other = new SoftwareKeyWrapper(randomBytes(32), { algorithm });
    const w = await wrapper.wrap(SECRET, 'uid-1');
    await failure(other.unwrap(w, 'uid-1'));
    await failure(other.unwrap({ ...w, kekId: other.kekId }, 'uid-1'));
  });

  it('never puts the KEK or the plaintext into an error', async () => {
    const w = await wrapper.wrap(SECRET, 'uid-1');
    const tampered = Buffer.from(w.blob);
    tampered[tampered.length - 1]! ^= 0x80;
    const errors = [
      await failure(wrapper.unwrap({ ...w, blob: tampered }, 'uid-1')),
      await failure(wrapper.unwrap({ ...w, kekId: 'ffffffffffffffff' }, 'uid-1')),
      await failure(wrapper.unwrap({ ...w, algorithm: 'ROT13' }, 'uid-1')),
    ];
    for (const e of errors) {
      const text = errorText(e);
      expect(leaks(text, KEK)).toBe(false);
      expect(leaks(text, SECRET)).toBe(false);
    }
    expect(leaks(inspect(wrapper, { showHidden: true, depth: 5 }), KEK)).toBe(false);
    expect(leaks(JSON.stringify(wrapper), KEK)).toBe(false);
  });
});

describe('AES-256-GCM', () => {
  const wrapper = new SoftwareKeyWrapper(KEK);

  it('is the default and lays the blob out as nonce | ciphertext | tag', async () => {
    const w = await wrapper.wrap(SECRET, 'uid-1');
    expect(w.algorithm).toBe('AES-256-GCM');
    expect(w.blob.length).toBe(12 + SECRET.length + 16);
    // Decrypt by hand from the documented layout, with the uid as associated data.
    const d = createDecipheriv('aes-256-gcm', KEK, w.blob.subarray(0, 12));
    d.setAAD(Buffer.from('uid-1'));
    d.setAuthTag(w.blob.subarray(w.blob.length - 16));
    expect(Buffer.concat([d.update(w.blob.subarray(12, w.blob.length - 16)), d.final()])).toEqual(
      SECRET,
    );
  });

  it('uses a fresh nonce each time', async () => {
    const a = await wrapper.wrap(SECRET, 'uid-1');
    const b = await wrapper.wrap(SECRET, 'uid-1');
    expect(a.blob.subarray(0, 12)).not.toEqual(b.blob.subarray(0, 12));
    expect(a.blob).not.toEqual(b.blob);
  });

  it('binds the blob to the unique identifier', async () => {
    const w = await wrapper.wrap(SECRET, 'uid-1');
    const err = await failure(wrapper.unwrap(w, 'uid-2'));
    expect(err.message).toContain('uid-2');
  });

  it('wraps empty material', async () => {
    const w = await wrapper.wrap(Buffer.alloc(0), 'uid-1');
    expect(await wrapper.unwrap(w, 'uid-1')).toEqual(Buffer.alloc(0));
  });
});

describe('AES-256-KWP', () => {
  const wrapper = new SoftwareKeyWrapper(KEK, { algorithm: 'AES-256-KWP' });

  it('agrees with a naive RFC 5649 implementation that reproduces the §6 vectors', async () => {
    // RFC 5649 §6 (192-bit KEK), both vectors.
    const rfcKek = Buffer.from('5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', 'hex');
    expect(
      naiveKwp(rfcKek, Buffer.from('c37b7e6492584340bed12207808941155068f738', 'hex')),
    ).toEqual(
      Buffer.from('138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a', 'hex'),
    );
    expect(naiveKwp(rfcKek, Buffer.from('466f7250617369', 'hex'))).toEqual(
      Buffer.from('afbeb0f07dfbf5419200f2ccb50bb24f', 'hex'),
    );
    for (const n of [1, 7, 8, 9, 20, 32, 33, 64]) {
      const plain = randomBytes(n);
      expect((await wrapper.wrap(plain, 'uid-1')).blob).toEqual(naiveKwp(KEK, plain));
    }
  });

  it('is deterministic and does not bind the uid', async () => {
    const a = await wrapper.wrap(SECRET, 'uid-1');
    const b = await wrapper.wrap(SECRET, 'uid-2');
    expect(a.blob).toEqual(b.blob);
    expect(await wrapper.unwrap(a, 'uid-2')).toEqual(SECRET);
  });

  it('refuses empty material (RFC 5649 §4.1)', async () => {
    await failure(wrapper.wrap(Buffer.alloc(0), 'uid-1'));
  });

  it('unwraps GCM blobs of the same KEK too', async () => {
    const gcm = await new SoftwareKeyWrapper(KEK).wrap(SECRET, 'uid-1');
    expect(await wrapper.unwrap(gcm, 'uid-1')).toEqual(SECRET);
  });
});

describe('KEK identifier', () => {
  it('is 16 hex digits, stable per key, distinct across keys, and reveals no key bytes', () => {
    const id = new SoftwareKeyWrapper(KEK).kekId;
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(new SoftwareKeyWrapper(Buffer.from(KEK)).kekId).toBe(id);
    expect(deriveKekId(KEK)).toBe(id);
    expect(new SoftwareKeyWrapper(randomBytes(32)).kekId).not.toBe(id);
    expect(leaks(id, KEK)).toBe(false);
  });

  it('rejects a KEK of the wrong length without echoing it', () => {
    const short = randomBytes(16);
    let err: unknown;
    try {
      new SoftwareKeyWrapper(short);
    } catch (e) {
      err = e;
    }
    expect(leaks(errorText(err), short)).toBe(false);
  });
});

describe('KEK sources', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kmipd-kek-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the KEK file once, with mode 0600 and 32 random bytes', async () => {
    const path = join(dir, 'kek.bin');
    const first = await loadOrCreateKekFile(path);
    expect(first.created).toBe(true);
    expect(first.key.length).toBe(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.mode).toBe(0o600);
    expect(readFileSync(path)).toEqual(first.key);
    const second = await loadOrCreateKekFile(path);
    expect(second.created).toBe(false);
    expect(second.key).toEqual(first.key);
    expect(await loadOrCreateKekFile(join(dir, 'other.bin'))).not.toEqual(
      expect.objectContaining({ key: first.key }),
    );
  });

  it('lets concurrent starters agree on one KEK', async () => {
    const path = join(dir, 'kek.bin');
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKekFile(path)));
    expect(all.filter((k) => k.created)).toHaveLength(1);
    for (const k of all) expect(k.key).toEqual(all[0]!.key);
  });

  it('rejects a KEK file of the wrong size without echoing its contents', async () => {
    const path = join(dir, 'kek.bin');
    const junk = randomBytes(31);
    writeFileSync(path, junk, { mode: 0o600 });
    const err = await loadOrCreateKekFile(path).catch((e: unknown) => e);
    const text = errorText(err);
    expect(text).toContain('32 bytes');
    expect(leaks(text, junk)).toBe(false);
  });

  it('reports a KEK file readable by others through its mode', async () => {
    const path = join(dir, 'kek.bin');
    writeFileSync(path, KEK, { mode: 0o644 });
    const k = await loadOrCreateKekFile(path);
    expect(k).toMatchObject({ created: false, key: KEK });
    expect(k.mode & 0o077).not.toBe(0);
  });

  it('reads the KEK from the environment as hex or base64', () => {
    expect(kekFromEnv('K', { K: KEK.toString('hex') })).toEqual(KEK);
    expect(kekFromEnv('K', { K: KEK.toString('hex').toUpperCase() })).toEqual(KEK);
    expect(kekFromEnv('K', { K: KEK.toString('base64') })).toEqual(KEK);
    expect(kekFromEnv('K', { K: KEK.toString('base64url') })).toEqual(KEK);
    expect(kekFromEnv('K', {})).toBeUndefined();
  });

  it('rejects a malformed environment KEK without echoing it', () => {
    for (const bad of [
      KEK.subarray(0, 31).toString('hex'),
      `${KEK.toString('hex')}00`,
      'x'.repeat(64),
    ]) {
      let err: unknown;
      try {
        kekFromEnv('KMIPD_KEK', { KMIPD_KEK: bad });
      } catch (e) {
        err = e;
      }
      const text = errorText(err);
      expect(text).toContain('KMIPD_KEK');
      expect(text).not.toContain(bad);
      expect(leaks(text, KEK)).toBe(false);
    }
  });

  it('derives the KEK from a passphrase and a salt file kept beside it', async () => {
    const saltPath = join(dir, 'kek.salt');
    const a = await kekFromPassphrase('correct horse battery staple', saltPath, FAST_SCRYPT);
    expect(a.createdSalt).toBe(true);
    expect(a.key.length).toBe(32);
    expect(statSync(saltPath).mode & 0o777).toBe(0o600);
    expect(statSync(saltPath).size).toBe(16);
    const b = await kekFromPassphrase('correct horse battery staple', saltPath, FAST_SCRYPT);
    expect(b).toEqual({ key: a.key, createdSalt: false });
    const wrong = await kekFromPassphrase('correct horse battery stapler', saltPath, FAST_SCRYPT);
    expect(wrong.key).not.toEqual(a.key);
    const otherSalt = await kekFromPassphrase(
      'correct horse battery staple',
      join(dir, 'other.salt'),
      FAST_SCRYPT,
    );
    expect(otherSalt.key).not.toEqual(a.key);
  });

  it('refuses an empty passphrase', async () => {
    await expect(kekFromPassphrase('', join(dir, 's'), FAST_SCRYPT)).rejects.toBeInstanceOf(
      KmipError,
    );
  });
});
