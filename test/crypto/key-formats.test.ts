import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ecPrivateFromPkcs8,
  ecPrivateFromSec1,
  ecPrivatePkcs8ToSec1,
  ecPrivateSec1ToPkcs8,
  ecPrivateToPkcs8,
  ecPrivateToSec1,
  ecPublicFromSpki,
  ecPublicToSpki,
  inspectKeyDer,
  rsaPrivateFromPkcs1,
  rsaPrivateFromPkcs8,
  rsaPrivatePkcs1ToPkcs8,
  rsaPrivatePkcs8ToPkcs1,
  rsaPrivateToPkcs1,
  rsaPrivateToPkcs8,
  rsaPublicFromPkcs1,
  rsaPublicFromSpki,
  rsaPublicPkcs1ToSpki,
  rsaPublicSpkiToPkcs1,
  rsaPublicToPkcs1,
  rsaPublicToSpki,
} from '../../src/crypto/key-formats.js';
import { KmipError } from '../../src/errors.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';

const b64url = (text: string | undefined) =>
  BigInt(`0x${Buffer.from(text!, 'base64url').toString('hex')}`);
const bytes64 = (text: string | undefined) => Buffer.from(text!, 'base64url');

function der(key: KeyObject, type: 'pkcs1' | 'pkcs8' | 'spki' | 'sec1'): Buffer {
  return key.export({ format: 'der', type } as never) as Buffer;
}

function expectInvalidField(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(KmipError);
  expect((caught as KmipError).reason).toBe(ResultReason.InvalidField);
}

