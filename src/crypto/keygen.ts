// Symmetric key and key pair generation for Create and Create Key Pair (KMIP 1.4 §4.1, §4.2;
// KMIP 2.1 §6.1.8, §6.1.9). Algorithm names follow the KMIP XML normalisation of Cryptographic
// Algorithm (KMIP 2.1 §11.3) so callers can map them from the generated enumeration by name.
// Random bits come from node:crypto unless the caller passes another generator (the
// Random Number Generator a request names, src/objects/random-generators.ts); each draw says
// the security strength the key needs (SP 800-57 Part 1 Rev. 5 §5.6.1.1 Table 2, SP 800-133
// Rev. 2 §4: the generator must support at least that strength).

import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCallback,
  randomBytes,
} from 'node:crypto';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { bigintToBytes, bytesToBigint } from './der.js';
import { curveOrder } from './ecdsa.js';
import { type CurveName, curveByName } from './oids.js';

/** `bytes` random bytes from a generator of at least `strength` bits of security strength. */
export type RandomBytes = (bytes: number, strength: number) => Buffer;

const nodeRandom: RandomBytes = (bytes) => randomBytes(bytes);

export const SYMMETRIC_ALGORITHMS = [
  'AES',
  'DES',
  'DES3',
  'HMAC_SHA1',
  'HMAC_SHA224',
  'HMAC_SHA256',
  'HMAC_SHA384',
  'HMAC_SHA512',
] as const;
export type SymmetricAlgorithm = (typeof SYMMETRIC_ALGORITHMS)[number];

