// Key Format Type conversion on Get (KMIP 2.1 §6.1.23, Key Format Type §11.17, Transparent key
// structures §2.1.7). Keys come from Create Key Pair; every answer is checked with node:crypto,
// which reads DER and JWK on its own, never through the server's converters.

import {
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf } from '../../src/kmip/items.js';
import { bigIntegerToBigint } from '../../src/ttlv/big-integer.js';
import type { StructureItem, TtlvItem } from '../../src/ttlv/item.js';
import { ItemType } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  ObjectType,
  RecommendedCurve,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { testServer } from '../helpers/kmip-test-client.js';
import { createKeyPair, get, keyBlockOf, keyObject, registered } from './server-calls.js';

const F = KeyFormatType;
const s = testServer();
const message = Buffer.from('kmipd key format test');

/** The node:crypto view of a key as the server returned it; throws when node cannot read it. */
function nodeKey(format: number, material: TtlvItem, kind: 'private' | 'public'): KeyObject {
  const der = bytesOf(material);
  const load = kind === 'private' ? createPrivateKey : createPublicKey;
  const derType: Partial<Record<number, string>> = {
    [F.PKCS_1]: 'pkcs1',
    [F.PKCS_8]: 'pkcs8',
    [F.X_509]: 'spki',
    [F.ECPrivateKey]: 'sec1',
  };
  const type = derType[format];
  if (type !== undefined && der !== undefined) {
    return load({ key: Buffer.from(der), format: 'der', type } as never);
  }
  return load({ key: jwkOf(format, material), format: 'jwk' });
}

const b64 = (n: bigint, size?: number) => {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return (
    size === undefined ? bytes : Buffer.concat([Buffer.alloc(size - bytes.length), bytes])
  ).toString('base64url');
};

function big(material: TtlvItem, tag: number): bigint {
  const found = childOf(material, tag);
  expect(found?.type).toBe(ItemType.BigInteger);
  return bigIntegerToBigint(found!.value as Uint8Array);
}

/** Transparent structures as JWK (RFC 7518 §6), read field by field from the TTLV. */
function jwkOf(format: number, m: TtlvItem): JsonWebKey {
  switch (format) {
    case F.TransparentRSAPublicKey:
      return { kty: 'RSA', n: b64(big(m, Tag.Modulus)), e: b64(big(m, Tag.PublicExponent)) };
    case F.TransparentRSAPrivateKey:
      return {
        kty: 'RSA',
        n: b64(big(m, Tag.Modulus)),
        e: b64(big(m, Tag.PublicExponent)),
        d: b64(big(m, Tag.PrivateExponent)),
        p: b64(big(m, Tag.P)),
        q: b64(big(m, Tag.Q)),
        dp: b64(big(m, Tag.PrimeExponentP)),
        dq: b64(big(m, Tag.PrimeExponentQ)),
        qi: b64(big(m, Tag.CRTCoefficient)),
      };
    case F.TransparentECPublicKey:
    case F.Raw: {
      const q = Buffer.from(format === F.Raw ? bytesOf(m)! : bytesOf(childOf(m, Tag.QString))!);
      if (format !== F.Raw)
        expect(numberOf(childOf(m, Tag.RecommendedCurve))).toBe(RecommendedCurve.P_256);
      expect(q[0]).toBe(0x04);
      return {
        kty: 'EC',
        crv: 'P-256',
        x: q.subarray(1, 33).toString('base64url'),
        y: q.subarray(33).toString('base64url'),
      };
    }
    case F.TransparentECPrivateKey: {
      expect(numberOf(childOf(m, Tag.RecommendedCurve))).toBe(RecommendedCurve.P_256);
      const pub = ecPublic.export({ format: 'jwk' });
      return { ...pub, d: b64(big(m, Tag.D), 32) };
    }
  }
  throw new Error(`no JWK for format ${format}`);
}

let rsa: { privateUid: string; publicUid: string };
let ec: { privateUid: string; publicUid: string };
let rsaPrivate: KeyObject;
let rsaPublic: KeyObject;
let ecPrivate: KeyObject;
let ecPublic: KeyObject;

async function stored(uid: string, kind: 'private' | 'public') {
  const { object } = await get(s, uid);
  const { format, material } = keyBlockOf(object);
  return nodeKey(numberOf(format)!, material, kind);
}

beforeAll(async () => {
  rsa = await createKeyPair(s, 'RSA');
  ec = await createKeyPair(s, 'EC');
  rsaPrivate = await stored(rsa.privateUid, 'private');
  rsaPublic = await stored(rsa.publicUid, 'public');
  ecPrivate = await stored(ec.privateUid, 'private');
  ecPublic = await stored(ec.publicUid, 'public');
});

