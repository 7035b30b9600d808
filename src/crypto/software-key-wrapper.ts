// Software key wrapper: a 256-bit key-encryption key held in process memory.
//
// AES-256-GCM (NIST SP 800-38D): blob = nonce (12 random bytes) | ciphertext | tag (16);
// the object's unique identifier is the associated data, so a blob copied onto another
// object fails to unwrap.
// AES-256-KWP (RFC 5649 AES Key Wrap with Padding): deterministic and nonce-free, the form
// HSMs accept (PKCS#11 CKM_AES_KEY_WRAP_KWP); it has no associated data and so does not
// bind the uid.
//
// KEK sources: a file of 32 random bytes created on first start, an environment variable
// (hex or base64), or a passphrase stretched with scrypt under a salt file.

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  scrypt,
} from 'node:crypto';
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { cryptographicFailure, type KeyWrapper, type WrappedBlob } from './key-wrapper.js';

export const KEK_BYTES = 32;
export type SoftwareWrapAlgorithm = 'AES-256-GCM' | 'AES-256-KWP';

const GCM_NONCE = 12;
const GCM_TAG = 16;
/** RFC 5649 §3: the alternative initial value's constant half; the cipher appends the length. */
const KWP_AIV = Buffer.from('a65959a6', 'hex');
const KEK_ID_LABEL = 'kmipd key-encryption key identifier v1';

