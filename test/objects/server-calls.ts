// Create Key Pair, Register, Get and Get Attributes through the in-memory message layer, for the
// key format and derived attribute tests.

import { expect } from 'vitest';
import { childOf, item, textOf } from '../../src/kmip/items.js';
import type { StructureItem, TtlvItem } from '../../src/ttlv/item.js';
import { ItemType } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  ObjectType,
  Operation,
  RecommendedCurve,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, type TestServer } from '../helpers/kmip-test-client.js';

export const OBJECT_TAG: Record<number, number> = {
  [ObjectType.SymmetricKey]: Tag.SymmetricKey,
  [ObjectType.PublicKey]: Tag.PublicKey,
  [ObjectType.PrivateKey]: Tag.PrivateKey,
  [ObjectType.Certificate]: Tag.Certificate,
};

export async function call(
  s: TestServer,
  operation: number,
  payload: TtlvItem[],
  version: KmipVersion = '2.1',
) {
  const res = await s.send(version, [{ operation, payload }]);
  return res.batchItems[0]!;
}

export async function createKeyPair(
  s: TestServer,
  kind: 'RSA' | 'EC',
): Promise<{ privateUid: string; publicUid: string }> {
  const common =
    kind === 'RSA'
      ? [
          item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
          item.int(Tag.CryptographicLength, 2048),
        ]
      : [
          item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
          item.struct(Tag.CryptographicDomainParameters, [
            item.enum(Tag.RecommendedCurve, RecommendedCurve.P_256),
          ]),
        ];
  const res = await call(s, Operation.CreateKeyPair, [item.struct(Tag.CommonAttributes, common)]);
  expect(res.resultStatus).toBe(ResultStatus.Success);
  const payload = payloadOf(res);
  return {
    privateUid: textOf(find(payload, Tag.PrivateKeyUniqueIdentifier))!,
    publicUid: textOf(find(payload, Tag.PublicKeyUniqueIdentifier))!,
  };
}

/** Key Block{Key Format Type, Key Value{Key Material}, [Algorithm], [Length]} in an object. */
export function keyObject(
  objectType: number,
  format: number,
  material: TtlvItem,
  extra: TtlvItem[] = [],
): StructureItem {
  return item.struct(OBJECT_TAG[objectType]!, [
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, format),
      item.struct(Tag.KeyValue, [{ ...material, tag: Tag.KeyMaterial } as TtlvItem]),
      ...extra,
    ]),
  ]);
}

export async function register(
  s: TestServer,
  objectType: number,
  object: StructureItem,
  attributes: TtlvItem[] = [],
  version: KmipVersion = '2.1',
) {
  const payload: TtlvItem[] = [item.enum(Tag.ObjectType, objectType)];
  if (version.startsWith('2')) payload.push(item.struct(Tag.Attributes, attributes));
  payload.push(object);
  return call(s, Operation.Register, payload, version);
}

export async function registered(
  s: TestServer,
  objectType: number,
  object: StructureItem,
  attributes: TtlvItem[] = [],
  version: KmipVersion = '2.1',
): Promise<string> {
  const res = await register(s, objectType, object, attributes, version);
  expect(res.resultMessage).toBeUndefined();
  expect(res.resultStatus).toBe(ResultStatus.Success);
  return textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
}

/** Get with a Key Format Type; the object structure, or the failed batch item. */
export async function get(s: TestServer, uid: string, format?: number) {
  const payload = [item.text(Tag.UniqueIdentifier, uid)];
  if (format !== undefined) payload.push(item.enum(Tag.KeyFormatType, format));
  const res = await call(s, Operation.Get, payload);
  const object = payloadOf(res).find((i) => Object.values(OBJECT_TAG).includes(i.tag));
  return { res, object: object as StructureItem | undefined };
}

export function keyBlockOf(object: StructureItem | undefined) {
  const block = childOf(object, Tag.KeyBlock);
  return {
    block,
    format: childOf(block, Tag.KeyFormatType),
    material: childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial)!,
  };
}

/** All attributes as KMIP 2.x items (one per attribute) or, for 1.x, Attribute structures. */
export async function getAttributes(
  s: TestServer,
  uid: string,
  version: KmipVersion = '2.1',
): Promise<TtlvItem[]> {
  const res = await call(
    s,
    Operation.GetAttributes,
    [item.text(Tag.UniqueIdentifier, uid)],
    version,
  );
  expect(res.resultStatus).toBe(ResultStatus.Success);
  const payload = payloadOf(res);
  if (version.startsWith('2')) {
    const attrs = find(payload, Tag.Attributes);
    return attrs?.type === ItemType.Structure ? attrs.value : [];
  }
  return payload.filter((i) => i.tag === Tag.Attribute);
}

/** KMIP 1.x Attribute Name texts of a Get Attributes answer. */
export function names1x(attrs: TtlvItem[]): string[] {
  return attrs.map((a) => textOf(childOf(a, Tag.AttributeName))!);
}