/** Key pair algorithms. ECDSA and ECDH are the KMIP 1.x names for EC keys and generate the same. */
export const ASYMMETRIC_ALGORITHMS = ['RSA', 'EC', 'ECDSA', 'ECDH', 'DSA', 'Ed25519'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export type GeneratedCurve = Extract<CurveName, 'P_256' | 'P_384' | 'P_521' | 'SECP256K1'>;
/** Curves keys are generated on; a length alone picks the first of its size, so P-256 over secp256k1. */
const GENERATED_CURVES: readonly GeneratedCurve[] = ['P_256', 'P_384', 'P_521', 'SECP256K1'];

/** HMAC keys longer than this are refused; keygen must not allocate what a request claims. */
const MAX_HMAC_KEY_BITS = 4096;
/** RSA above 4096 bits takes minutes to generate; a request must not pin a worker that long. */
const MAX_RSA_BITS = 4096;
const MIN_RSA_BITS = 1024;

/** DSA (L, N) pairs of FIPS 186-4 §4.2 that the server generates. */
const DSA_DIVISOR_BITS: Readonly<Record<number, number>> = { 1024: 160, 2048: 256, 3072: 256 };

const SYMMETRIC_ALIASES: Readonly<Record<string, SymmetricAlgorithm>> = {
  TripleDES: 'DES3',
  '3DES': 'DES3',
};

function notSupported(message: string): KmipError {
  return new KmipError(ResultReason.FeatureNotSupported, message);
}

function badLength(message: string): KmipError {
  return new KmipError(ResultReason.InvalidField, message);
}

export function normaliseSymmetricAlgorithm(algorithm: string): SymmetricAlgorithm {
  const name = SYMMETRIC_ALIASES[algorithm] ?? algorithm.replace(/-/g, '_');
  if ((SYMMETRIC_ALGORITHMS as readonly string[]).includes(name)) return name as SymmetricAlgorithm;
  throw notSupported(`symmetric key generation for ${algorithm} is not supported`);
}

/**
 * Key material bytes for a Cryptographic Length in bits. DES and 3DES lengths may be given
 * with or without parity bits: DES 56|64; 3DES 112|128 (two keys) and 168|192 (three keys).
 * The KMIP test cases use 112 and 168, PyKMIP uses 128 and 192.
 */
export function symmetricKeyBytes(algorithm: string, lengthBits: number): number {
  const name = normaliseSymmetricAlgorithm(algorithm);
  if (!Number.isSafeInteger(lengthBits) || lengthBits <= 0) {
    throw badLength(`cryptographic length ${lengthBits} is not a positive integer`);
  }
  switch (name) {
    case 'AES':
      if (lengthBits === 128 || lengthBits === 192 || lengthBits === 256) return lengthBits / 8;
      break;
    case 'DES':
      if (lengthBits === 56 || lengthBits === 64) return 8;
      break;
    case 'DES3':
      if (lengthBits === 112 || lengthBits === 128) return 16;
      if (lengthBits === 168 || lengthBits === 192) return 24;
      break;
    default:
      if (lengthBits % 8 === 0 && lengthBits <= MAX_HMAC_KEY_BITS) return lengthBits / 8;
  }
  throw badLength(`cryptographic length ${lengthBits} is not valid for ${name}`);
}

/**
 * Security strength of a symmetric key in bits (SP 800-57 Part 1 Rev. 5 Table 2): AES its
 * length, three-key TDEA 112, two-key TDEA 80 and DES 56; an HMAC key or a secret its length,
 * capped at 256 (the highest strength any generator here has).
 */
export function symmetricKeyStrength(algorithm: string, lengthBits: number): number {
  switch (normaliseSymmetricAlgorithm(algorithm)) {
    case 'AES':
      return lengthBits;
    case 'DES':
      return 56;
    case 'DES3':
      return lengthBits >= 168 ? 112 : 80;
    default:
      return Math.min(lengthBits, 256);
  }
}

/** Random key material; DES and 3DES keys get odd parity in each byte's low bit (FIPS 46-3 §3). */
export function generateSymmetricKey(
  algorithm: string,
  lengthBits: number,
  random: RandomBytes = nodeRandom,
): Buffer {
  const size = symmetricKeyBytes(algorithm, lengthBits);
  const key = random(size, symmetricKeyStrength(algorithm, lengthBits));
  const name = normaliseSymmetricAlgorithm(algorithm);
  if (name === 'DES' || name === 'DES3') setOddParity(key);
  return key;
}

export function setOddParity(key: Buffer): void {
  for (let i = 0; i < key.length; i++) {
    const byte = (key[i] ?? 0) & 0xfe;
    let ones = 0;
    for (let b = byte; b; b >>= 1) ones += b & 1;
    key[i] = ones % 2 === 0 ? byte | 1 : byte;
  }
}

export type KeyPairSpec =
  | { algorithm: 'RSA'; lengthBits: number; publicExponent?: bigint }
  | { algorithm: 'EC' | 'ECDSA' | 'ECDH'; curve?: string; lengthBits?: number }
  | { algorithm: 'DSA'; lengthBits: number }
  | { algorithm: 'Ed25519' };

export interface GeneratedKeyPair {
  algorithm: AsymmetricAlgorithm;
  /** RSA and DSA modulus bits, EC field bits, 256 (the 32-byte key) for Ed25519. */
  lengthBits: number;
  curve?: GeneratedCurve;
  /** PKCS#8 PrivateKeyInfo (RFC 5208) DER. */
  privateKeyDer: Buffer;
  /** SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) DER. */
  publicKeyDer: Buffer;
}

const DER_ENCODING = {
  publicKeyEncoding: { type: 'spki', format: 'der' },
  privateKeyEncoding: { type: 'pkcs8', format: 'der' },
} as const;

/** Picks the curve from an explicit name, or from a Cryptographic Length when only that is given. */
export function resolveCurve(
  curve: string | undefined,
  lengthBits: number | undefined,
): GeneratedCurve {
  if (curve !== undefined) {
    const info = curveByName(curve);
    const name = info?.name as GeneratedCurve | undefined;
    if (!name || !GENERATED_CURVES.includes(name)) {
      throw notSupported(`key generation on curve ${curve} is not supported`);
    }
    if (lengthBits !== undefined && info?.bits !== lengthBits) {
      throw badLength(`cryptographic length ${lengthBits} does not match curve ${name}`);
    }
    return name;
  }
  const byLength = GENERATED_CURVES.find((c) => curveByName(c)?.bits === lengthBits);
  if (!byLength) throw badLength(`no supported curve has cryptographic length ${lengthBits}`);
  return byLength;
}

type DerPair = Pick<GeneratedKeyPair, 'privateKeyDer' | 'publicKeyDer'>;

/** Security strength of keys on each curve (SP 800-57 Part 1 Rev. 5 Table 2: half of len(n)). */
const CURVE_STRENGTH: Readonly<Record<GeneratedCurve, number>> = {
  P_256: 128,
  P_384: 192,
  P_521: 256,
  SECP256K1: 128,
};

/**
 * Draws before rejection sampling gives up: stops a faulty generator looping key generation.
 * A draw is rejected with probability about 2^-32 at most (P-256).
 */
const MAX_SCALAR_TRIES = 64;

/**
 * An EC key pair from a private scalar drawn from `random` (FIPS 186-5 §A.2.2, rejection
 * sampling: N = len(n) bits c until c ≤ n − 2, then d = c + 1). OpenSSL computes d·G.
 */
function ecPairFrom(curve: GeneratedCurve, random: RandomBytes): DerPair {
  const info = curveByName(curve)!;
  const n = curveOrder(curve);
  const bits = n.toString(2).length;
  const size = Math.ceil(bits / 8);
  for (let i = 0; i < MAX_SCALAR_TRIES; i++) {
    const raw = random(size, CURVE_STRENGTH[curve]);
    raw[0] = (raw[0] ?? 0) & (0xff >> (size * 8 - bits));
    const c = bytesToBigint(raw);
    raw.fill(0);
    if (c > n - 2n) continue;
    const d = bigintToBytes(c + 1n, size);
    const ecdh = createECDH(info.nodeName);
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey();
    const half = (point.length - 1) / 2;
    const b64 = (x: Uint8Array) => Buffer.from(x).toString('base64url');
    const key = createPrivateKey({
      key: {
        kty: 'EC',
        crv: JWK_CURVE[curve],
        d: b64(d),
        x: b64(point.subarray(1, 1 + half)),
        y: b64(point.subarray(1 + half)),
      },
      format: 'jwk',
    });
    d.fill(0);
    return {
      privateKeyDer: key.export(DER_ENCODING.privateKeyEncoding),
      publicKeyDer: createPublicKey(key).export(DER_ENCODING.publicKeyEncoding),
    };
  }
  throw new KmipError(ResultReason.CryptographicFailure, 'no private scalar could be drawn');
}

const JWK_CURVE: Readonly<Record<GeneratedCurve, string>> = {
  P_256: 'P-256',
  P_384: 'P-384',
  P_521: 'P-521',
  SECP256K1: 'secp256k1',
};

/** RFC 8410 §7 PKCS#8 prefix of an Ed25519 private key: the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 key pair from a 32-byte seed drawn from `random` (RFC 8032 §5.1.5; 128 bits). */
function ed25519PairFrom(random: RandomBytes): DerPair {
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, random(32, 128)]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  return {
    privateKeyDer: key.export(DER_ENCODING.privateKeyEncoding),
    publicKeyDer: createPublicKey(key).export(DER_ENCODING.publicKeyEncoding),
  };
}

