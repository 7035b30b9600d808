// Digest on Register (KMIP 2.1 §4.13, KMIP 1.4 §3.17; src/objects/digest.ts): SHA-256 over the
// Key Material in the default Key Format Type, plus one in the registered format when that
// differs; a certificate's over its Certificate Value, named Raw. Expected digests come from the
// OASIS test cases (TC-DIGESTS-1-21, TC-CERTATTR-1-14) or from node:crypto over key encodings
// node produces itself, never from the code under test.

import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CertificateType,
  CryptographicAlgorithm,
  HashingAlgorithm,
  KeyFormatType,
  ObjectType,
  SecretDataType,
  Tag,
  WrappingMethod,
} from '../../src/ttlv/spec/generated.js';
import { testServer } from '../helpers/kmip-test-client.js';
import { getAttributes, keyObject, registered } from './server-calls.js';

const F = KeyFormatType;
const s = testServer();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The Digest instances of an object as [Key Format Type, hex digest value], in order. */
async function digests(uid: string): Promise<Array<[number | undefined, string]>> {
  const list = (await getAttributes(s, uid, '2.1')).filter((a) => a.tag === Tag.Digest);
  for (const d of list) {
    expect(numberOf(childOf(d, Tag.HashingAlgorithm))).toBe(HashingAlgorithm.SHA_256);
  }
  return list.map((d) => [
    numberOf(childOf(d, Tag.KeyFormatType)),
    Buffer.from(bytesOf(childOf(d, Tag.DigestValue))!).toString('hex'),
  ]);
}

const aes256 = [
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
  item.int(Tag.CryptographicLength, 256),
];

describe('TC-DIGESTS-1-21: registered symmetric keys', () => {
  const key = Buffer.from(
    '0000111122223333444455556666777788889999aaaabbbbccccddddeeeeffff',
    'hex',
  );
  const RAW = '6c064fe051add11edc07727b594eb48711df843e08445bba2cd786bc16bc58e8';
  const TRANSPARENT = '499ce96ff6f5e19fe9fe7a2fe4c3e92b88db0001a4e8df28d9966856b6c4b87c';

  it('Raw: one digest, over the key bytes', async () => {
    const uid = await registered(
      s,
      ObjectType.SymmetricKey,
      keyObject(ObjectType.SymmetricKey, F.Raw, item.bytes(Tag.KeyMaterial, key), aes256),
    );
    expect(await digests(uid)).toEqual([[F.Raw, RAW]]);
  });

  it('Transparent Symmetric Key: the Raw digest and one over the TTLV-encoded Key Material', async () => {
    const material = item.struct(Tag.KeyMaterial, [item.bytes(Tag.Key, key)]);
    const uid = await registered(
      s,
      ObjectType.SymmetricKey,
      keyObject(ObjectType.SymmetricKey, F.TransparentSymmetricKey, material, aes256),
    );
    expect(await digests(uid)).toEqual([
      [F.Raw, RAW],
      [F.TransparentSymmetricKey, TRANSPARENT],
    ]);
  });
});

describe('asymmetric keys: the default format first, then the registered one', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = (type: string) => rsa.privateKey.export({ format: 'der', type } as never) as Buffer;

  it('an RSA private key registered as PKCS#8 gets a PKCS#1 digest too', async () => {
    const uid = await registered(
      s,
      ObjectType.PrivateKey,
      keyObject(ObjectType.PrivateKey, F.PKCS_8, item.bytes(Tag.KeyMaterial, der('pkcs8'))),
    );
    expect(await digests(uid)).toEqual([
      [F.PKCS_1, sha256(der('pkcs1'))],
      [F.PKCS_8, sha256(der('pkcs8'))],
    ]);
  });

  it('an RSA private key registered as PKCS#1 has the one digest', async () => {
    const uid = await registered(
      s,
      ObjectType.PrivateKey,
      keyObject(ObjectType.PrivateKey, F.PKCS_1, item.bytes(Tag.KeyMaterial, der('pkcs1'))),
    );
    expect(await digests(uid)).toEqual([[F.PKCS_1, sha256(der('pkcs1'))]]);
  });

  it('an EC private key registered as PKCS#8 gets a Transparent EC Private Key digest too', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = ec.privateKey.export({ format: 'der', type: 'pkcs8' });
    const uid = await registered(
      s,
      ObjectType.PrivateKey,
      keyObject(ObjectType.PrivateKey, F.PKCS_8, item.bytes(Tag.KeyMaterial, pkcs8)),
    );
    const found = await digests(uid);
    expect(found.map(([format]) => format)).toEqual([F.TransparentECPrivateKey, F.PKCS_8]);
    expect(found[1]![1]).toBe(sha256(pkcs8));
  });
});

