// Naming attributes in requests: KMIP 1.x Attribute Name text ("Cryptographic Algorithm",
// "x-ID"), KMIP 2.x Attribute Reference (an Enumeration holding the attribute's tag, or a
// Structure {Vendor Identification, Attribute Name} for vendor attributes; KMIP 2.1 §7.2).

import { KmipError } from '../errors.js';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { tagDef, tagDefByName, tagDefBySpecName } from '../ttlv/spec/index.js';
import { childOf, item, textOf } from './items.js';
import { custom, type Field, versions } from './schema.js';

/** KMIP 1.x Attribute Name → internal name. Unknown names are kept (they match nothing). */
export function nameFromSpecName(specName: string): string {
  return tagDefBySpecName(specName)?.name ?? specName;
}

export function specNameOf(name: string): string {
  return tagDefByName(name)?.specName ?? name;
}

export function attributeName1x(): Field<string> {
  return versions(
    custom(
      Tag.AttributeName,
      (i) => {
        const t = textOf(i);
        if (t === undefined)
          throw new KmipError(ResultReason.InvalidField, 'Attribute Name is not text');
        return nameFromSpecName(t);
      },
      (tag, name) => item.text(tag, specNameOf(name)),
    ),
    { until: '1.4' },
  );
}

export function attributeReference(): Field<string> {
  return versions(
    custom(Tag.AttributeReference, readReference, (tag, name) => writeReference(tag, name)),
    { since: '2.0' },
  );
}

function readReference(i: TtlvItem): string {
  if (i.type === ItemType.Enumeration) {
    const def = tagDef(i.value);
    if (def === undefined) {
      throw new KmipError(
        ResultReason.InvalidField,
        'Attribute Reference names no known attribute',
      );
    }
    return def.name;
  }
  const vendor = textOf(childOf(i, Tag.VendorIdentification));
  const name = textOf(childOf(i, Tag.AttributeName));
  if (vendor === undefined || name === undefined) {
    throw new KmipError(ResultReason.InvalidField, 'malformed Attribute Reference');
  }
  return `${vendor}-${name}`;
}

function writeReference(tag: number, name: string): TtlvItem {
  const def = tagDefByName(name);
  if (def !== undefined) return item.enum(tag, def.tag);
  const dash = name.indexOf('-');
  return item.struct(tag, [
    item.text(Tag.VendorIdentification, name.slice(0, dash)),
    item.text(Tag.AttributeName, name.slice(dash + 1)),
  ]);
}
