// Key derivation functions behind Derive Key (KMIP 2.1 §6.1.17, KMIP 1.4 §4.6), one per
// Derivation Method (KMIP 2.1 §11.13). Each returns exactly `length` bytes or refuses; none
// logs or echoes its inputs. Choices the specification leaves open are fixed here:
// - HASH: the hash of the base material followed by the Derivation Data (if any), truncated;
// - HMAC: HMAC keyed with the base material over the Derivation Data, truncated;
// - ENCRYPT: the Derivation Data encrypted under the base key, truncated; the IV must be given;
// - NIST800-108-C/F/DPI: SP 800-108 counter, feedback and double-pipeline modes with HMAC as
//   the PRF, a 32-bit big-endian counter before the fixed input data (the Derivation Data),
//   and the Initialization Vector as K(0) in feedback mode;
// - HKDF: RFC 5869 with the Salt and the Derivation Data as info;
// - Asymmetric Key: the leftmost bytes of the ECDH shared secret Z.
// TC-DERIVEKEY-1..5 (KMIP Test Cases 1.4) give the expected output of HASH, HMAC and PBKDF2.

import { createHash, createHmac, diffieHellman, hkdf, type KeyObject, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { KmipError } from '../errors.js';
import type { CryptographicParameters } from '../kmip/cryptographic-parameters.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { symmetricSession } from './cipher.js';

const pbkdf2Async = promisify(pbkdf2);
const hkdfAsync = promisify(hkdf);

/**
 * PBKDF2 Iteration Count ceiling: one request must not hold a worker thread for minutes (CPU
 * exhaustion). 10,000,000 rounds of HMAC-SHA-256 take a few seconds.
 */
export const MAX_ITERATION_COUNT = 10_000_000;

const invalid = (what: string) => new KmipError(ResultReason.InvalidField, what);

function truncated(out: Buffer, length: number, what: string): Buffer {
  if (out.length < length) {
    throw invalid(`${what} gives at most ${out.length * 8} bits; ask for fewer`);
  }
  return out.subarray(0, length);
}

/** RFC 8018 §5.2 PBKDF2 with HMAC over `hash` (node name); the base material is the password. */
export async function pbkdf2Derive(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  hash: string,
  length: number,
): Promise<Buffer> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATION_COUNT) {
    throw invalid(`Iteration Count must be from 1 to ${MAX_ITERATION_COUNT}`);
  }
  return pbkdf2Async(password, salt, iterations, length, hash);
}

export function hashDerive(
  hash: string,
  base: Uint8Array,
  data: Uint8Array | undefined,
  length: number,
): Buffer {
  const h = createHash(hash).update(base);
  if (data !== undefined) h.update(data);
  return truncated(h.digest(), length, 'HASH');
}

export function hmacDerive(hash: string, key: Uint8Array, data: Uint8Array, length: number) {
  return truncated(createHmac(hash, key).update(data).digest(), length, 'HMAC');
}

/** The Derivation Data encrypted under the base key with the given parameters. */
export function encryptDerive(
  algorithm: number,
  key: Buffer,
  params: CryptographicParameters,
  iv: Uint8Array | undefined,
  data: Uint8Array,
  length: number,
): Buffer {
  const session = symmetricSession('encrypt', algorithm, key, params, { iv });
  if (session.generatedIv !== undefined) {
    throw invalid('ENCRYPT derivation needs an Initialization Vector for this mode');
  }
  const out = Buffer.concat([session.update(data), session.final().data]);
  return truncated(out, length, 'ENCRYPT');
}

export type Sp800108Mode = 'counter' | 'feedback' | 'double-pipeline';

/** NIST SP 800-108r1 §4.1-§4.3 with HMAC(`hash`) as the PRF. */
export function sp800108Derive(
  mode: Sp800108Mode,
  hash: string,
  key: Uint8Array,
  fixed: Uint8Array,
  iv: Uint8Array | undefined,
  length: number,
): Buffer {
  const prf = (...parts: Uint8Array[]) => {
    const h = createHmac(hash, key);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const blocks: Buffer[] = [];
  let produced = 0;
  let previous: Buffer = Buffer.from(iv ?? []);
  let a: Buffer = Buffer.from(fixed);
  for (let i = 1; produced < length; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i);
    let k: Buffer;
    if (mode === 'counter') k = prf(counter, fixed);
    else if (mode === 'feedback') k = prf(previous, counter, fixed);
    else {
      a = prf(a);
      k = prf(a, counter, fixed);
    }
    previous = k;
    blocks.push(k);
    produced += k.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** RFC 5869 HKDF (KMIP 2.0+): extract with the Salt, expand with the Derivation Data as info. */
export async function hkdfDerive(
  hash: string,
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array | undefined,
  length: number,
): Promise<Buffer> {
  try {
    return Buffer.from(
      await hkdfAsync(hash, ikm, salt ?? Buffer.alloc(0), info ?? Buffer.alloc(0), length),
    );
  } catch {
    throw invalid('HKDF cannot give that many bits with this hash');
  }
}

/** ECDH (SP 800-56A shared secret Z) between a private key and the peer's public key. */
export function ecdhDerive(privateKey: KeyObject, publicKey: KeyObject, length: number): Buffer {
  let z: Buffer;
  try {
    z = diffieHellman({ privateKey, publicKey });
  } catch {
    throw invalid('the private and public keys do not agree on a curve');
  }
  return truncated(z, length, 'the shared secret');
}
