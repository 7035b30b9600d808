// The KMIP JSON encoding (KMIP Profiles 2.1 §5.5.1): one object per TTLV item,
// `{"tag": name, "type": type, "value": value}`, a Structure's value being the array of its
// children. Output is canonical (names where the spec table has them, numbers where JSON holds
// them exactly); input accepts every form §5.5.1 allows. Lossless against binary TTLV.

import { invalidMessage, KmipError } from '../errors.js';
import { bigintToBigInteger } from './big-integer.js';
import { ItemType, type TtlvItem } from './item.js';
import { type DecodeLimits, resolveLimits } from './limits.js';
import {
  attributeNameOf,
  bytesToHex,
  formatDateTime,
  formatEnumeration,
  hex64,
  hexToBytes,
  maskTokens,
  parseBigIntegerHex,
  parseBooleanText,
  parseDateTime,
  parseEnumeration,
  parseInt64,
  parseIntegerTokens,
  parseTagText,
  parseTypeName,
  parseUint32,
  tagText,
  type ValueDomain,
  valueDomain,
} from './text-values.js';

export interface JsonTtlv {
  tag: string;
  name?: string;
  type?: string;
  value: JsonTtlv[] | number | string | boolean | null;
}

/** Integers beyond ±2^52 are written as hex: JSON readers hold numbers as doubles (§5.5.1). */
const JSON_SAFE = 2n ** 52n;

const TYPE_NAMES = Object.fromEntries(
  Object.entries(ItemType).map(([name, code]) => [code, name]),
) as Record<ItemType, string>;

export function ttlvToJson(item: TtlvItem): JsonTtlv {
  return toJson(item, undefined);
}

function toJson(item: TtlvItem, attributeName: string | undefined): JsonTtlv {
  const tag = tagText(item.tag);
  if (item.type === ItemType.Structure) {
    const childName = attributeNameOf(item.value);
    return { tag, value: item.value.map((c) => toJson(c, childName)) };
  }
  const domain = valueDomain(item.tag, item.type, attributeName);
  return { tag, type: TYPE_NAMES[item.type], value: jsonValue(item, domain) };
}

function jsonValue(item: Exclude<TtlvItem, { type: 1 }>, domain: ValueDomain): JsonTtlv['value'] {
  switch (item.type) {
    case ItemType.Integer:
      return maskTokens(domain, item.value)?.join('|') ?? item.value;
    case ItemType.Enumeration:
      return formatEnumeration(domain, item.value);
    case ItemType.Interval:
      return item.value;
    case ItemType.LongInteger:
    case ItemType.DateTimeExtended:
      return item.value > -JSON_SAFE && item.value < JSON_SAFE
        ? Number(item.value)
        : hex64(item.value);
    case ItemType.DateTime:
      return formatDateTime(item.value);
    case ItemType.BigInteger:
      return `0x${bytesToHex(item.value)}`;
    case ItemType.ByteString:
      return bytesToHex(item.value);
    case ItemType.Boolean:
    case ItemType.TextString:
      return item.value;
  }
}

// ---------------------------------------------------------------------------------------------

export interface JsonReadOptions {
  limits?: Partial<DecodeLimits>;
}

/** Reads one item tree from a parsed JSON value. Anything malformed throws KmipError. */
export function jsonToTtlv(value: unknown, opts: JsonReadOptions = {}): TtlvItem {
  const limits = resolveLimits(opts.limits);
  const state = { items: 0, limits };
  return fromJson(value, undefined, 1, state);
}

/** Parses JSON text and reads it; a JSON syntax error is an InvalidMessage. */
export function jsonTextToTtlv(text: string, opts: JsonReadOptions = {}): TtlvItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidMessage(`malformed JSON: ${(err as Error).message}`);
  }
  return jsonToTtlv(value, opts);
}

