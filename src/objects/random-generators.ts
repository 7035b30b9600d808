// The random number generators kmipd has, each described as an RNG Parameters structure
// (KMIP 2.1 §7.36; KMIP 1.3 and later), and how a request picks one. KMIP 2.1 §4.46: a client
// may give one or more Random Number Generator values in the attributes of Create, Create Key
// Pair, Derive Key, Re-key or Re-key Key Pair; the server "SHALL use a random number
// generator that matches one of" them, and "if the server does not support or is otherwise
// unable to use a matching random number generator then it SHALL fail the request". The
// generator used is then recorded as the new object's Random Number Generator. RNG Retrieve
// (§6.1.49) has no field naming a generator and uses the default.
//
// Generators (Query RNGs lists them in this order):
// - OpenSSL's CTR_DRBG over AES-256 through node:crypto: the default, and the only one key
//   pair generation of RSA and DSA can use (OpenSSL draws their primes itself);
// - HMAC_DRBG over HMAC-SHA256, HMAC_DRBG over HMAC-SHA1 and Hash_DRBG over SHA-256
//   (src/crypto/drbg.ts), with prediction resistance: each request reseeds from
//   node:crypto.randomBytes first. One instance each per process, made on first use (a
//   cluster worker makes its own), never persisted.

import { randomBytes } from 'node:crypto';
import {
  type Drbg,
  HashDrbg,
  HmacDrbg,
  hashStrength,
  MAX_BYTES_PER_REQUEST,
} from '../crypto/drbg.js';
import type { RandomBytes } from '../crypto/keygen.js';
import { KmipError } from '../errors.js';
import type { Attribute } from '../kmip/attributes.js';
import { bool, enumeration, int, opt, struct, type TypeOf } from '../kmip/schema.js';
import type { TtlvItem } from '../ttlv/item.js';
import {
  CryptographicAlgorithm,
  DRBGAlgorithm,
  HashingAlgorithm,
  ResultReason,
  RNGAlgorithm,
  Tag,
} from '../ttlv/spec/generated.js';
import type { KmipVersion } from '../ttlv/spec/index.js';

/** KMIP 2.1 §7.36 Table 388, in the spec's field order; every field exists from KMIP 1.3 on. */
export const RNGParameters = struct({
  rngAlgorithm: enumeration(Tag.RNGAlgorithm),
  cryptographicAlgorithm: opt(enumeration(Tag.CryptographicAlgorithm)),
  cryptographicLength: opt(int(Tag.CryptographicLength)),
  hashingAlgorithm: opt(enumeration(Tag.HashingAlgorithm)),
  drbgAlgorithm: opt(enumeration(Tag.DRBGAlgorithm)),
  recommendedCurve: opt(enumeration(Tag.RecommendedCurve)),
  fips186Variation: opt(enumeration(Tag.FIPS186Variation)),
  predictionResistance: opt(bool(Tag.PredictionResistance)),
});
export type RngParameters = TypeOf<typeof RNGParameters>;

export interface RandomGenerator {
  /** What the README and error messages call it. */
  readonly name: string;
  /** What Query RNGs answers and new objects record. */
  readonly parameters: RngParameters;
  /** Security strength in bits (SP 800-57 Part 1 §5.6.1). */
  readonly strength: number;
  readonly random: RandomBytes;
}

function tooWeak(g: { name: string; strength: number }, needed: number): KmipError {
  return new KmipError(
    ResultReason.FeatureNotSupported,
    `${g.name} has a security strength of ${g.strength} bits; this key needs ${needed}`,
  );
}

const OPENSSL: RandomGenerator = {
  name: 'CTR_DRBG over AES-256 (OpenSSL, node:crypto)',
  parameters: {
    rngAlgorithm: RNGAlgorithm.DRBG,
    cryptographicAlgorithm: CryptographicAlgorithm.AES,
    cryptographicLength: 256,
    drbgAlgorithm: DRBGAlgorithm.CTR,
  },
  strength: 256,
  random: (bytes) => randomBytes(bytes),
};

/** A DRBG of src/crypto/drbg.ts, instantiated on first use and asked for prediction resistance. */
function drbgGenerator(
  name: string,
  parameters: RngParameters,
  hash: 'sha1' | 'sha256',
  make: typeof HmacDrbg | typeof HashDrbg,
): RandomGenerator {
  let drbg: Drbg | undefined;
  const strength = hashStrength(hash);
  return {
    name,
    parameters,
    strength,
    random(bytes, needed) {
      if (needed > strength) throw tooWeak({ name, strength }, needed);
      drbg ??= new make({ hash, predictionResistance: true }).instantiate({
        // §8.7.1: a personalization string makes each instantiation distinct; not secret.
        personalization: Buffer.from(`kmipd ${name} ${process.pid} ${process.hrtime.bigint()}`),
      });
      const out = Buffer.alloc(bytes);
      for (let at = 0; at < bytes; at += MAX_BYTES_PER_REQUEST) {
        const n = Math.min(MAX_BYTES_PER_REQUEST, bytes - at);
        const chunk = drbg.generate(n, { predictionResistance: true, strength: needed });
        chunk.copy(out, at);
        chunk.fill(0);
      }
      return out;
    },
  };
}

