// Register (KMIP 2.1 §6.1.44, KMIP 1.4 §4.3): what a client may say about the object it brings.
// The Random Number Generator and Original Creation Date it gives are kept (TC-RNG-ATTR-1-13,
// -14, -20; TC-MDO-2-14, -20); an object the server generates carries the generator that made
// it (src/objects/random-generators.ts).

import { describe, expect, it } from 'vitest';
import { item, textOf } from '../../src/kmip/items.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  DRBGAlgorithm,
  KeyFormatType,
  ObjectType,
  Operation,
  ResultStatus,
  RNGAlgorithm,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { find, oneItemCalls, payloadOf, testServer } from '../helpers/kmip-test-client.js';

const s = testServer();

const { call, succeeded, register } = oneItemCalls(s);
const uidOf = (uid: string) => item.text(Tag.UniqueIdentifier, uid);

const aesKey = item.struct(Tag.SymmetricKey, [
  item.struct(Tag.KeyBlock, [
    item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
    item.struct(Tag.KeyValue, [
      item.bytes(Tag.KeyMaterial, Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex')),
    ]),
    item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    item.int(Tag.CryptographicLength, 128),
  ]),
]);

/** TC-RNG-ATTR-1-14: the client's generator, an HMAC DRBG with prediction resistance. */
const clientRng = item.struct(Tag.RandomNumberGenerator, [
  item.enum(Tag.RNGAlgorithm, RNGAlgorithm.DRBG),
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA1),
  item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.HMAC),
  item.bool(Tag.PredictionResistance, true),
]);

/** 1970-01-01T10:42:00Z, the Original Creation Date of TC-MDO-2-14. */
const longAgo = item.date(Tag.OriginalCreationDate, 38_520n);

async function attribute2x(uid: string, tag: number): Promise<TtlvItem[]> {
  const res = await call('2.1', Operation.GetAttributes, [
    uidOf(uid),
    item.enum(Tag.AttributeReference, tag),
  ]);
  const set = find(payloadOf(res), Tag.Attributes);
  return set?.type === ItemType.Structure ? set.value : [];
}

describe('attributes a client gives with the object it registers', () => {
  for (const version of ['1.3', '1.4', '2.0'] as const) {
    it(`KMIP ${version}: the client's Random Number Generator is kept as given`, async () => {
      const res = await register(version, ObjectType.SymmetricKey, aesKey, [clientRng]);
      expect(res.resultStatus).toBe(ResultStatus.Success);
      const uid = textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
      expect(await attribute2x(uid, Tag.RandomNumberGenerator)).toEqual([clientRng]);
    });
  }

  it('the Original Creation Date given is kept', async () => {
    const uid = await succeeded('2.0', Operation.Register, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [longAgo]),
      aesKey,
    ]);
    expect(await attribute2x(uid, Tag.OriginalCreationDate)).toEqual([longAgo]);
  });

  it('without one, Register sets neither a Random Number Generator nor an old date', async () => {
    const uid = await succeeded('2.0', Operation.Register, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, []),
      aesKey,
    ]);
    expect(await attribute2x(uid, Tag.RandomNumberGenerator)).toEqual([]);
    const [date] = await attribute2x(uid, Tag.OriginalCreationDate);
    expect(date?.type === ItemType.DateTime && date.value > 38_520n).toBe(true);
  });

  it('Create makes the key with the generator named, and keeps no client date', async () => {
    const uid = await succeeded('2.0', Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 128),
        clientRng,
        longAgo,
      ]),
    ]);
    // KMIP 2.1 §4.46: kmipd has that generator (HMAC_DRBG over HMAC-SHA1 with prediction
    // resistance), uses it and records it (src/objects/random-generators.ts).
    expect(await attribute2x(uid, Tag.RandomNumberGenerator)).toEqual([clientRng]);
    expect(await attribute2x(uid, Tag.OriginalCreationDate)).not.toEqual([longAgo]);
  });
});