function roundTripSignature(privateKey: KeyObject, publicKey: KeyObject): void {
  const data = Buffer.from('key-formats check');
  expect(verify('sha256', data, publicKey, sign('sha256', data, privateKey))).toBe(true);
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const rsaJwk = rsa.privateKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ecJwk = ec.privateKey.export({ format: 'jwk' });

describe('RSA private keys (RFC 8017 A.1.2, RFC 5208)', () => {
  const pkcs1 = der(rsa.privateKey, 'pkcs1');
  const pkcs8 = der(rsa.privateKey, 'pkcs8');
  const components = {
    n: b64url(rsaJwk.n),
    e: b64url(rsaJwk.e),
    d: b64url(rsaJwk.d),
    p: b64url(rsaJwk.p),
    q: b64url(rsaJwk.q),
    dp: b64url(rsaJwk.dp),
    dq: b64url(rsaJwk.dq),
    qinv: b64url(rsaJwk.qi),
  };

  it('reads the components node:crypto wrote', () => {
    expect(rsaPrivateFromPkcs1(pkcs1)).toEqual(components);
    expect(rsaPrivateFromPkcs8(pkcs8)).toEqual(components);
  });

  it('writes the same bytes node:crypto writes', () => {
    expect(rsaPrivateToPkcs1(components).equals(pkcs1)).toBe(true);
    expect(rsaPrivateToPkcs8(components).equals(pkcs8)).toBe(true);
    expect(rsaPrivatePkcs1ToPkcs8(pkcs1).equals(pkcs8)).toBe(true);
    expect(rsaPrivatePkcs8ToPkcs1(pkcs8).equals(pkcs1)).toBe(true);
  });

  it('recovers p, q and the CRT values from n, e and d alone', () => {
    const { n, e, d } = components;
    const rebuilt = rsaPrivateFromPkcs1(rsaPrivateToPkcs1({ n, e, d }));
    expect(new Set([rebuilt.p, rebuilt.q])).toEqual(new Set([components.p, components.q]));
    const key = createPrivateKey({
      key: rsaPrivateToPkcs8({ n, e, d }),
      format: 'der',
      type: 'pkcs8',
    });
    roundTripSignature(key, rsa.publicKey);
  });

  it('refuses primes that do not multiply to n and exponents that do not match', () => {
    expectInvalidField(() => rsaPrivateToPkcs1({ ...components, q: components.q + 2n }));
    expectInvalidField(() =>
      rsaPrivateToPkcs1({ n: components.n, e: 65537n, d: components.d + 2n }),
    );
  });

  it('round trips through node for fresh keys', () => {
    fc.assert(
      fc.property(fc.constantFrom(512, 768, 1024), (bits) => {
        const pair = generateKeyPairSync('rsa', { modulusLength: bits });
        const pkcs8Der = rsaPrivatePkcs1ToPkcs8(der(pair.privateKey, 'pkcs1'));
        const key = createPrivateKey({ key: pkcs8Der, format: 'der', type: 'pkcs8' });
        roundTripSignature(key, pair.publicKey);
      }),
      { numRuns: 10 },
    );
  });
});

describe('RSA public keys (RFC 8017 A.1.1, RFC 5280 §4.1.2.7)', () => {
  const pkcs1 = der(rsa.publicKey, 'pkcs1');
  const spki = der(rsa.publicKey, 'spki');
  const components = { n: b64url(rsaJwk.n), e: b64url(rsaJwk.e) };

  it('converts between PKCS#1, SPKI and components byte for byte', () => {
    expect(rsaPublicFromPkcs1(pkcs1)).toEqual(components);
    expect(rsaPublicFromSpki(spki)).toEqual(components);
    expect(rsaPublicToPkcs1(components).equals(pkcs1)).toBe(true);
    expect(rsaPublicToSpki(components).equals(spki)).toBe(true);
    expect(rsaPublicPkcs1ToSpki(pkcs1).equals(spki)).toBe(true);
    expect(rsaPublicSpkiToPkcs1(spki).equals(pkcs1)).toBe(true);
  });

  it('round trips arbitrary positive n and e', () => {
    const positive = fc.bigInt({ min: 1n, max: (1n << 4096n) - 1n });
    fc.assert(
      fc.property(positive, positive, (n, e) => {
        expect(rsaPublicFromSpki(rsaPublicToSpki({ n, e }))).toEqual({ n, e });
        expect(rsaPublicFromPkcs1(rsaPublicToPkcs1({ n, e }))).toEqual({ n, e });
      }),
    );
  });

  it('refuses an EC key where RSA is expected', () => {
    expectInvalidField(() => rsaPublicSpkiToPkcs1(der(ec.publicKey, 'spki')));
    expectInvalidField(() => rsaPrivatePkcs8ToPkcs1(der(ec.privateKey, 'pkcs8')));
  });
});

describe('EC keys (RFC 5915, RFC 5480)', () => {
  const sec1 = der(ec.privateKey, 'sec1');
  const pkcs8 = der(ec.privateKey, 'pkcs8');
  const spki = der(ec.publicKey, 'spki');
  const q = Buffer.concat([Buffer.of(4), bytes64(ecJwk.x), bytes64(ecJwk.y)]);
  const d = b64url(ecJwk.d);

  it('reads d, Q and the curve', () => {
    expect(ecPrivateFromSec1(sec1)).toEqual({ curve: 'P_384', d, q });
    expect(ecPrivateFromPkcs8(pkcs8)).toEqual({ curve: 'P_384', d, q });
    expect(ecPublicFromSpki(spki)).toEqual({ curve: 'P_384', q });
  });

  it('writes the bytes node:crypto writes, computing Q when only d is given', () => {
    expect(ecPrivateToSec1({ curve: 'P_384', d }).equals(sec1)).toBe(true);
    expect(ecPrivateToPkcs8({ curve: 'P_384', d, q }).equals(pkcs8)).toBe(true);
    expect(ecPrivateSec1ToPkcs8(sec1).equals(pkcs8)).toBe(true);
    expect(ecPrivatePkcs8ToSec1(pkcs8).equals(sec1)).toBe(true);
    expect(ecPublicToSpki({ curve: 'P_384', q }).equals(spki)).toBe(true);
  });

  it('round trips fresh keys on each curve through node sign and verify', () => {
    fc.assert(
      fc.property(fc.constantFrom('P-256', 'P-384', 'P-521', 'secp256k1'), (namedCurve) => {
        const pair = generateKeyPairSync('ec', { namedCurve });
        const jwk = pair.privateKey.export({ format: 'jwk' });
        const curve = ecPrivateFromPkcs8(der(pair.privateKey, 'pkcs8')).curve;
        const built = ecPrivateToPkcs8({ curve, d: b64url(jwk.d) });
        const key = createPrivateKey({ key: built, format: 'der', type: 'pkcs8' });
        roundTripSignature(key, pair.publicKey);
        const sec1Built = ecPrivateToSec1({ curve, d: b64url(jwk.d) });
        roundTripSignature(
          createPrivateKey({ key: sec1Built, format: 'der', type: 'sec1' }),
          pair.publicKey,
        );
        const spkiBuilt = ecPublicToSpki(ecPublicFromSpki(der(pair.publicKey, 'spki')));
        roundTripSignature(
          pair.privateKey,
          createPublicKey({ key: spkiBuilt, format: 'der', type: 'spki' }),
        );
      }),
      { numRuns: 20 },
    );
  });

  it('refuses points of the wrong size and zero private values', () => {
    expectInvalidField(() => ecPublicToSpki({ curve: 'P_256', q }));
    expectInvalidField(() => ecPublicToSpki({ curve: 'P_384', q: q.subarray(1) }));
    expectInvalidField(() => ecPrivateToSec1({ curve: 'P_384', d: 0n }));
    expectInvalidField(() => ecPrivateToSec1({ curve: 'P_256', d: 1n << 300n }));
  });
});

describe('inspectKeyDer', () => {
  const ed = generateKeyPairSync('ed25519');
  const dsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });

  it.each([
    [
      'RSA PKCS#1 private',
      der(rsa.privateKey, 'pkcs1'),
      { format: 'PKCS1', keyClass: 'private', algorithm: 'RSA', lengthBits: 1024 },
    ],
    [
      'RSA PKCS#1 public',
      der(rsa.publicKey, 'pkcs1'),
      { format: 'PKCS1', keyClass: 'public', algorithm: 'RSA', lengthBits: 1024 },
    ],
    [
      'RSA PKCS#8',
      der(rsa.privateKey, 'pkcs8'),
      { format: 'PKCS8', keyClass: 'private', algorithm: 'RSA', lengthBits: 1024 },
    ],
    [
      'RSA SPKI',
      der(rsa.publicKey, 'spki'),
      { format: 'SPKI', keyClass: 'public', algorithm: 'RSA', lengthBits: 1024 },
    ],
    [
      'EC SEC1',
      der(ec.privateKey, 'sec1'),
      { format: 'SEC1', keyClass: 'private', algorithm: 'EC', curve: 'P_384', lengthBits: 384 },
    ],
    [
      'EC PKCS#8',
      der(ec.privateKey, 'pkcs8'),
      { format: 'PKCS8', keyClass: 'private', algorithm: 'EC', curve: 'P_384', lengthBits: 384 },
    ],
    [
      'EC SPKI',
      der(ec.publicKey, 'spki'),
      { format: 'SPKI', keyClass: 'public', algorithm: 'EC', curve: 'P_384', lengthBits: 384 },
    ],
    [
      'Ed25519 PKCS#8',
      der(ed.privateKey, 'pkcs8'),
      { format: 'PKCS8', keyClass: 'private', algorithm: 'Ed25519', lengthBits: 256 },
    ],
    [
      'Ed25519 SPKI',
      der(ed.publicKey, 'spki'),
      { format: 'SPKI', keyClass: 'public', algorithm: 'Ed25519', lengthBits: 256 },
    ],
    [
      'DSA PKCS#8',
      der(dsa.privateKey, 'pkcs8'),
      { format: 'PKCS8', keyClass: 'private', algorithm: 'DSA', lengthBits: 1024 },
    ],
    [
      'DSA SPKI',
      der(dsa.publicKey, 'spki'),
      { format: 'SPKI', keyClass: 'public', algorithm: 'DSA', lengthBits: 1024 },
    ],
  ])('%s', (_, bytes, expected) => {
    expect(inspectKeyDer(bytes)).toEqual(expected);
  });

  const samples = [
    der(rsa.privateKey, 'pkcs1'),
    der(rsa.privateKey, 'pkcs8'),
    der(rsa.publicKey, 'spki'),
    der(ec.privateKey, 'sec1'),
    der(ec.publicKey, 'spki'),
  ];
  const converters: ((b: Uint8Array) => unknown)[] = [
    inspectKeyDer,
    rsaPrivateFromPkcs1,
    rsaPrivatePkcs8ToPkcs1,
    rsaPublicFromPkcs1,
    rsaPublicSpkiToPkcs1,
    ecPrivateFromSec1,
    ecPrivateFromPkcs8,
    ecPublicFromSpki,
  ];

  it('gives Invalid Field for every truncation of a valid key', () => {
    for (const sample of samples) {
      for (let length = 0; length < sample.length; length++) {
        expectInvalidField(() => inspectKeyDer(sample.subarray(0, length)));
      }
    }
  });

  it('gives Invalid Field for trailing bytes', () => {
    for (const sample of samples)
      expectInvalidField(() => inspectKeyDer(Buffer.concat([sample, Buffer.of(0)])));
  });

  it('never throws anything but a KmipError on corrupted or random input', () => {
    const corrupted = fc
      .tuple(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 1, max: 255 }))
      .map(([sample, at, xor]) => {
        const copy = Buffer.from(sample);
        const index = at % copy.length;
        copy[index] = (copy[index] ?? 0) ^ xor;
        return copy;
      });
    const input = fc.oneof(corrupted, fc.uint8Array({ maxLength: 200 }));
    fc.assert(
      fc.property(input, fc.constantFrom(...converters), (bytes, convert) => {
        try {
          convert(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(KmipError);
          expect((err as KmipError).reason).toBe(ResultReason.InvalidField);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('names an encrypted PKCS#8 key as such instead of misreading it as SubjectPublicKeyInfo', () => {
    // RFC 5208 §6 EncryptedPrivateKeyInfo, the form TC-ECC-2-14 registers as PKCS_8.
    const encrypted = ec.privateKey.export({
      format: 'der',
      type: 'pkcs8',
      cipher: 'aes-256-cbc',
      passphrase: 'secret',
    });
    expectInvalidField(() => inspectKeyDer(encrypted));
    expect(() => inspectKeyDer(encrypted)).toThrow(/encrypted PKCS#8 \(EncryptedPrivateKeyInfo\)/);
  });

  it('rejects an indefinite-length encoding, which is BER but not DER', () => {
    expectInvalidField(() => inspectKeyDer(Buffer.from('3080020100020100' + '0000', 'hex')));
  });
});
