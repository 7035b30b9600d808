// MongoDB client-side field level encryption (libmongocrypt) as a KMIP client. Default mode:
// the 96-byte customer master key is registered as Secret Data (type Seed, key format Opaque
// or Raw, Cryptographic Usage Mask 0) with KMIP 1.0 headers, activated and fetched. Delegated
// mode (KMIP 1.2): the server keeps an AES-256 key and does AES-CBC with PKCS5 padding and a
// server-chosen IV (Random IV), which it returns so the client can store it with the data key.

import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  ObjectType,
  Operation,
  PaddingMethod,
  ResultReason,
  ResultStatus,
  SecretDataType,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { testServer } from '../helpers/kmip-test-client.js';
import { attr, attrValue, memorySession, uidItem, uidOf } from './session.js';

function secretData(format: number, value: Uint8Array): TtlvItem {
  return item.struct(Tag.SecretData, [
    item.enum(Tag.SecretDataType, SecretDataType.Seed),
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, format),
      item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, value)]),
    ]),
  ]);
}

const cbcPkcs5RandomIv = item.struct(Tag.CryptographicParameters, [
  item.enum(Tag.BlockCipherMode, BlockCipherMode.CBC),
  item.enum(Tag.PaddingMethod, PaddingMethod.PKCS5),
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
  item.bool(Tag.RandomIV, true),
]);

describe('MongoDB libmongocrypt', () => {
  for (const [label, format] of [
    ['Opaque', KeyFormatType.Opaque],
    ['Raw', KeyFormatType.Raw],
  ] as const) {
    it(`registers, activates and gets a 96-byte Seed in key format ${label} at KMIP 1.0`, async () => {
      const s = memorySession('1.0');
      const cmk = randomBytes(96);
      const registered = await s.ok(Operation.Register, [
        item.enum(Tag.ObjectType, ObjectType.SecretData),
        item.struct(Tag.TemplateAttribute, [attr('Cryptographic Usage Mask', item.int(0, 0))]),
        secretData(format, cmk),
      ]);
      const uid = uidOf(registered);

      expect(uidOf(await s.ok(Operation.Activate, [uidItem(uid)]))).toBe(uid);

      const got = await s.ok(Operation.Get, [uidItem(uid)]);
      expect(uidOf(got)).toBe(uid);
      expect(numberOf(got.find((i) => i.tag === Tag.ObjectType))).toBe(ObjectType.SecretData);
      const sd = got.find((i) => i.tag === Tag.SecretData);
      expect(numberOf(childOf(sd, Tag.SecretDataType))).toBe(SecretDataType.Seed);
      const block = childOf(sd, Tag.KeyBlock);
      expect(numberOf(childOf(block, Tag.KeyFormatType))).toBe(format);
      expect(Buffer.from(bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial))!)).toEqual(
        cmk,
      );

      const attrs = await s.ok(Operation.GetAttributes, [
        uidItem(uid),
        item.text(Tag.AttributeName, 'State'),
        item.text(Tag.AttributeName, 'Cryptographic Usage Mask'),
      ]);
      expect(numberOf(attrValue(attrs, 'State'))).toBe(State.Active);
      expect(numberOf(attrValue(attrs, 'Cryptographic Usage Mask'))).toBe(0);
    });
  }

  it('delegated mode: encrypts and decrypts AES-256-CBC/PKCS5 with a server IV at 1.2', async () => {
    const server = testServer();
    const s = memorySession('1.2', {}, server);
    const created = await s.ok(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES)),
        attr('Cryptographic Length', item.int(0, 256)),
        attr(
          'Cryptographic Usage Mask',
          item.int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
        ),
      ]),
    ]);
    const uid = uidOf(created);
    await s.ok(Operation.Activate, [uidItem(uid)]);

    const dataKey = randomBytes(96);
    const enc = await s.ok(Operation.Encrypt, [
      uidItem(uid),
      cbcPkcs5RandomIv,
      item.bytes(Tag.Data, dataKey),
    ]);
    expect(uidOf(enc)).toBe(uid);
    const iv = bytesOf(enc.find((i) => i.tag === Tag.IVCounterNonce));
    expect(iv).toHaveLength(16);
    const ciphertext = bytesOf(enc.find((i) => i.tag === Tag.Data))!;
    // 96 bytes plus a whole block of PKCS#5 padding.
    expect(ciphertext).toHaveLength(112);

    // The ciphertext is AES-256-CBC of the data under the key the server holds.
    const got = await s.ok(Operation.Get, [uidItem(uid)]);
    const key = bytesOf(
      childOf(
        childOf(
          childOf(
            got.find((i) => i.tag === Tag.SymmetricKey),
            Tag.KeyBlock,
          ),
          Tag.KeyValue,
        ),
        Tag.KeyMaterial,
      ),
    )!;
    const c = createCipheriv('aes-256-cbc', key, iv!);
    expect(Buffer.concat([c.update(dataKey), c.final()])).toEqual(Buffer.from(ciphertext));

    const dec = await s.ok(Operation.Decrypt, [
      uidItem(uid),
      item.struct(Tag.CryptographicParameters, [
        item.enum(Tag.BlockCipherMode, BlockCipherMode.CBC),
        item.enum(Tag.PaddingMethod, PaddingMethod.PKCS5),
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      ]),
      item.bytes(Tag.Data, ciphertext),
      item.bytes(Tag.IVCounterNonce, iv!),
    ]);
    expect(uidOf(dec)).toBe(uid);
    expect(Buffer.from(bytesOf(dec.find((i) => i.tag === Tag.Data))!)).toEqual(dataKey);

    // A second Encrypt gets a fresh IV.
    const again = await s.ok(Operation.Encrypt, [
      uidItem(uid),
      cbcPkcs5RandomIv,
      item.bytes(Tag.Data, dataKey),
    ]);
    expect(Buffer.from(bytesOf(again.find((i) => i.tag === Tag.IVCounterNonce))!)).not.toEqual(
      Buffer.from(iv!),
    );

    // Decrypt under a wrong IV fails on the padding check, not with a crash.
    const bad = await s.call(Operation.Decrypt, [
      uidItem(uid),
      cbcPkcs5RandomIv,
      item.bytes(Tag.Data, ciphertext.subarray(0, 100)),
      item.bytes(Tag.IVCounterNonce, iv!),
    ]);
    expect(bad.item.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(bad.item.resultReason).not.toBe(ResultReason.GeneralFailure);
  });
});
