// KMIP 1.4 §5 Server-to-Client Operations, as declarations: the request payloads of §5.1 Notify
// and §5.2 Put. Their response payloads are empty. KMIP 2.0 and 2.1 keep both operations
// (KMIP 2.1 §7) with an Attributes structure instead of the 1.x Attribute list; kmipd sends the
// 1.x forms only (a subscriber's version is 1.0 to 1.4, src/push/config.ts).

import { indexedAttribute1x } from '../kmip/attribute-fields.js';
import { toAttribute1x } from '../kmip/attributes.js';
import { objectFields } from '../kmip/object-fields.js';
import {
  custom,
  enumeration,
  type Field,
  many,
  opt,
  struct,
  text,
  versions,
} from '../kmip/schema.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import { Tag } from '../ttlv/spec/generated.js';
import { tagDefByName, tagDefBySpecName } from '../ttlv/spec/index.js';

/**
 * One entry of a Notify: an attribute instance that changed, with its value, or one that was
 * deleted, without (KMIP 1.4 §5.1: "In case an attribute was deleted, the Attribute structure
 * in question SHALL NOT contain the Attribute Value"). `name` is the normalised name
 * ('CryptographicUsageMask') or a custom one ('x-provider').
 */
export interface AttributeChange {
  name: string;
  /** Attribute Index: the instance's position among those of its attribute. */
  index: number;
  /** Absent for a deleted instance. */
  value?: TtlvItem;
}

function attributeChange1x(): Field<AttributeChange> {
  return custom(
    Tag.Attribute,
    (item) => {
      const children = item.type === ItemType.Structure ? item.value : [];
      const name = children.find((c) => c.tag === Tag.AttributeName);
      const index = children.find((c) => c.tag === Tag.AttributeIndex);
      const value = children.find((c) => c.tag === Tag.AttributeValue);
      const spec = name?.type === ItemType.TextString ? name.value : '';
      return {
        name: tagDefBySpecName(spec)?.name ?? spec,
        index: index?.type === ItemType.Integer ? index.value : 0,
        ...(value === undefined ? {} : { value }),
      };
    },
    (_t, c) => {
      if (c.value !== undefined) return toAttribute1x({ name: c.name, value: c.value }, c.index);
      const children: TtlvItem[] = [
        {
          tag: Tag.AttributeName,
          type: ItemType.TextString,
          value: tagDefByName(c.name)?.specName ?? c.name,
        },
      ];
      if (c.index > 0) {
        children.push({ tag: Tag.AttributeIndex, type: ItemType.Integer, value: c.index });
      }
      return { tag: Tag.Attribute, type: ItemType.Structure, value: children } as StructureItem;
    },
  );
}

/** KMIP 1.4 §5.1 Notify: the attributes of one object that changed or were deleted. */
export const NotifyRequest = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  attributes: many(versions(attributeChange1x(), { until: '1.4' })),
});

/**
 * KMIP 1.4 §5.2 Put: an object with its attributes. Put Function New is a new object; Replace
 * replaces the object named by Replaced Unique Identifier. Fields are written in this order,
 * the specification's.
 */
export const PutRequest = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  putFunction: enumeration(Tag.PutFunction),
  replacedUniqueIdentifier: opt(text(Tag.ReplacedUniqueIdentifier)),
  ...objectFields(),
  attributes: many(indexedAttribute1x()),
});