describe('other objects', () => {
  it('Secret Data in Opaque format: its own format only (no conversion to Raw)', async () => {
    const password = Buffer.from('password');
    const uid = await registered(
      s,
      ObjectType.SecretData,
      item.struct(Tag.SecretData, [
        item.enum(Tag.SecretDataType, SecretDataType.Password),
        item.struct(Tag.KeyBlock, [
          item.enum(Tag.KeyFormatType, F.Opaque),
          item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, password)]),
        ]),
      ]),
    );
    expect(await digests(uid)).toEqual([[F.Opaque, sha256(password)]]);
  });

  it('a certificate: over the Certificate Value, Raw (TC-CERTATTR-1-14); Key Format Type Raw', async () => {
    const xml = readFileSync(
      join('fixtures/conformance/kmip-testcases-v1.4-cnprd01', 'TC-CERTATTR-1-14.xml'),
      'utf8',
    );
    const value = /<CertificateValue type="ByteString" value="([0-9a-f]+)"/.exec(xml)![1]!;
    const uid = await registered(
      s,
      ObjectType.Certificate,
      item.struct(Tag.Certificate, [
        item.enum(Tag.CertificateType, CertificateType.X_509),
        item.bytes(Tag.CertificateValue, Buffer.from(value, 'hex')),
      ]),
    );
    expect(await digests(uid)).toEqual([
      [F.Raw, 'c2afb2c05ca8690d7d9cf753c3cceb758030c29538b730bb23b77dc5ff0bbb36'],
    ]);
    const formats = (await getAttributes(s, uid, '2.1')).filter(
      (a: TtlvItem) => a.tag === Tag.KeyFormatType,
    );
    expect(formats.map(numberOf)).toEqual([F.Raw]);
  });

  it('an Opaque Object: over the Opaque Data Value, Raw (PyKMIP 0.10 needs a Key Format Type)', async () => {
    const data = Buffer.from('opaque bytes');
    const uid = await registered(
      s,
      ObjectType.OpaqueObject,
      item.struct(Tag.OpaqueObject, [
        item.enum(Tag.OpaqueDataType, 0x80000001),
        item.bytes(Tag.OpaqueDataValue, data),
      ]),
    );
    expect(await digests(uid)).toEqual([[F.Raw, sha256(data)]]);
  });

  it('a key kept wrapped (its wrapping key is not managed here) has no digest', async () => {
    const uid = await registered(
      s,
      ObjectType.SymmetricKey,
      item.struct(Tag.SymmetricKey, [
        item.struct(Tag.KeyBlock, [
          item.enum(Tag.KeyFormatType, F.Raw),
          item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.alloc(40, 1))]),
          ...aes256,
          item.struct(Tag.KeyWrappingData, [
            item.enum(Tag.WrappingMethod, WrappingMethod.Encrypt),
            item.struct(Tag.EncryptionKeyInformation, [
              item.text(Tag.UniqueIdentifier, 'a key kmipd does not hold'),
            ]),
          ]),
        ]),
      ]),
    );
    expect(await digests(uid)).toEqual([]);
  });
});