function configError(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

/** First 8 bytes of HMAC-SHA-256(KEK, fixed label), hex: names the KEK without revealing it. */
export function deriveKekId(kek: Buffer | KeyObject): string {
  return createHmac('sha256', kek).update(KEK_ID_LABEL).digest().subarray(0, 8).toString('hex');
}

export class SoftwareKeyWrapper implements KeyWrapper {
  readonly kekId: string;
  readonly algorithm: SoftwareWrapAlgorithm;
  /** A KeyObject, so that inspecting or logging the wrapper never prints the key. */
  readonly #kek: KeyObject;

  constructor(kek: Buffer, opts: { algorithm?: SoftwareWrapAlgorithm } = {}) {
    if (kek.length !== KEK_BYTES) {
      throw configError(`key-encryption key must be ${KEK_BYTES} bytes, got ${kek.length}`);
    }
    this.#kek = createSecretKey(Buffer.from(kek));
    this.kekId = deriveKekId(this.#kek);
    this.algorithm = opts.algorithm ?? 'AES-256-GCM';
  }

  async wrap(plain: Buffer, uid: string): Promise<WrappedBlob> {
    if (this.algorithm === 'AES-256-KWP') {
      // RFC 5649 §4.1 wraps 1 to 2^32 octets.
      if (plain.length === 0) throw cryptographicFailure(`AES-256-KWP cannot wrap empty material`);
      const c = createCipheriv('id-aes256-wrap-pad', this.#kek, KWP_AIV);
      const blob = Buffer.concat([c.update(plain), c.final()]);
      return { kekId: this.kekId, algorithm: this.algorithm, blob };
    }
    const nonce = randomBytes(GCM_NONCE);
    const c = createCipheriv('aes-256-gcm', this.#kek, nonce, { authTagLength: GCM_TAG });
    c.setAAD(Buffer.from(uid, 'utf8'));
    const blob = Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
    return { kekId: this.kekId, algorithm: this.algorithm, blob };
  }

  async unwrap(w: WrappedBlob, uid: string): Promise<Buffer> {
    if (w.kekId !== this.kekId) {
      throw cryptographicFailure(
        `material of object ${uid} is wrapped under key-encryption key ${w.kekId}, not ${this.kekId}`,
      );
    }
    const fail = () => cryptographicFailure(`material of object ${uid} failed to authenticate`);
    if (w.algorithm === 'AES-256-GCM') {
      if (w.blob.length < GCM_NONCE + GCM_TAG) throw fail();
      const nonce = w.blob.subarray(0, GCM_NONCE);
      const tag = w.blob.subarray(w.blob.length - GCM_TAG);
      const d = createDecipheriv('aes-256-gcm', this.#kek, nonce, { authTagLength: GCM_TAG });
      d.setAAD(Buffer.from(uid, 'utf8'));
      d.setAuthTag(tag);
      const body = d.update(w.blob.subarray(GCM_NONCE, w.blob.length - GCM_TAG));
      try {
        return Buffer.concat([body, d.final()]);
      } catch {
        body.fill(0);
        throw fail();
      }
    }
    if (w.algorithm === 'AES-256-KWP') {
      // RFC 5649 §4.2: at least two 64-bit blocks.
      if (w.blob.length < 16 || w.blob.length % 8 !== 0) throw fail();
      try {
        const d = createDecipheriv('id-aes256-wrap-pad', this.#kek, KWP_AIV);
        return Buffer.concat([d.update(w.blob), d.final()]);
      } catch {
        throw fail();
      }
    }
    throw cryptographicFailure(`material of object ${uid} uses unknown wrapping algorithm`);
  }
}

/**
 * Reads a secret file of exactly `bytes` bytes, or creates it with mode 0600 from random
 * bytes when missing. Creation writes a private temporary file and hard-links it into
 * place, so a concurrent starter either wins or reads the complete file, never a partial
 * one. An existing file is only read, so it may sit on a read-only mount.
 */
async function readOrCreateSecretFile(
  path: string,
  bytes: number,
  what: string,
): Promise<{ data: Buffer; created: boolean; mode: number }> {
  let created = false;
  if (!(await exists(path))) {
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.chmod(0o600);
      await fh.writeFile(randomBytes(bytes));
      await fh.sync();
      await link(tmp, path);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await fh.close();
      await unlink(tmp);
    }
  }
  const data = await readFile(path);
  if (data.length !== bytes) {
    data.fill(0);
    throw configError(`${what} file ${path} must hold exactly ${bytes} bytes`);
  }
  return { data, created, mode: (await stat(path)).mode & 0o777 };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export interface KekFile {
  key: Buffer;
  /** True when this call generated the file. */
  created: boolean;
  /** Permission bits; anything beyond 0600 deserves a warning. */
  mode: number;
}

/** The KEK from a file of 32 raw bytes, created with mode 0600 on first start. */
export async function loadOrCreateKekFile(path: string): Promise<KekFile> {
  const { data, created, mode } = await readOrCreateSecretFile(path, KEK_BYTES, 'KEK');
  return { key: data, created, mode };
}

/** Decodes a 32-byte KEK written as 64 hex digits or as base64 (standard or URL-safe). */
export function parseKek(text: string, source: string): Buffer {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) key = Buffer.from(t, 'base64');
  if (key?.length !== KEK_BYTES) {
    throw configError(`${source} must hold ${KEK_BYTES} bytes as 64 hex digits or base64`);
  }
  return key;
}

/** The KEK from an environment variable, or undefined when it is unset or empty. */
export function kekFromEnv(
  name = 'KMIPD_KEK',
  env: NodeJS.ProcessEnv = process.env,
): Buffer | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  return parseKek(value, `environment variable ${name}`);
}

/** scrypt cost (RFC 7914 §2). The default costs about 128 MiB and a few hundred ms once. */
export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };
const SALT_BYTES = 16;

/** The KEK from a passphrase: scrypt under a random salt kept in `saltPath` (0600). */
export async function kekFromPassphrase(
  passphrase: string,
  saltPath: string,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<{ key: Buffer; createdSalt: boolean }> {
  if (passphrase.length === 0) throw configError('KEK passphrase is empty');
  const salt = await readOrCreateSecretFile(saltPath, SALT_BYTES, 'KEK salt');
  const key = await new Promise<Buffer>((resolve, reject) => {
    scrypt(
      passphrase.normalize('NFC'),
      salt.data,
      KEK_BYTES,
      { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 },
      (err, derived) => (err ? reject(configError('scrypt failed')) : resolve(derived)),
    );
  });
  return { key, createdSalt: salt.created };
}