const same = (a: KeyObject, b: KeyObject) =>
  expect(a.export({ format: 'jwk' })).toEqual(b.export({ format: 'jwk' }));

interface Family {
  name: string;
  objectType: number;
  kind: 'private' | 'public';
  uid: () => string;
  reference: () => KeyObject;
  formats: number[];
  /** Formats the server writes but does not read back (Raw EC point: no curve). */
  writeOnly?: number[];
  algorithm: number;
  length: number;
}

const families: Family[] = [
  {
    name: 'RSA private',
    objectType: ObjectType.PrivateKey,
    kind: 'private',
    uid: () => rsa.privateUid,
    reference: () => rsaPrivate,
    formats: [F.PKCS_8, F.PKCS_1, F.TransparentRSAPrivateKey],
    algorithm: CryptographicAlgorithm.RSA,
    length: 2048,
  },
  {
    name: 'RSA public',
    objectType: ObjectType.PublicKey,
    kind: 'public',
    uid: () => rsa.publicUid,
    reference: () => rsaPublic,
    formats: [F.X_509, F.PKCS_1, F.TransparentRSAPublicKey],
    algorithm: CryptographicAlgorithm.RSA,
    length: 2048,
  },
  {
    name: 'EC private',
    objectType: ObjectType.PrivateKey,
    kind: 'private',
    uid: () => ec.privateUid,
    reference: () => ecPrivate,
    formats: [F.PKCS_8, F.ECPrivateKey, F.TransparentECPrivateKey],
    algorithm: CryptographicAlgorithm.EC,
    length: 256,
  },
  {
    name: 'EC public',
    objectType: ObjectType.PublicKey,
    kind: 'public',
    uid: () => ec.publicUid,
    reference: () => ecPublic,
    formats: [F.X_509, F.TransparentECPublicKey],
    writeOnly: [F.Raw],
    algorithm: CryptographicAlgorithm.EC,
    length: 256,
  },
];

describe('Get with Key Format Type converts created keys (KMIP 2.1 §6.1.23)', () => {
  for (const family of families) {
    for (const to of [...family.formats, ...(family.writeOnly ?? [])]) {
      it(`${family.name} → ${to}`, async () => {
        const { res, object } = await get(s, family.uid(), to);
        expect(res.resultStatus).toBe(ResultStatus.Success);
        const { block, format, material } = keyBlockOf(object);
        expect(numberOf(format)).toBe(to);
        // The Key Block keeps its algorithm and length.
        expect(numberOf(childOf(block, Tag.CryptographicAlgorithm))).toBe(family.algorithm);
        expect(numberOf(childOf(block, Tag.CryptographicLength))).toBe(family.length);
        same(nodeKey(to, material, family.kind), family.reference());
      });
    }
  }

  it('a converted private key signs what the stored public key verifies', async () => {
    for (const [uid, to, pub] of [
      [rsa.privateUid, F.TransparentRSAPrivateKey, rsaPublic],
      [rsa.privateUid, F.PKCS_1, rsaPublic],
      [ec.privateUid, F.ECPrivateKey, ecPublic],
      [ec.privateUid, F.TransparentECPrivateKey, ecPublic],
    ] as const) {
      const { format, material } = keyBlockOf((await get(s, uid, to)).object);
      const key = nodeKey(numberOf(format)!, material, 'private');
      expect(verify('sha256', message, pub, sign('sha256', message, key))).toBe(true);
    }
  });
});

describe('every supported source format converts to every other', () => {
  for (const family of families) {
    for (const from of family.formats) {
      it(`${family.name} registered as ${from}`, async () => {
        const { material } = keyBlockOf((await get(s, family.uid(), from)).object);
        const uid = await registered(
          s,
          family.objectType,
          keyObject(family.objectType, from, material),
        );
        for (const to of [...family.formats, ...(family.writeOnly ?? [])]) {
          const { res, object } = await get(s, uid, to);
          expect(res.resultStatus).toBe(ResultStatus.Success);
          const got = keyBlockOf(object);
          expect(numberOf(got.format)).toBe(to);
          same(nodeKey(to, got.material, family.kind), family.reference());
        }
      });
    }
  }

  it('a Transparent RSA Private Key with only n, e and d becomes complete PKCS#1', async () => {
    const jwk = rsaPrivate.export({ format: 'jwk' });
    const n = (v: string | undefined) =>
      BigInt(`0x${Buffer.from(v!, 'base64url').toString('hex')}`);
    const bigItem = (tag: number, v: bigint): TtlvItem => {
      let hex = v.toString(16);
      hex = hex.padStart(Math.ceil((hex.length + 1) / 16) * 16, '0');
      return { tag, type: ItemType.BigInteger, value: Buffer.from(hex, 'hex') };
    };
    const material = item.struct(Tag.KeyMaterial, [
      bigItem(Tag.Modulus, n(jwk.n)),
      bigItem(Tag.PrivateExponent, n(jwk.d)),
      bigItem(Tag.PublicExponent, n(jwk.e)),
    ]);
    const uid = await registered(
      s,
      ObjectType.PrivateKey,
      keyObject(ObjectType.PrivateKey, F.TransparentRSAPrivateKey, material),
    );
    const { material: der } = keyBlockOf((await get(s, uid, F.PKCS_1)).object);
    same(nodeKey(F.PKCS_1, der, 'private'), rsaPrivate);
  });
});