interface ReadState {
  items: number;
  limits: DecodeLimits;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fromJson(
  node: unknown,
  attributeName: string | undefined,
  depth: number,
  state: ReadState,
): TtlvItem {
  if (!isObject(node)) throw invalidMessage('an item must be a JSON object');
  const tagField = node.tag;
  let tag: number | undefined;
  try {
    if (typeof tagField !== 'string') throw invalidMessage('an item needs a string "tag"');
    tag = parseTagText(tagField.trim());
    if (tag === undefined) throw invalidMessage(`unknown tag '${tagField}'`);
    if (++state.items > state.limits.maxItems) {
      throw invalidMessage(`more than ${state.limits.maxItems} items`);
    }
    const typeField = node.type;
    if (typeField !== undefined && typeof typeField !== 'string') {
      throw invalidMessage('"type" must be a string');
    }
    const type = typeField === undefined ? ItemType.Structure : parseTypeName(typeField);
    if (type === ItemType.Structure) {
      if (depth > state.limits.maxDepth) {
        throw invalidMessage(`structures nested deeper than ${state.limits.maxDepth}`);
      }
      return { tag, type, value: children(node.value, depth, state) };
    }
    if (!('value' in node)) throw invalidMessage('missing "value"');
    return primitive(tag, type, node.value, valueDomain(tag, type, attributeName));
  } catch (err) {
    if (err instanceof KmipError) {
      err.within(tag !== undefined ? tagText(tag) : String(tagField ?? '?'));
    }
    throw err;
  }
}

function children(value: unknown, depth: number, state: ReadState): TtlvItem[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw invalidMessage('a Structure value must be an array');
  const attributeName = attributeNameOf(
    value.filter(isObject).map((c) => ({
      tag: typeof c.tag === 'string' ? (parseTagText(c.tag) ?? -1) : -1,
      type: c.type === 'TextString' ? ItemType.TextString : -1,
      value: c.value,
    })),
  );
  const name = typeof attributeName === 'string' ? attributeName : undefined;
  const items: TtlvItem[] = [];
  const seen = new Map<string, number>();
  for (const child of value) {
    try {
      const item = fromJson(child, name, depth + 1, state);
      const label = tagText(item.tag);
      seen.set(label, (seen.get(label) ?? 0) + 1);
      items.push(item);
    } catch (err) {
      if (err instanceof KmipError) {
        const label = err.path[0];
        const n = label === undefined ? 0 : (seen.get(label) ?? 0);
        if (n > 0) err.path[0] = `${label}[${n}]`;
      }
      throw err;
    }
  }
  return items;
}

function expectString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw invalidMessage(`${what} value must be a string`);
  return v.trim();
}

function safeInteger(v: number, what: string): bigint {
  if (!Number.isSafeInteger(v)) throw invalidMessage(`${what} value ${v} is not an exact integer`);
  return BigInt(v);
}

function primitive(tag: number, type: ItemType, v: unknown, domain: ValueDomain): TtlvItem {
  const what = TYPE_NAMES[type];
  switch (type) {
    case ItemType.Integer:
      if (typeof v === 'number') {
        return { tag, type, value: parseIntegerTokens(domain, [String(safeInteger(v, what))]) };
      }
      return {
        tag,
        type,
        value: parseIntegerTokens(
          domain,
          expectString(v, what)
            .split(/[|\s]+/)
            .filter(Boolean),
        ),
      };
    case ItemType.Enumeration:
      if (typeof v === 'number')
        return { tag, type, value: parseUint32(String(safeInteger(v, what))) };
      return { tag, type, value: parseEnumeration(domain, expectString(v, what)) };
    case ItemType.Interval:
      return { tag, type, value: parseUint32(numberText(v, what)) };
    case ItemType.LongInteger:
    case ItemType.DateTimeExtended:
      return { tag, type, value: parseInt64(numberText(v, what)) };
    case ItemType.DateTime:
      return {
        tag,
        type,
        value:
          typeof v === 'number'
            ? parseInt64(numberText(v, what))
            : parseDateTime(expectString(v, what)),
      };
    case ItemType.BigInteger: {
      if (typeof v === 'number')
        return { tag, type, value: bigintToBigInteger(safeInteger(v, what)) };
      const text = expectString(v, what);
      const value = /^[+-]?\d+$/.test(text)
        ? bigintToBigInteger(BigInt(text))
        : parseBigIntegerHex(text);
      return { tag, type, value };
    }
    case ItemType.Boolean:
      if (typeof v === 'boolean') return { tag, type, value: v };
      return { tag, type, value: parseBooleanText(expectString(v, what)) };
    case ItemType.TextString:
      if (typeof v !== 'string') throw invalidMessage('TextString value must be a string');
      return { tag, type, value: v };
    case ItemType.ByteString: {
      const text = expectString(v, what);
      return { tag, type, value: hexToBytes(text.replace(/^0x/i, ''), 'Byte String value') };
    }
    default:
      throw invalidMessage(`unknown item type ${type}`);
  }
}

function numberText(v: unknown, what: string): string {
  if (typeof v === 'number') return String(safeInteger(v, what));
  return expectString(v, what);
}
