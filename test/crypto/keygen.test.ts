import {
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  generateSymmetricKey,
  type KeyPairSpec,
  type RandomBytes,
  resolveCurve,
  symmetricKeyBytes,
} from '../../src/crypto/keygen.js';
import { KmipError } from '../../src/errors.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';

function reasonOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KmipError);
    return (err as KmipError).reason;
  }
  return undefined;
}

async function rejectionReason(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(KmipError);
    return (err as KmipError).reason;
  }
  return undefined;
}

const oddParity = (byte: number) => byte.toString(2).replace(/0/g, '').length % 2 === 1;

describe('symmetric key lengths', () => {
  it.each([
    ['AES', 128, 16],
    ['AES', 192, 24],
    ['AES', 256, 32],
    ['DES', 56, 8],
    ['DES', 64, 8],
    ['DES3', 112, 16],
    ['DES3', 128, 16],
    ['DES3', 168, 24],
    ['DES3', 192, 24],
    ['TripleDES', 168, 24],
    ['HMAC_SHA1', 160, 20],
    ['HMAC-SHA256', 256, 32],
    ['HMAC_SHA512', 8, 1],
  ])('%s %i bits is %i bytes', (algorithm, bits, bytes) => {
    expect(symmetricKeyBytes(algorithm, bits)).toBe(bytes);
    expect(generateSymmetricKey(algorithm, bits)).toHaveLength(bytes);
  });

  it.each([
    ['AES', 64],
    ['AES', 255],
    ['AES', 512],
    ['DES', 128],
    ['DES3', 64],
    ['DES3', 256],
    ['HMAC_SHA256', 0],
    ['HMAC_SHA256', 12],
    ['HMAC_SHA256', -8],
    ['HMAC_SHA256', 8192],
    ['AES', 128.5],
  ])('%s %d bits is Invalid Field', (algorithm, bits) => {
    expect(reasonOf(() => generateSymmetricKey(algorithm, bits))).toBe(ResultReason.InvalidField);
  });

  it.each(['Blowfish', 'RSA', 'ChaCha20', 'aes'])('%s is Feature Not Supported', (algorithm) => {
    expect(reasonOf(() => generateSymmetricKey(algorithm, 128))).toBe(
      ResultReason.FeatureNotSupported,
    );
  });

  it('HMAC accepts every multiple of 8 up to 4096 bits and nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4200 }), (bits) => {
        if (bits % 8 === 0 && bits <= 4096) {
          expect(generateSymmetricKey('HMAC_SHA384', bits)).toHaveLength(bits / 8);
        } else {
          expect(reasonOf(() => generateSymmetricKey('HMAC_SHA384', bits))).toBe(
            ResultReason.InvalidField,
          );
        }
      }),
    );
  });

  it('gives DES and 3DES keys odd parity (FIPS 46-3) and they key the ciphers', () => {
    for (let i = 0; i < 20; i++) {
      const des3 = generateSymmetricKey('DES3', 168);
      expect([...des3].every(oddParity)).toBe(true);
      expect(() => createCipheriv('des-ede3-cbc', des3, randomBytes(8))).not.toThrow();
      const des2 = generateSymmetricKey('DES3', 112);
      expect(() => createCipheriv('des-ede-cbc', des2, randomBytes(8))).not.toThrow();
    }
    expect([...generateSymmetricKey('DES', 64)].every(oddParity)).toBe(true);
  });

  it('AES keys key AES and differ between calls', () => {
    const a = generateSymmetricKey('AES', 256);
    const b = generateSymmetricKey('AES', 256);
    expect(a.equals(b)).toBe(false);
    expect(() => createCipheriv('aes-256-gcm', a, randomBytes(12))).not.toThrow();
  });
});

