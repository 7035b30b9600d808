// Key Format Type conversion on Get (KMIP 2.1 §6.1.23, Key Format Type §11.17).

import { KmipError } from '../errors.js';
import { bytesOf, childOf, item, numberOf } from '../kmip/items.js';
import type { StructureItem, TtlvItem } from '../ttlv/item.js';
import { ItemType } from '../ttlv/item.js';
import { KeyFormatType, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';

function notSupported(from: number, to: number): KmipError {
  const name = (v: number) => enumName(Tag.KeyFormatType, v) ?? `0x${v.toString(16)}`;
  return new KmipError(
    ResultReason.KeyFormatTypeNotSupported,
    `cannot convert ${name(from)} to ${name(to)}`,
  );
}

/** Returns the object structure with its Key Block in the requested format. */
export function convertKeyFormat(object: StructureItem, to: number): StructureItem {
  const block = childOf(object, Tag.KeyBlock);
  if (block === undefined || block.type !== ItemType.Structure) {
    throw new KmipError(ResultReason.KeyFormatTypeNotSupported, 'object has no Key Block');
  }
  const from = numberOf(childOf(block, Tag.KeyFormatType));
  if (from === undefined)
    throw new KmipError(ResultReason.GeneralFailure, 'Key Block has no format');
  if (from === to) return object;
  const keyValue = childOf(block, Tag.KeyValue);
  const material = childOf(keyValue, Tag.KeyMaterial);
  if (material === undefined) throw notSupported(from, to);
  const converted = convertMaterial(from, to, material);
  const newBlock = item.struct(
    Tag.KeyBlock,
    block.value.map((c) => {
      if (c.tag === Tag.KeyFormatType) return item.enum(Tag.KeyFormatType, to);
      if (c.tag === Tag.KeyValue && c.type === ItemType.Structure) {
        return item.struct(
          Tag.KeyValue,
          c.value.map((m) => (m.tag === Tag.KeyMaterial ? converted : m)),
        );
      }
      return c;
    }),
  );
  return item.struct(
    object.tag,
    object.value.map((c) => (c.tag === Tag.KeyBlock ? newBlock : c)),
  );
}

function convertMaterial(from: number, to: number, material: TtlvItem): TtlvItem {
  if (from === KeyFormatType.Raw && to === KeyFormatType.TransparentSymmetricKey) {
    const key = bytesOf(material);
    if (key !== undefined) {
      return item.struct(Tag.KeyMaterial, [item.bytes(Tag.Key, key)]);
    }
  }
  if (from === KeyFormatType.TransparentSymmetricKey && to === KeyFormatType.Raw) {
    const key = bytesOf(childOf(material, Tag.Key));
    if (key !== undefined) return item.bytes(Tag.KeyMaterial, key);
  }
  throw notSupported(from, to);
}