/**
 * A key pair. Without `random`, OpenSSL generates it with its own generator (node:crypto's,
 * the server's default). With one, EC and Ed25519 private keys are drawn from it; RSA and DSA
 * are refused, as their primes are searched for inside OpenSSL, which takes no generator.
 */
export async function generateKeyPair(
  spec: KeyPairSpec,
  random?: RandomBytes,
): Promise<GeneratedKeyPair> {
  if (random !== undefined) return generateKeyPairWith(spec, random);
  switch (spec.algorithm) {
    case 'RSA': {
      const bits = spec.lengthBits;
      if (!Number.isSafeInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS || bits % 8) {
        throw badLength(`RSA length ${bits} must be a multiple of 8 from 1024 to 4096`);
      }
      const e = spec.publicExponent ?? 65537n;
      if (e < 3n || e % 2n === 0n || e > 0xffffffffn) {
        throw badLength('RSA public exponent must be odd, at least 3, and fit 32 bits');
      }
      const pair = await derPair((done) =>
        generateKeyPairCallback(
          'rsa',
          { modulusLength: bits, publicExponent: Number(e), ...DER_ENCODING },
          done,
        ),
      );
      return { algorithm: 'RSA', lengthBits: bits, ...pair };
    }
    case 'EC':
    case 'ECDSA':
    case 'ECDH': {
      const curve = resolveCurve(spec.curve, spec.lengthBits);
      const info = curveByName(curve)!;
      const pair = await derPair((done) =>
        generateKeyPairCallback('ec', { namedCurve: info.nodeName, ...DER_ENCODING }, done),
      );
      return { algorithm: spec.algorithm, lengthBits: info.bits, curve, ...pair };
    }
    case 'DSA': {
      const divisorLength = DSA_DIVISOR_BITS[spec.lengthBits];
      if (divisorLength === undefined) {
        throw badLength(`DSA length ${spec.lengthBits} must be 1024, 2048 or 3072`);
      }
      const modulusLength = spec.lengthBits;
      const pair = await derPair((done) =>
        generateKeyPairCallback('dsa', { modulusLength, divisorLength, ...DER_ENCODING }, done),
      );
      return { algorithm: 'DSA', lengthBits: modulusLength, ...pair };
    }
    case 'Ed25519': {
      const pair = await derPair((done) => generateKeyPairCallback('ed25519', DER_ENCODING, done));
      return { algorithm: 'Ed25519', lengthBits: 256, ...pair };
    }
    default:
      throw notSupported(
        `key pair generation for ${(spec as { algorithm: string }).algorithm} is not supported`,
      );
  }
}

function generateKeyPairWith(spec: KeyPairSpec, random: RandomBytes): GeneratedKeyPair {
  switch (spec.algorithm) {
    case 'EC':
    case 'ECDSA':
    case 'ECDH': {
      const curve = resolveCurve(spec.curve, spec.lengthBits);
      const bits = curveByName(curve)!.bits;
      return { algorithm: spec.algorithm, lengthBits: bits, curve, ...ecPairFrom(curve, random) };
    }
    case 'Ed25519':
      return { algorithm: 'Ed25519', lengthBits: 256, ...ed25519PairFrom(random) };
    default:
      throw notSupported(
        `${spec.algorithm} key pairs are generated inside OpenSSL with its own generator (CTR_DRBG over AES-256); no other can be used`,
      );
  }
}

type DerCallback = (err: Error | null, publicKey: Buffer, privateKey: Buffer) => void;

/** Generation runs on the libuv pool so large RSA and DSA keys do not block the event loop. */
function derPair(
  start: (done: DerCallback) => void,
): Promise<{ privateKeyDer: Buffer; publicKeyDer: Buffer }> {
  return new Promise((resolve, reject) => {
    start((err, publicKey, privateKey) => {
      if (err) reject(new KmipError(ResultReason.GeneralFailure, 'key pair generation failed'));
      else resolve({ privateKeyDer: privateKey, publicKeyDer: publicKey });
    });
  });
}
