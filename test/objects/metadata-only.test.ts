// Meta-data-only objects (KMIP 1.4 §2.2, KMIP 2.1 §2.1.3 Key Block without Key Value): Register
// records Key Value Present = false beside the client's Key Value Location, Get returns the Key
// Block as registered, Locate finds the object by Key Value Present, and anything that needs the
// key is refused with Key Value Not Present (TC-MDO-1/2/3-14, TC-MDO-1/2/3-20).

import { describe, expect, it } from 'vitest';
import { childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import { ItemType } from '../../src/ttlv/item.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  KeyValueLocationType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  SplitKeyMethod,
  Tag,
  WrappingMethod,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { attributesFor, find, payloadOf, testServer } from '../helpers/kmip-test-client.js';
import { call } from './server-calls.js';

const s = testServer();

const AES_128_BLOCK = [
  item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
  item.int(Tag.CryptographicLength, 128),
];
const metadataOnlyKey = item.struct(Tag.SymmetricKey, [item.struct(Tag.KeyBlock, AES_128_BLOCK)]);
const keyWithValue = item.struct(Tag.SymmetricKey, [
  item.struct(Tag.KeyBlock, [
    AES_128_BLOCK[0]!,
    item.struct(Tag.KeyValue, [
      item.bytes(Tag.KeyMaterial, Buffer.from('0123456789abcdef0123456789abcdef', 'hex')),
    ]),
    ...AES_128_BLOCK.slice(1),
  ]),
]);
const location = item.struct(Tag.KeyValueLocation, [
  item.text(Tag.KeyValueLocationValue, 'HSM-13345'),
  item.enum(Tag.KeyValueLocationType, KeyValueLocationType.UninterpretedTextString),
]);
const usage = item.int(
  Tag.CryptographicUsageMask,
  CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt,
);

async function register(version: KmipVersion, object: TtlvItem, attributes: TtlvItem[]) {
  return call(
    s,
    Operation.Register,
    [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      attributesFor(version, attributes),
      object,
    ],
    version,
  );
}

async function registered(version: KmipVersion, object: TtlvItem, attributes: TtlvItem[]) {
  const res = await register(version, object, attributes);
  expect(res.resultMessage).toBeUndefined();
  return textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
}

const uidOf = (uid: string) => item.text(Tag.UniqueIdentifier, uid);

/** The named attributes in a 2.x Get Attributes answer. */
async function attributes2x(uid: string, ...tags: number[]): Promise<TtlvItem[]> {
  const res = await call(s, Operation.GetAttributes, [
    uidOf(uid),
    ...tags.map((t) => item.enum(Tag.AttributeReference, t)),
  ]);
  const set = find(payloadOf(res), Tag.Attributes);
  return set?.type === ItemType.Structure ? set.value : [];
}

async function activate(uid: string) {
  const res = await call(s, Operation.Activate, [uidOf(uid)]);
  expect(res.resultStatus).toBe(ResultStatus.Success);
}

describe('Register of a meta-data-only key', () => {
  it('KMIP 2.0: Key Value Present false beside the Key Value Location; Get returns the Key Block as registered', async () => {
    const uid = await registered('2.0', metadataOnlyKey, [usage, location]);
    const got = await call(s, Operation.Get, [uidOf(uid)], '2.0');
    expect(got.resultStatus).toBe(ResultStatus.Success);
    expect(find(payloadOf(got), Tag.SymmetricKey)).toEqual(metadataOnlyKey);
    expect(await attributes2x(uid, Tag.KeyValueLocation, Tag.KeyValuePresent)).toEqual([
      location,
      item.bool(Tag.KeyValuePresent, false),
    ]);
  });

  it('KMIP 1.4: Key Value Present is an attribute of the 1.x list', async () => {
    const uid = await registered('1.4', metadataOnlyKey, [usage, location]);
    const res = await call(
      s,
      Operation.GetAttributes,
      [uidOf(uid), item.text(Tag.AttributeName, 'Key Value Present')],
      '1.4',
    );
    const attribute = find(payloadOf(res), Tag.Attribute);
    expect(textOf(childOf(attribute, Tag.AttributeName))).toBe('Key Value Present');
    expect(childOf(attribute, Tag.AttributeValue)).toMatchObject({
      type: ItemType.Boolean,
      value: false,
    });
  });

  it('a key with its value has no Key Value Present attribute (absent means present)', async () => {
    const uid = await registered('2.0', keyWithValue, [usage]);
    expect(await attributes2x(uid, Tag.KeyValuePresent)).toEqual([]);
  });

  it('Locate by Key Value Present false finds the meta-data-only key only', async () => {
    const local = testServer();
    const send = (object: TtlvItem) =>
      local.send('2.0', [
        {
          operation: Operation.Register,
          payload: [
            item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
            item.struct(Tag.Attributes, [usage]),
            object,
          ],
        },
      ]);
    const mdo = textOf(
      find(payloadOf((await send(metadataOnlyKey)).batchItems[0]), Tag.UniqueIdentifier),
    );
    await send(keyWithValue);
    const found = await local.send('2.0', [
      {
        operation: Operation.Locate,
        payload: [item.struct(Tag.Attributes, [item.bool(Tag.KeyValuePresent, false)])],
      },
    ]);
    expect(
      payloadOf(found.batchItems[0])
        .filter((i) => i.tag === Tag.UniqueIdentifier)
        .map(textOf),
    ).toEqual([mdo]);
  });

  it('KMIP 1.1 has no meta-data-only objects: Register without a Key Value is Invalid Field', async () => {
    const res = await register('1.1', metadataOnlyKey, [usage]);
    expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(res.resultReason).toBe(ResultReason.InvalidField);
  });
});

describe('Operations that need the key refuse a meta-data-only key', () => {
  const encrypt = (uid: string, version: KmipVersion) =>
    call(
      s,
      Operation.Encrypt,
      [
        uidOf(uid),
        item.struct(Tag.CryptographicParameters, [
          item.enum(Tag.BlockCipherMode, BlockCipherMode.ECB),
        ]),
        item.bytes(Tag.Data, Buffer.alloc(16)),
      ],
      version,
    );

  it('Encrypt: Key Value Not Present (KMIP 1.2+)', async () => {
    const uid = await registered('2.0', metadataOnlyKey, [usage]);
    await activate(uid);
    for (const version of ['1.2', '1.4', '2.1'] as const) {
      const res = await encrypt(uid, version);
      expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
      expect(res.resultReason).toBe(ResultReason.KeyValueNotPresent);
    }
  });

  it('Encrypt from a KMIP 1.1 client: Illegal Operation, 1.1 having no Key Value Not Present', async () => {
    const uid = await registered('2.0', metadataOnlyKey, [usage]);
    await activate(uid);
    const res = await encrypt(uid, '1.1');
    expect(res.resultReason).toBe(ResultReason.IllegalOperation);
  });

  it('a Pre-Active meta-data-only key is refused for its state first', async () => {
    const uid = await registered('2.0', metadataOnlyKey, [usage]);
    const res = await encrypt(uid, '2.1');
    expect(res.resultReason).toBe(ResultReason.WrongKeyLifecycleState);
  });

  it('Get in another Key Format Type: Key Value Not Present; in its own format: the Key Block', async () => {
    const uid = await registered('2.0', metadataOnlyKey, [usage]);
    const other = await call(s, Operation.Get, [
      uidOf(uid),
      item.enum(Tag.KeyFormatType, KeyFormatType.TransparentSymmetricKey),
    ]);
    expect(other.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(other.resultReason).toBe(ResultReason.KeyValueNotPresent);
    const same = await call(s, Operation.Get, [
      uidOf(uid),
      item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
    ]);
    expect(find(payloadOf(same), Tag.SymmetricKey)).toEqual(metadataOnlyKey);
  });

  it('Get with a Key Wrapping Specification: Key Value Not Present', async () => {
    const wrapping = await registered('2.0', keyWithValue, [
      item.int(
        Tag.CryptographicUsageMask,
        CryptographicUsageMask.WrapKey | CryptographicUsageMask.UnwrapKey,
      ),
    ]);
    await activate(wrapping);
    const uid = await registered('2.0', metadataOnlyKey, [usage]);
    const res = await call(s, Operation.Get, [
      uidOf(uid),
      item.struct(Tag.KeyWrappingSpecification, [
        item.enum(Tag.WrappingMethod, WrappingMethod.Encrypt),
        item.struct(Tag.EncryptionKeyInformation, [uidOf(wrapping)]),
      ]),
    ]);
    expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(res.resultReason).toBe(ResultReason.KeyValueNotPresent);
  });

  it('Create Split Key: Key Value Not Present', async () => {
    const uid = await registered('2.0', metadataOnlyKey, [usage]);
    const res = await call(s, Operation.CreateSplitKey, [
      item.enum(Tag.ObjectType, ObjectType.SplitKey),
      uidOf(uid),
      item.int(Tag.SplitKeyParts, 2),
      item.int(Tag.SplitKeyThreshold, 2),
      item.enum(Tag.SplitKeyMethod, SplitKeyMethod.XOR),
      item.struct(Tag.Attributes, []),
    ]);
    expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(res.resultReason).toBe(ResultReason.KeyValueNotPresent);
  });

  it('the meta-data-only key keeps its Key Format Type, algorithm and length attributes', async () => {
    const uid = await registered('2.0', metadataOnlyKey, [usage]);
    const list = await attributes2x(
      uid,
      Tag.KeyFormatType,
      Tag.CryptographicAlgorithm,
      Tag.CryptographicLength,
      Tag.Digest,
    );
    expect(list.map((a) => [a.tag, numberOf(a)])).toEqual([
      [Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES],
      [Tag.CryptographicLength, 128],
      [Tag.KeyFormatType, KeyFormatType.Raw],
    ]);
  });
});
