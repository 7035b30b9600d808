// Typed attribute input for the client, and plain values back. An input such as
// `{ cryptographicAlgorithm: 'AES', cryptographicLength: 256, name: 'k1' }` becomes the
// internal Attribute list (src/kmip/attributes.ts); the operation schemas then write it as a
// KMIP 1.x Template-Attribute or 2.x Attributes for the negotiated version. Item types come
// from the spec table, so any attribute with a primitive value works by its camelCase name.

import type { Attribute } from '../kmip/attributes.js';
import { item } from '../kmip/items.js';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { NameType, Tag } from '../ttlv/spec/generated.js';
import {
  enumDefForTag,
  enumName,
  maskDefForTag,
  maskNames,
  maskValue,
  tagDef,
  tagDefByName,
  tagDefBySpecName,
  tagName,
} from '../ttlv/spec/index.js';

/** An enumeration value by name ('AES', 'SymmetricKey', 'symmetric-key', 'PKCS_8', 'pkcs8') or number. */
export type EnumInput = string | number;

export type CustomValue = string | number | boolean | bigint | Date | Uint8Array;

export interface AttributeInput {
  cryptographicAlgorithm?: EnumInput;
  cryptographicLength?: number;
  /** Bit names ('Encrypt', 'Decrypt', …) or the mask as a number. */
  cryptographicUsageMask?: readonly string[] | number;
  /** Name attribute(s), as Uninterpreted Text String names. */
  name?: string | readonly string[];
  objectGroup?: string | readonly string[];
  activationDate?: Date;
  deactivationDate?: Date;
  processStartDate?: Date;
  protectStopDate?: Date;
  contactInformation?: string;
  recommendedCurve?: EnumInput;
  objectType?: EnumInput;
  state?: EnumInput;
  /** Custom attributes: 'x-name' (1.x) which is vendor 'x', name 'name' in 2.x. */
  custom?: Readonly<Record<string, CustomValue>>;
  /** Further attributes already in internal form. */
  raw?: readonly Attribute[];
  /** Any other attribute with a primitive value, by camelCase name. */
  [other: string]: unknown;
}

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Enumeration value of `tag` from a number or any spelling of a value name. */
export function enumArg(tag: number, value: EnumInput): number {
  if (typeof value === 'number') return value;
  const def = enumDefForTag(tag);
  const want = squash(value);
  const hit = def?.values.find((v) => squash(v.name) === want || squash(v.specName) === want);
  if (hit === undefined) {
    throw new TypeError(`unknown ${tagName(tag)} '${value}'`);
  }
  return hit.value;
}

/** Enumeration value name, or its hex form when the table has none. */
export function enumText(tag: number, value: number): string {
  return enumName(tag, value) ?? `0x${value.toString(16).padStart(8, '0')}`;
}

/**
 * Internal attribute name from any spelling: 'objectGroup', 'ObjectGroup', 'Object Group',
 * or a custom 'x-foo' / 'vendor-name' (kept as it is).
 */
export function attributeNameArg(name: string): string {
  const def = tagDefBySpecName(name) ?? tagDefByName(name.charAt(0).toUpperCase() + name.slice(1));
  if (def !== undefined) return def.name;
  if (/^[a-zA-Z0-9]+-./.test(name)) return name;
  throw new TypeError(`unknown attribute '${name}'`);
}

function dateSeconds(d: Date | bigint | number): bigint {
  if (typeof d === 'bigint') return d;
  if (typeof d === 'number') return BigInt(Math.floor(d));
  return BigInt(Math.floor(d.getTime() / 1000));
}

function maskArg(tag: number, value: unknown): number {
  if (typeof value === 'number') return value;
  const names = (value as readonly string[]).map((n) => {
    const bit = maskDefForTag(tag)?.values.find((v) => squash(v.name) === squash(n));
    if (bit === undefined) throw new TypeError(`unknown ${tagName(tag)} bit '${n}'`);
    return bit.name;
  });
  return maskValue(tag, names)!;
}

/** One attribute value item of `tag` from a plain JavaScript value. */
export function valueItem(tag: number, value: unknown): TtlvItem {
  const def = tagDef(tag);
  const what = def?.name ?? tagName(tag);
  if (tag === Tag.Name) {
    return item.struct(Tag.Name, [
      item.text(Tag.NameValue, String(value)),
      item.enum(Tag.NameType, NameType.UninterpretedTextString),
    ]);
  }
  switch (def?.type) {
    case ItemType.Enumeration:
      return item.enum(tag, enumArg(tag, value as EnumInput));
    case ItemType.Integer:
      return item.int(tag, def.mask !== undefined ? maskArg(tag, value) : Number(value));
    case ItemType.LongInteger:
      return item.long(tag, BigInt(value as number));
    case ItemType.TextString:
      return item.text(tag, String(value));
    case ItemType.ByteString:
      return item.bytes(tag, value as Uint8Array);
    case ItemType.Boolean:
      return item.bool(tag, Boolean(value));
    case ItemType.DateTime:
      return item.date(tag, dateSeconds(value as Date));
    case ItemType.Interval:
      return item.interval(tag, Number(value));
    default:
      throw new TypeError(`attribute ${what} cannot be given as a plain value`);
  }
}

