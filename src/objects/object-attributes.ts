// Attributes the server reads from a registered object itself (KMIP 2.1 §4: Cryptographic
// Algorithm and Length "SHALL be set by the server" from the Key Block when known).

import type { Attribute } from '../kmip/attributes.js';
import { bytesOf, childOf, item, numberOf } from '../kmip/items.js';
import type { StructureItem } from '../ttlv/item.js';
import { KeyFormatType, Tag } from '../ttlv/spec/generated.js';
import { attr } from './managed-object.js';

export function derivedAttributes(
  _objectType: number,
  object: StructureItem,
  given: readonly Attribute[],
): Attribute[] {
  const out: Attribute[] = [];
  const has = (name: string) => attr({ attributes: [...given] }, name) !== undefined;
  const block = childOf(object, Tag.KeyBlock);
  if (block === undefined) return out;
  const algorithm = numberOf(childOf(block, Tag.CryptographicAlgorithm));
  let length = numberOf(childOf(block, Tag.CryptographicLength));
  const format = numberOf(childOf(block, Tag.KeyFormatType));
  if (length === undefined && format === KeyFormatType.Raw && object.tag === Tag.SymmetricKey) {
    const material = bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial));
    if (material !== undefined) length = material.length * 8;
  }
  if (algorithm !== undefined && !has('CryptographicAlgorithm')) {
    out.push({
      name: 'CryptographicAlgorithm',
      value: item.enum(Tag.CryptographicAlgorithm, algorithm),
    });
  }
  if (length !== undefined && !has('CryptographicLength')) {
    out.push({ name: 'CryptographicLength', value: item.int(Tag.CryptographicLength, length) });
  }
  return out;
}