export const GENERATORS: readonly RandomGenerator[] = [
  OPENSSL,
  drbgGenerator(
    'HMAC_DRBG over HMAC-SHA256',
    {
      rngAlgorithm: RNGAlgorithm.DRBG,
      cryptographicAlgorithm: CryptographicAlgorithm.HMAC_SHA256,
      drbgAlgorithm: DRBGAlgorithm.HMAC,
      predictionResistance: true,
    },
    'sha256',
    HmacDrbg,
  ),
  drbgGenerator(
    'HMAC_DRBG over HMAC-SHA1',
    {
      rngAlgorithm: RNGAlgorithm.DRBG,
      cryptographicAlgorithm: CryptographicAlgorithm.HMAC_SHA1,
      drbgAlgorithm: DRBGAlgorithm.HMAC,
      predictionResistance: true,
    },
    'sha1',
    HmacDrbg,
  ),
  drbgGenerator(
    'Hash_DRBG over SHA-256',
    {
      rngAlgorithm: RNGAlgorithm.DRBG,
      hashingAlgorithm: HashingAlgorithm.SHA_256,
      drbgAlgorithm: DRBGAlgorithm.Hash,
      predictionResistance: true,
    },
    'sha256',
    HashDrbg,
  ),
];

/** The generator used when a request names none; new objects have always recorded it. */
export const DEFAULT_GENERATOR: RandomGenerator = OPENSSL;

/** An HMAC_DRBG's hash may be named as HMAC algorithm or as Hashing Algorithm. */
const HMAC_HASH: Readonly<Record<number, number>> = {
  [CryptographicAlgorithm.HMAC_SHA1]: HashingAlgorithm.SHA_1,
  [CryptographicAlgorithm.HMAC_SHA256]: HashingAlgorithm.SHA_256,
};

/**
 * Whether generator `g` is one the request `asked` for: every field the request gives says
 * what `g` is. RNG Algorithm Unspecified leaves the algorithm open; Prediction Resistance
 * False does not ask for it, so a generator with it also serves.
 */
function matches(g: RngParameters, asked: RngParameters): boolean {
  const hash =
    g.hashingAlgorithm ??
    (g.drbgAlgorithm === DRBGAlgorithm.HMAC && g.cryptographicAlgorithm !== undefined
      ? HMAC_HASH[g.cryptographicAlgorithm]
      : undefined);
  const same = <T>(want: T | undefined, have: T | undefined) => want === undefined || want === have;
  return (
    (asked.rngAlgorithm === RNGAlgorithm.Unspecified || asked.rngAlgorithm === g.rngAlgorithm) &&
    same(asked.cryptographicAlgorithm, g.cryptographicAlgorithm) &&
    same(asked.cryptographicLength, g.cryptographicLength) &&
    same(asked.hashingAlgorithm, hash) &&
    same(asked.drbgAlgorithm, g.drbgAlgorithm) &&
    same(asked.recommendedCurve, g.recommendedCurve) &&
    same(asked.fips186Variation, g.fips186Variation) &&
    (asked.predictionResistance !== true || g.predictionResistance === true)
  );
}

/**
 * KMIP 2.1 §4.46: the generator for a new object. None named: the default. Several named:
 * the first kmipd has. None of them: Feature Not Supported (the request is well formed; kmipd
 * lacks what it asks for, as for a key algorithm it cannot generate).
 */
export function generatorFor(given: readonly Attribute[], version: KmipVersion): RandomGenerator {
  const named = given.filter((a) => a.name === 'RandomNumberGenerator');
  if (named.length === 0) return DEFAULT_GENERATOR;
  for (const a of named) {
    const asked = RNGParameters.read(a.value, version);
    const found = GENERATORS.find((g) => matches(g.parameters, asked));
    if (found !== undefined) return found;
  }
  throw new KmipError(
    ResultReason.FeatureNotSupported,
    `no random number generator here matches the one requested; Query RNGs lists the ${GENERATORS.length} there are`,
  );
}

const recorded = new Map<RandomGenerator, TtlvItem>();

/**
 * The Random Number Generator attribute a new object records: RNG Parameters under the
 * attribute's own tag (KMIP 2.1 §4.46). No field of it varies between 1.3 and 2.1, so each
 * generator's is encoded once and shared, as items are never changed in place.
 */
export function rngAttribute(g: RandomGenerator): TtlvItem {
  let attribute = recorded.get(g);
  if (attribute === undefined) {
    attribute = RNGParameters.write(Tag.RandomNumberGenerator, g.parameters, '2.1');
    recorded.set(g, attribute);
  }
  return attribute;
}

/**
 * What key pair generation draws from: nothing for the default (OpenSSL generates the pair
 * with that very generator), the generator's bytes otherwise (src/crypto/keygen.ts).
 */
export function keyPairRandom(g: RandomGenerator): RandomBytes | undefined {
  return g === DEFAULT_GENERATOR ? undefined : g.random;
}
