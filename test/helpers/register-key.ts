// Registers keys for the cryptographic-operation tests: a key given by its material,
// algorithm, length and usage mask, Active from an hour ago unless `active: false`.

import { expect } from 'vitest';
import { item, textOf } from '../../src/kmip/items.js';
import type { StructureItem, TtlvItem } from '../../src/ttlv/item.js';
import {
  KeyFormatType,
  ObjectType,
  Operation,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { attributesFor, find, payloadOf, type TestServer } from './kmip-test-client.js';

export interface KeySpec {
  objectType?: number;
  format?: number;
  material: Uint8Array;
  algorithm: number;
  length: number;
  mask: number;
  active?: boolean;
  extra?: TtlvItem[];
  /** A Key Block given as is (a wrapped key). */
  block?: StructureItem;
}

const OBJECT_TAGS: Record<number, number> = {
  [ObjectType.SymmetricKey]: Tag.SymmetricKey,
  [ObjectType.PrivateKey]: Tag.PrivateKey,
  [ObjectType.PublicKey]: Tag.PublicKey,
};

const NOW = () => BigInt(Math.floor(Date.now() / 1000));

export function keyBlockOf(k: KeySpec): StructureItem {
  return item.struct(Tag.KeyBlock, [
    item.enum(Tag.KeyFormatType, k.format ?? KeyFormatType.Raw),
    item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, k.material)]),
    item.enum(Tag.CryptographicAlgorithm, k.algorithm),
    item.int(Tag.CryptographicLength, k.length),
  ]);
}

/** Registers K as IDENTITY; the outcome whatever it is. */
export async function registerKeyRaw(
  s: TestServer,
  version: KmipVersion,
  k: KeySpec,
  identity = 'alice',
) {
  const objectType = k.objectType ?? ObjectType.SymmetricKey;
  const attrs = [item.int(Tag.CryptographicUsageMask, k.mask), ...(k.extra ?? [])];
  if (k.active !== false) attrs.push(item.date(Tag.ActivationDate, NOW() - 3600n));
  const res = await s.send(
    version,
    [
      {
        operation: Operation.Register,
        payload: [
          item.enum(Tag.ObjectType, objectType),
          attributesFor(version, attrs),
          item.struct(OBJECT_TAGS[objectType]!, [k.block ?? keyBlockOf(k)]),
        ],
      },
    ],
    { identity },
  );
  const bi = res.batchItems[0]!;
  return {
    status: bi.resultStatus,
    reason: bi.resultReason,
    message: bi.resultMessage,
    uid: textOf(find(payloadOf(bi), Tag.UniqueIdentifier)),
  };
}

/** Registers K as IDENTITY, expecting Success; its Unique Identifier. */
export async function registerKey(
  s: TestServer,
  version: KmipVersion,
  k: KeySpec,
  identity = 'alice',
): Promise<string> {
  const r = await registerKeyRaw(s, version, k, identity);
  expect(r.status, r.message).toBe(ResultStatus.Success);
  return r.uid!;
}
