// Attributes in both wire forms. KMIP 1.x sends `Attribute{Attribute Name, [Attribute Index],
// Attribute Value}` with the spec's human names ("Cryptographic Algorithm") and custom names
// `x-…`/`y-…` (KMIP 1.4 §2.1.1). KMIP 2.x sends one item per attribute inside `Attributes`, and
// vendor attributes as `Attribute{Vendor Identification, Attribute Name, Attribute Value}`
// (KMIP 2.1 §2.1.1, §4). Internally an attribute is its own tagged item; a custom attribute is
// named `vendor-name` (1.x `x-ID` is 2.x vendor `x`, name `ID`) and keeps an Attribute Value.

import { KmipError } from '../errors.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import {
  type KmipVersion,
  tagDef,
  tagDefBySpecName,
  tagExistsIn,
  tagName,
  versionAtLeast,
} from '../ttlv/spec/index.js';

export interface Attribute {
  /** Normalised tag name ('CryptographicAlgorithm') or a custom name ('x-ID'). */
  name: string;
  /** The value, tagged with the attribute's own tag (Attribute Value for custom ones). */
  value: TtlvItem;
}

export function isCustomName(name: string): boolean {
  return /^[a-zA-Z0-9]+-/.test(name) && tagDefBySpecName(name) === undefined;
}

const child = (s: StructureItem, tag: number) => s.value.find((c) => c.tag === tag);

function textOf(item: TtlvItem | undefined, what: string, path: string[]): string {
  if (item === undefined || item.type !== ItemType.TextString) {
    throw new KmipError(ResultReason.InvalidField, `${what} missing or not a Text String`, path);
  }
  return item.value;
}

function retag(item: TtlvItem, tag: number): TtlvItem {
  return item.tag === tag ? item : ({ ...item, tag } as TtlvItem);
}

/** KMIP 1.x: one `Attribute` structure → attribute (the index is dropped; order carries it). */
export function fromAttribute1x(item: TtlvItem): Attribute {
  const path = [tagName(item.tag)];
  if (item.type !== ItemType.Structure) {
    throw new KmipError(ResultReason.InvalidField, 'Attribute is not a Structure', path);
  }
  const name = textOf(child(item, Tag.AttributeName), 'Attribute Name', path);
  const value = child(item, Tag.AttributeValue);
  if (value === undefined) {
    throw new KmipError(ResultReason.InvalidField, `attribute ${name} has no value`, path);
  }
  const def = tagDefBySpecName(name);
  if (def !== undefined) {
    if (def.type !== undefined && def.type !== value.type) {
      throw new KmipError(ResultReason.InvalidField, `attribute ${name} has the wrong type`, path);
    }
    return { name: def.name, value: retag(value, def.tag) };
  }
  if (!/^[xy]-/.test(name)) {
    throw new KmipError(ResultReason.InvalidField, `unknown attribute ${name}`, path);
  }
  return { name, value };
}

/** KMIP 2.x: the children of an `Attributes` (or Common/Private/Public Attributes) structure. */
export function fromAttributes2x(item: TtlvItem): Attribute[] {
  const path = [tagName(item.tag)];
  if (item.type !== ItemType.Structure) {
    throw new KmipError(ResultReason.InvalidField, 'Attributes is not a Structure', path);
  }
  return item.value.map((a) => {
    if (a.tag === Tag.Attribute) {
      const vendor = textOf(
        a.type === ItemType.Structure ? child(a, Tag.VendorIdentification) : undefined,
        'Vendor Identification',
        path,
      );
      const s = a as StructureItem;
      const name = textOf(child(s, Tag.AttributeName), 'Attribute Name', path);
      const value = child(s, Tag.AttributeValue);
      if (value === undefined) {
        throw new KmipError(ResultReason.InvalidField, `attribute ${name} has no value`, path);
      }
      return { name: `${vendor}-${name}`, value };
    }
    const def = tagDef(a.tag);
    if (def === undefined) return { name: tagName(a.tag), value: a };
    if (def.type !== undefined && def.type !== a.type) {
      throw new KmipError(ResultReason.InvalidField, `attribute ${def.name} has the wrong type`, [
        ...path,
        def.name,
      ]);
    }
    return { name: def.name, value: a };
  });
}

/**
 * Attributes shown from a later version than their tag exists in. Key Format Type is a field
 * since 1.0 but an attribute only since 2.0. Original Creation Date (a 1.2 attribute the
 * server sets) is shown from 1.3 on: PyKMIP 0.10, whose default and Barbican's is 1.2, fails
 * on the whole Get Attributes response when it meets it.
 */
const SHOWN_FROM: Readonly<Record<string, KmipVersion>> = {
  KeyFormatType: '2.0',
  OriginalCreationDate: '1.3',
};

/** Whether a 1.x/2.x peer of this version may see the attribute at all. */
export function attributeInVersion(a: Attribute, version: KmipVersion): boolean {
  if (a.value.tag === Tag.AttributeValue) return true;
  const from = SHOWN_FROM[a.name];
  if (from !== undefined && !versionAtLeast(version, from)) return false;
  return tagExistsIn(a.value.tag, version);
}

/** KMIP 1.x `Attribute` structure; `index` is written when above 0. */
/** KMIP 1.x Attribute Index: the position of an instance among those of its attribute. */
export function withIndexes(list: readonly Attribute[]) {
  const seen = new Map<string, number>();
  return list.map((attribute) => {
    const index = seen.get(attribute.name) ?? 0;
    seen.set(attribute.name, index + 1);
    return { attribute, index };
  });
}

export function toAttribute1x(a: Attribute, index = 0): StructureItem {
  const def = a.value.tag === Tag.AttributeValue ? undefined : tagDef(a.value.tag);
  const children: TtlvItem[] = [
    { tag: Tag.AttributeName, type: ItemType.TextString, value: def?.specName ?? a.name },
  ];
  if (index > 0) children.push({ tag: Tag.AttributeIndex, type: ItemType.Integer, value: index });
  children.push(retag(a.value, Tag.AttributeValue));
  return { tag: Tag.Attribute, type: ItemType.Structure, value: children };
}

/** KMIP 2.x: one attribute as it appears inside `Attributes`. */
export function toAttribute2x(a: Attribute): TtlvItem {
  if (a.value.tag !== Tag.AttributeValue) return a.value;
  const dash = a.name.indexOf('-');
  return {
    tag: Tag.Attribute,
    type: ItemType.Structure,
    value: [
      { tag: Tag.VendorIdentification, type: ItemType.TextString, value: a.name.slice(0, dash) },
      { tag: Tag.AttributeName, type: ItemType.TextString, value: a.name.slice(dash + 1) },
      a.value,
    ],
  };
}

/** 1.x form of a list: the index counts earlier instances of the same attribute. */
export function toAttributes1x(list: readonly Attribute[], version: KmipVersion): StructureItem[] {
  const seen = new Map<string, number>();
  const out: StructureItem[] = [];
  for (const a of list) {
    if (!attributeInVersion(a, version)) continue;
    const n = seen.get(a.name) ?? 0;
    seen.set(a.name, n + 1);
    out.push(toAttribute1x(a, n));
  }
  return out;
}

export function toAttributes2x(
  tag: number,
  list: readonly Attribute[],
  version: KmipVersion,
): StructureItem {
  return {
    tag,
    type: ItemType.Structure,
    value: list.filter((a) => attributeInVersion(a, version)).map(toAttribute2x),
  };
}
