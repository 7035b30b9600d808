// Schema fields for attribute lists in their two wire forms: KMIP 1.x Template-Attribute
// (and bare `Attribute` lists) and KMIP 2.x Attributes. Both read to Attribute[].

import { KmipError } from '../errors.js';
import { ItemType } from '../ttlv/item.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { tagName } from '../ttlv/spec/index.js';
import {
  type Attribute,
  fromAttribute1x,
  fromAttributes2x,
  toAttribute1x,
  toAttributes1x,
  toAttributes2x,
} from './attributes.js';
import { custom, type Field, versions } from './schema.js';

/** KMIP 1.x Template-Attribute (and Common/Private/Public Template-Attribute). Names of
 * registered Templates inside it are not supported: Templates are deprecated since 1.3. */
export function templateAttribute(tag: number): Field<Attribute[]> {
  return versions(
    custom(
      tag,
      (item) => {
        if (item.type !== ItemType.Structure) {
          throw new KmipError(ResultReason.InvalidField, 'not a Structure', [tagName(tag)]);
        }
        const out: Attribute[] = [];
        for (const c of item.value) {
          if (c.tag === Tag.Attribute) out.push(fromAttribute1x(c));
          else if (c.tag === Tag.Name) {
            throw new KmipError(ResultReason.FeatureNotSupported, 'Templates are not supported', [
              tagName(tag),
            ]);
          }
        }
        return out;
      },
      (t, list, version) => ({
        tag: t,
        type: ItemType.Structure,
        value: toAttributes1x(list, version),
      }),
    ),
    { until: '1.4' },
  );
}

/** KMIP 2.x Attributes (and Common/Private/Public Attributes). */
export function attributeSet(tag: number): Field<Attribute[]> {
  return versions(
    custom(
      tag,
      (item) => fromAttributes2x(item),
      (t, list, version) => toAttributes2x(t, list, version),
    ),
    { since: '2.0' },
  );
}

/** One KMIP 1.x `Attribute` (Add/Modify/Delete Attribute payloads, Get Attributes response). */
export function attribute1x(): Field<Attribute> {
  return custom(
    Tag.Attribute,
    (item) => fromAttribute1x(item),
    (_t, a) => toAttribute1x(a),
  );
}

/** KMIP 2.x New Attribute / Current Attribute: a structure holding exactly one attribute. */
export function attributeHolder(tag: number): Field<Attribute> {
  return versions(
    custom(
      tag,
      (i) => {
        const list = fromAttributes2x(i);
        if (list.length !== 1) {
          throw new KmipError(ResultReason.InvalidField, 'exactly one attribute expected', [
            tagName(tag),
          ]);
        }
        return list[0]!;
      },
      (t, a, version) => ({
        tag: t,
        type: ItemType.Structure,
        value: toAttributes2x(t, [a], version).value,
      }),
    ),
    { since: '2.0' },
  );
}

/** KMIP 1.x `Attribute` with its Attribute Index (Modify Attribute). */
export interface IndexedAttribute {
  attribute: Attribute;
  index: number;
}

export function indexedAttribute1x(): Field<IndexedAttribute> {
  return versions(
    custom(
      Tag.Attribute,
      (i) => {
        const index =
          i.type === ItemType.Structure
            ? i.value.find((c) => c.tag === Tag.AttributeIndex)
            : undefined;
        return {
          attribute: fromAttribute1x(i),
          index: index?.type === ItemType.Integer ? index.value : 0,
        };
      },
      (_t, a) => toAttribute1x(a.attribute, a.index),
    ),
    { until: '1.4' },
  );
}