function signsAndVerifies(privateDer: Buffer, publicDer: Buffer, digest: string | null): void {
  const privateKey = createPrivateKey({ key: privateDer, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey({ key: publicDer, format: 'der', type: 'spki' });
  const data = Buffer.from('kmipd key pair check');
  const signature = sign(digest, data, privateKey);
  expect(verify(digest, data, publicKey, signature)).toBe(true);
  expect(verify(digest, Buffer.from('other data'), publicKey, signature)).toBe(false);
}

describe('key pairs', () => {
  it.each([1024, 1032, 2048])('RSA %i gives PKCS#8 and SPKI of that modulus', async (bits) => {
    const pair = await generateKeyPair({ algorithm: 'RSA', lengthBits: bits });
    expect(pair.algorithm).toBe('RSA');
    expect(pair.lengthBits).toBe(bits);
    const key = createPublicKey({ key: pair.publicKeyDer, format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: bits, publicExponent: 65537n });
    signsAndVerifies(pair.privateKeyDer, pair.publicKeyDer, 'sha256');
  });

  it('RSA honours a public exponent', async () => {
    const pair = await generateKeyPair({ algorithm: 'RSA', lengthBits: 1024, publicExponent: 3n });
    const key = createPublicKey({ key: pair.publicKeyDer, format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails?.publicExponent).toBe(3n);
  });

  it.each([
    ['P_256', 256, 'prime256v1'],
    ['P-384', 384, 'secp384r1'],
    ['P_521', 521, 'secp521r1'],
    ['SECP256K1', 256, 'secp256k1'],
  ])('EC on %s', async (curve, bits, nodeName) => {
    const pair = await generateKeyPair({ algorithm: 'EC', curve });
    expect(pair).toMatchObject({ algorithm: 'EC', lengthBits: bits });
    expect(pair.curve).toBe(curve.replace('-', '_'));
    const key = createPublicKey({ key: pair.publicKeyDer, format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails?.namedCurve).toBe(nodeName);
    signsAndVerifies(pair.privateKeyDer, pair.publicKeyDer, 'sha256');
  });

  it('ECDSA with only a length picks the curve of that size', async () => {
    const pair = await generateKeyPair({ algorithm: 'ECDSA', lengthBits: 384 });
    expect(pair).toMatchObject({ algorithm: 'ECDSA', curve: 'P_384', lengthBits: 384 });
  });

  it.each([1024, 2048])('DSA %i', async (bits) => {
    const pair = await generateKeyPair({ algorithm: 'DSA', lengthBits: bits });
    expect(pair.lengthBits).toBe(bits);
    const key = createPublicKey({ key: pair.publicKeyDer, format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(bits);
    signsAndVerifies(pair.privateKeyDer, pair.publicKeyDer, 'sha256');
  });

  it('Ed25519', async () => {
    const pair = await generateKeyPair({ algorithm: 'Ed25519' });
    expect(pair).toMatchObject({ algorithm: 'Ed25519', lengthBits: 256 });
    signsAndVerifies(pair.privateKeyDer, pair.publicKeyDer, null);
  });

  it.each<[KeyPairSpec, number]>([
    [{ algorithm: 'RSA', lengthBits: 1000 }, ResultReason.InvalidField],
    [{ algorithm: 'RSA', lengthBits: 1025 }, ResultReason.InvalidField],
    [{ algorithm: 'RSA', lengthBits: 8192 }, ResultReason.InvalidField],
    [{ algorithm: 'RSA', lengthBits: 2048, publicExponent: 65536n }, ResultReason.InvalidField],
    [{ algorithm: 'DSA', lengthBits: 4096 }, ResultReason.InvalidField],
    [{ algorithm: 'EC', lengthBits: 255 }, ResultReason.InvalidField],
    [{ algorithm: 'EC', curve: 'P-256', lengthBits: 384 }, ResultReason.InvalidField],
    [{ algorithm: 'EC', curve: 'P-192' }, ResultReason.FeatureNotSupported],
    [{ algorithm: 'EC', curve: 'B-163' }, ResultReason.FeatureNotSupported],
    [{ algorithm: 'X448' } as unknown as KeyPairSpec, ResultReason.FeatureNotSupported],
  ])('%o is refused with reason %i', async (spec, reason) => {
    expect(await rejectionReason(generateKeyPair(spec))).toBe(reason);
  });

  it('resolveCurve maps names and lengths', () => {
    expect(resolveCurve('prime256v1', undefined)).toBe('P_256');
    expect(resolveCurve(undefined, 521)).toBe('P_521');
    expect(resolveCurve(undefined, 256)).toBe('P_256');
    expect(resolveCurve('SECP256K1', 256)).toBe('SECP256K1');
    expect(reasonOf(() => resolveCurve(undefined, undefined))).toBe(ResultReason.InvalidField);
  });
});

/** A generator that hands out the given byte strings in turn and records what was asked. */
function scripted(...outputs: string[]) {
  const asked: Array<[number, number]> = [];
  const random: RandomBytes = (bytes, strength) => {
    asked.push([bytes, strength]);
    const next = outputs.shift();
    if (next === undefined) throw new Error('the test ran out of random bytes');
    return Buffer.from(next, 'hex');
  };
  return { random, asked };
}

const privateScalar = (der: Buffer) =>
  Buffer.from(
    createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!,
    'base64url',
  ).toString('hex');

describe('key material from a caller-supplied generator', () => {
  it('symmetric keys take its bytes and ask for the key strength (SP 800-57 Table 2)', () => {
    const cases: Array<[string, number, number]> = [
      ['AES', 128, 128],
      ['AES', 256, 256],
      ['DES3', 168, 112],
      ['DES3', 112, 80],
      ['HMAC_SHA512', 512, 256],
    ];
    for (const [algorithm, bits, strength] of cases) {
      const g = scripted('ab'.repeat(symmetricKeyBytes(algorithm, bits)));
      const key = generateSymmetricKey(algorithm, bits, g.random);
      expect(g.asked).toEqual([[symmetricKeyBytes(algorithm, bits), strength]]);
      if (algorithm === 'AES') expect(key.toString('hex')).toBe('ab'.repeat(bits / 8));
    }
  });

  it('EC: d = c + 1 for the first c ≤ n − 2 (FIPS 186-5 A.2.2), strength of the curve', async () => {
    // P-256: all-ones is above n − 2 and is drawn again; then c = 1, so d = 2.
    const g = scripted('ff'.repeat(32), `${'00'.repeat(31)}01`);
    const pair = await generateKeyPair({ algorithm: 'EC', curve: 'P_256' }, g.random);
    expect(g.asked).toEqual([
      [32, 128],
      [32, 128],
    ]);
    expect(privateScalar(pair.privateKeyDer)).toBe(`${'00'.repeat(31)}02`);
    signsAndVerifies(pair.privateKeyDer, pair.publicKeyDer, 'sha256');
  });

  it('EC P-521: the top 7 bits of the 66 bytes are dropped before the comparison', async () => {
    const g = scripted(`ff${'00'.repeat(64)}05`);
    const pair = await generateKeyPair({ algorithm: 'EC', lengthBits: 521 }, g.random);
    expect(g.asked).toEqual([[66, 256]]);
    expect(privateScalar(pair.privateKeyDer)).toBe(`01${'00'.repeat(64)}06`);
    expect(pair).toMatchObject({ curve: 'P_521', lengthBits: 521 });
    signsAndVerifies(pair.privateKeyDer, pair.publicKeyDer, 'sha512');
  });

  it('Ed25519: the 32 bytes are the private key (RFC 8032 §5.1.5)', async () => {
    const seed = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
    const pair = await generateKeyPair({ algorithm: 'Ed25519' }, scripted(seed).random);
    expect(privateScalar(pair.privateKeyDer)).toBe(seed);
    // RFC 8032 §7.1 TEST 1: that secret key's public key.
    const spki = createPublicKey({ key: pair.publicKeyDer, format: 'der', type: 'spki' });
    expect(Buffer.from(spki.export({ format: 'jwk' }).x!, 'base64url').toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
  });

  it.each<KeyPairSpec>([
    { algorithm: 'RSA', lengthBits: 2048 },
    { algorithm: 'DSA', lengthBits: 2048 },
  ])('%o: generated inside OpenSSL only, so refused (Feature Not Supported)', async (spec) => {
    const g = scripted();
    expect(await rejectionReason(generateKeyPair(spec, g.random))).toBe(
      ResultReason.FeatureNotSupported,
    );
    expect(g.asked).toEqual([]);
  });
});