/** A custom attribute's value, typed by its JavaScript type. */
export function customValueItem(value: CustomValue): TtlvItem {
  const tag = Tag.AttributeValue;
  if (typeof value === 'string') return item.text(tag, value);
  if (typeof value === 'boolean') return item.bool(tag, value);
  if (typeof value === 'bigint') return item.long(tag, value);
  if (typeof value === 'number') return item.int(tag, value);
  if (value instanceof Date) return item.date(tag, dateSeconds(value));
  return item.bytes(tag, value);
}

/** Typed input → internal attribute list, in the order given. */
export function toAttributes(input: AttributeInput | undefined): Attribute[] {
  if (input === undefined) return [];
  const out: Attribute[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (key === 'raw') {
      out.push(...(value as Attribute[]));
      continue;
    }
    if (key === 'custom') {
      for (const [name, v] of Object.entries(value as Record<string, CustomValue>)) {
        if (!/^[a-zA-Z0-9]+-./.test(name)) {
          throw new TypeError(`custom attribute '${name}' must be named 'x-…' or 'vendor-name'`);
        }
        out.push({ name, value: customValueItem(v) });
      }
      continue;
    }
    const name = attributeNameArg(key);
    const def = tagDefByName(name);
    if (def === undefined) {
      throw new TypeError(`custom attribute '${key}' belongs under 'custom'`);
    }
    const many = Array.isArray(value) && def.mask === undefined ? value : [value];
    for (const v of many) out.push({ name, value: valueItem(def.tag, v) });
  }
  return out;
}

/** One attribute from a name and a plain value (for the CLI and single-attribute edits). */
export function oneAttribute(name: string, value: unknown): Attribute {
  const internal = attributeNameArg(name);
  const def = tagDefByName(internal);
  if (def === undefined) return { name: internal, value: customValueItem(value as CustomValue) };
  return { name: internal, value: valueItem(def.tag, value) };
}

/** 'CryptographicAlgorithm' → 'cryptographicAlgorithm'; custom names stay as they are. */
const camel = (name: string) =>
  tagDefByName(name) === undefined ? name : name.charAt(0).toLowerCase() + name.slice(1);

/** A TTLV item as a plain value: enumerations and masks by name, dates as Date, structures as records. */
export function plainValue(i: TtlvItem): unknown {
  switch (i.type) {
    case ItemType.Structure: {
      if (i.tag === Tag.Name) {
        const v = i.value.find((c) => c.tag === Tag.NameValue);
        if (v?.type === ItemType.TextString) return v.value;
      }
      const out: Record<string, unknown> = {};
      for (const c of i.value) {
        const key = camel(tagName(c.tag));
        const v = plainValue(c);
        if (key in out) out[key] = [...([] as unknown[]).concat(out[key]), v];
        else out[key] = v;
      }
      return out;
    }
    case ItemType.Enumeration:
      return enumDefForTag(i.tag) === undefined ? i.value : enumText(i.tag, i.value);
    case ItemType.Integer: {
      if (maskDefForTag(i.tag) === undefined) return i.value;
      const { names, rest } = maskNames(i.tag, i.value);
      return rest === 0 ? names : [...names, rest];
    }
    case ItemType.DateTime:
      return new Date(Number(i.value) * 1000);
    case ItemType.ByteString:
      return Buffer.from(i.value);
    case ItemType.BigInteger:
      return Buffer.from(i.value);
    default:
      return i.value;
  }
}

/**
 * Attributes as a record keyed by camelCase name ('cryptographicAlgorithm', custom 'x-foo');
 * an attribute with several instances becomes an array.
 */
export function attributeRecord(list: readonly Attribute[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const counts = new Map<string, number>();
  for (const a of list) counts.set(a.name, (counts.get(a.name) ?? 0) + 1);
  for (const a of list) {
    const key = camel(a.name);
    const v = plainValue(a.value);
    if ((counts.get(a.name) ?? 0) > 1) out[key] = [...((out[key] as unknown[]) ?? []), v];
    else out[key] = v;
  }
  return out;
}