describe('unsupported conversions answer Key Format Type Not Supported', () => {
  const cases: Array<[string, () => string, number]> = [
    ['RSA private → X.509', () => rsa.privateUid, F.X_509],
    ['RSA private → EC Private Key', () => rsa.privateUid, F.ECPrivateKey],
    ['RSA private → Transparent EC Private Key', () => rsa.privateUid, F.TransparentECPrivateKey],
    ['RSA private → Raw', () => rsa.privateUid, F.Raw],
    ['RSA public → PKCS#8', () => rsa.publicUid, F.PKCS_8],
    ['RSA public → Raw', () => rsa.publicUid, F.Raw],
    ['RSA public → Transparent EC Public Key', () => rsa.publicUid, F.TransparentECPublicKey],
    ['EC private → PKCS#1', () => ec.privateUid, F.PKCS_1],
    ['EC private → Transparent RSA Private Key', () => ec.privateUid, F.TransparentRSAPrivateKey],
    ['EC public → PKCS#1', () => ec.publicUid, F.PKCS_1],
    ['EC public → Transparent Symmetric Key', () => ec.publicUid, F.TransparentSymmetricKey],
    ['EC private → Opaque', () => ec.privateUid, F.Opaque],
  ];
  for (const [name, uid, to] of cases) {
    it(name, async () => {
      const { res } = await get(s, uid(), to);
      expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
      expect(res.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
      expect(res.resultMessage).toMatch(/cannot convert/);
    });
  }

  it('a symmetric key converts only between Raw and Transparent Symmetric Key', async () => {
    const key = Buffer.alloc(32, 0x5a);
    const uid = await registered(
      s,
      ObjectType.SymmetricKey,
      keyObject(ObjectType.SymmetricKey, F.Raw, item.bytes(Tag.KeyMaterial, key), [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      ]),
    );
    const transparent = keyBlockOf((await get(s, uid, F.TransparentSymmetricKey)).object);
    expect(Buffer.from(bytesOf(childOf(transparent.material, Tag.Key))!)).toEqual(key);
    for (const to of [F.PKCS_8, F.X_509, F.TransparentRSAPrivateKey]) {
      const { res } = await get(s, uid, to);
      expect(res.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
      expect(res.resultMessage).not.toContain(key.toString('hex'));
    }
  });

  it('a certificate has no Key Block to convert', async () => {
    const cert = item.struct(Tag.Certificate, [
      item.enum(Tag.CertificateType, 2),
      item.bytes(Tag.CertificateValue, Buffer.from('not parsed: PGP')),
    ]);
    const uid = await registered(s, ObjectType.Certificate, cert);
    const { res } = await get(s, uid, F.X_509);
    expect(res.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
  });

  it('a key stored wrapped is not converted, but is returned in its own format', async () => {
    const object: StructureItem = item.struct(Tag.SymmetricKey, [
      item.struct(Tag.KeyBlock, [
        item.enum(Tag.KeyFormatType, F.Raw),
        item.bytes(Tag.KeyValue, Buffer.alloc(40, 0xc3)),
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 256),
        item.struct(Tag.KeyWrappingData, [
          item.enum(Tag.WrappingMethod, 1),
          item.struct(Tag.EncryptionKeyInformation, [item.text(Tag.UniqueIdentifier, 'kek-1')]),
        ]),
      ]),
    ]);
    const uid = await registered(s, ObjectType.SymmetricKey, object);
    const { res } = await get(s, uid, F.TransparentSymmetricKey);
    expect(res.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
    expect(res.resultMessage).toMatch(/wrapped/);
    const same = await get(s, uid, F.Raw);
    expect(same.res.resultStatus).toBe(ResultStatus.Success);
  });
});
