// ECDSA over Digested Data (src/crypto/ecdsa.ts): RFC 6979 known answers, and node:crypto as
// an independent oracle on every curve (it signs and verifies the message the digest is of).

import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, bytesToBigint, encodeUnsigned } from '../../src/crypto/der.js';
import { ecdsaSignDigest, ecdsaVerifyDigest } from '../../src/crypto/ecdsa.js';
import { ecPrivateToPkcs8 } from '../../src/crypto/key-formats.js';
import type { CurveName } from '../../src/crypto/oids.js';
import { modInverse } from '../../src/crypto/rsa-math.js';

const digestOf = (hash: string, text: string) => createHash(hash).update(text).digest();

function privateKeyOf(curve: CurveName, d: string): KeyObject {
  const der = ecPrivateToPkcs8({ curve, d: BigInt(`0x${d}`) });
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** r and s of a DER ECDSA-Sig-Value, as upper-case hex without leading zeros. */
function rs(signature: Buffer): [string, string] {
  const seq = asn1js.fromBER(signature).result as asn1js.Sequence;
  const [r, s] = seq.valueBlock.value as asn1js.Integer[];
  const hex = (i: asn1js.Integer | undefined) => i!.toBigInt().toString(16).toUpperCase();
  return [hex(r), hex(s)];
}

describe('ECDSA over a digest: RFC 6979 Appendix A.2 known answers', () => {
  const p256 = privateKeyOf(
    'P_256',
    'C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721',
  );
  const p521 = privateKeyOf(
    'P_521',
    '00FAD06DAA62BA3B25D2FB40133DA757205DE67F5BB0018FEE8C86E1B68C7E75CAA896EB32F1F47C70855836A6D16FCC1466F6D8FBEC67DB89EC0C08B0E996B83538',
  );

  it.each([
    // A.2.5, SHA-256, "sample"
    [
      'P-256 SHA-256',
      p256,
      'sha256',
      'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716',
      'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8',
    ],
    // A.2.5, SHA-384, "sample": the 384-bit digest is cut to its leftmost 256 bits
    [
      'P-256 SHA-384',
      p256,
      'sha384',
      'EAFEA039B20E9B42309FB1D89E213057CBF973DC0CFC8F129EDDDC800EF7719',
      '4861F0491E6998B9455193E34E7B0D284DDD7149A74B95B9261F13ABDE940954',
    ],
    // A.2.7, SHA-512, "sample": qlen 521 is not a whole number of bytes
    [
      'P-521 SHA-512',
      p521,
      'sha512',
      'C328FAFCBD79DD77850370C46325D987CB525569FB63C5D3BC53950E6D4C5F174E25A1EE9017B5D450606ADD152B534931D7D4E8455CC91F9B15BF05EC36E377FA',
      '617CCE7CF5064806C467F678D3B4080D6F1CC50AF26CA209417308281B68AF282623EAA63E5B5C0723D8B8C37FF0777B1A20F8CCB1DCCC43997F1EE0E44DA4A67A',
    ],
  ])('%s', (_, key, hash, r, s) => {
    const digest = digestOf(hash, 'sample');
    const signature = ecdsaSignDigest(key, digest, hash);
    expect(rs(signature)).toEqual([r, s]);
    expect(ecdsaVerifyDigest(createPublicKey(key), digest, signature)).toBe(true);
    expect(nodeVerify(hash, Buffer.from('sample'), createPublicKey(key), signature)).toBe(true);
  });
});

describe('ECDSA over a digest against node:crypto', () => {
  it.each([
    ['prime192v1', 'sha256'],
    ['secp224r1', 'sha224'],
    ['prime256v1', 'sha256'],
    ['prime256v1', 'sha512'],
    ['secp384r1', 'sha384'],
    ['secp521r1', 'sha512'],
    ['secp521r1', 'sha1'],
    ['secp256k1', 'sha256'],
  ])('%s with %s', (namedCurve, hash) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    for (let i = 0; i < 8; i++) {
      const message = Buffer.from(`message ${i}`);
      const digest = createHash(hash).update(message).digest();
      const ours = ecdsaSignDigest(privateKey, digest, hash);
      expect(nodeVerify(hash, message, publicKey, ours)).toBe(true);
      const theirs = nodeSign(hash, message, privateKey);
      expect(ecdsaVerifyDigest(publicKey, digest, theirs)).toBe(true);
      expect(ecdsaVerifyDigest(privateKey, digest, theirs)).toBe(true);
      const other = createHash(hash).update(`other ${i}`).digest();
      expect(ecdsaVerifyDigest(publicKey, other, theirs)).toBe(false);
    }
  });

  it('signs a digest of any length deterministically (the 16 bytes of TC-ECDSA-SIGN-DIGESTEDDATA-1)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const digest = Buffer.from('01020304050607080910111213141516', 'hex');
    const first = ecdsaSignDigest(privateKey, digest, 'sha256');
    expect(ecdsaSignDigest(privateKey, digest, 'sha256')).toEqual(first);
    expect(ecdsaVerifyDigest(publicKey, digest, first)).toBe(true);
    expect(
      ecdsaVerifyDigest(publicKey, Buffer.from('01020304050607080910111213141517', 'hex'), first),
    ).toBe(false);
  });

  it('verifies when Q + (u1/u2)·G is a doubling (digest e = r·d, so u1/u2 = d)', () => {
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const d = 0xc9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721n;
    const k = 0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdefn;
    const key = privateKeyOf('P_256', d.toString(16));
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(bigintToBytes(k, 32));
    const r = bytesToBigint(ecdh.getPublicKey().subarray(1, 33)) % n;
    const e = (r * d) % n;
    const s = (modInverse(k, n) * ((e + r * d) % n)) % n;
    const signature = Buffer.from(
      new asn1js.Sequence({ value: [encodeUnsigned(r), encodeUnsigned(s)] }).toBER(),
    );
    expect(ecdsaVerifyDigest(key, bigintToBytes(e, 32), signature)).toBe(true);
    expect(ecdsaVerifyDigest(key, bigintToBytes(e + 1n, 32), signature)).toBe(false);
  });

  it('answers false for malformed signatures and r or s out of range', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const digest = digestOf('sha256', 'x');
    const good = ecdsaSignDigest(privateKey, digest, 'sha256');
    const n = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';
    const [r, s] = rs(good);
    const sig = (a: string, b: string) =>
      Buffer.from(
        new asn1js.Sequence({
          value: [
            new asn1js.Integer({ valueHex: Buffer.from(a.padStart(66, '0'), 'hex') }),
            new asn1js.Integer({ valueHex: Buffer.from(b.padStart(66, '0'), 'hex') }),
          ],
        }).toBER(),
      );
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from('3000', 'hex'),
      Buffer.concat([good, Buffer.of(0)]),
      good.subarray(0, good.length - 1),
      sig('00', s),
      sig(r, '00'),
      sig(n, s),
      sig(r, n),
    ]) {
      expect(ecdsaVerifyDigest(publicKey, digest, bad)).toBe(false);
    }
    expect(ecdsaVerifyDigest(publicKey, digest, sig(r, s))).toBe(true);
  });
});
