// Text forms of TTLV values shared by the XML and JSON encodings (KMIP Profiles 2.1 §5.4.1,
// §5.5.1): hex forms (§5.4.1.2), tag references (§5.4.1.3), ISO 8601 date-times, masks and
// enumerations looked up through the tag that gives them meaning. Every formatter checks that
// its text parses back to the same number and falls back to hex when it would not, so the
// encodings stay lossless against binary TTLV whatever the spec table contains.

import { invalidField } from '../errors.js';
import { ItemType } from './item.js';
import { Tag } from './spec/generated.js';
import {
  enumName,
  enumValue,
  maskDefForTag,
  maskNames,
  maskValue,
  tagDefByName,
  tagDefBySpecName,
  tagName,
} from './spec/index.js';

// ---------------------------------------------------------------------------------------------
// Hex (Profiles §5.4.1.2: `0x` plus every digit of the fixed width; byte strings without `0x`)

export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

export function hex64(n: bigint): string {
  return `0x${BigInt.asUintN(64, n).toString(16).padStart(16, '0')}`;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_BYTES = /^(?:[0-9a-fA-F]{2})*$/;

export function hexToBytes(text: string, what: string): Buffer {
  if (!HEX_BYTES.test(text)) throw invalidField(`${what} is not an even-length hex string`);
  return Buffer.from(text, 'hex');
}

/**
 * Big Integer text is hex two's complement. Leading bytes are kept as given; a length that is
 * not a multiple of 8 is sign-extended to one (KMIP 2.1 §9.1.1.4).
 */
export function parseBigIntegerHex(text: string): Buffer {
  const digits = /^0x/i.test(text) ? text.slice(2) : text;
  if (digits.length === 0) throw invalidField('Big Integer value is empty');
  const bytes = hexToBytes(digits.length % 2 === 1 ? `0${digits}` : digits, 'Big Integer value');
  const length = Math.ceil(bytes.length / 8) * 8;
  if (length === bytes.length) return bytes;
  const out = Buffer.alloc(length, (bytes[0]! & 0x80) !== 0 ? 0xff : 0);
  bytes.copy(out, length - bytes.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Numbers

const DECIMAL = /^[+-]?\d+$/;
const HEX_NUMBER = /^0x([0-9a-fA-F]+)$/i;

/** Decimal or `0x` hex; hex is read as the two's complement bit pattern of `bits`. */
export function parseWholeNumber(text: string, bits: 32 | 64, signed: boolean): bigint {
  const hex = HEX_NUMBER.exec(text);
  if (hex !== null) {
    const digits = hex[1]!.replace(/^0+(?=.)/, '');
    if (digits.length > bits / 4)
      throw invalidField(`hex value ${text} is wider than ${bits} bits`);
    const raw = BigInt(`0x${digits}`);
    return signed ? BigInt.asIntN(bits, raw) : raw;
  }
  if (!DECIMAL.test(text)) throw invalidField(`'${text}' is not a number`);
  const n = BigInt(text);
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (n < min || n > max) throw invalidField(`${text} is outside ${min}..${max}`);
  return n;
}

export const parseInt32 = (text: string) => Number(parseWholeNumber(text, 32, true));
export const parseUint32 = (text: string) => Number(parseWholeNumber(text, 32, false));
export const parseInt64 = (text: string) => parseWholeNumber(text, 64, true);

export function parseBooleanText(text: string): boolean {
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  if (HEX_NUMBER.test(text)) {
    const n = parseWholeNumber(text, 64, false);
    if (n === 0n || n === 1n) return n === 1n;
  }
  throw invalidField(`'${text}' is not a Boolean`);
}

// ---------------------------------------------------------------------------------------------
// Date-Time: POSIX seconds <-> ISO 8601 with a zone. Civil-date arithmetic on plain integers
// (H. Hinnant's days_from_civil) so any year works, not only the range of JavaScript Date.

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the span four-digit ISO years can show. */
const ISO_MIN = BigInt(daysFromCivil(1, 1, 1) * 86400);
const ISO_MAX = BigInt(daysFromCivil(9999, 12, 31) * 86400 + 86399);

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `2012-04-27T08:12:21+00:00`, or 16-digit hex when ISO 8601 cannot show the instant. */
export function formatDateTime(seconds: bigint): string {
  if (seconds < ISO_MIN || seconds > ISO_MAX) return hex64(seconds);
  const s = Number(seconds);
  const days = Math.floor(s / 86400);
  const rest = s - days * 86400;
  const [y, m, d] = civilFromDays(days);
  const time = `${pad2(Math.floor(rest / 3600))}:${pad2(Math.floor(rest / 60) % 60)}:${pad2(rest % 60)}`;
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}T${time}+00:00`;
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * ISO 8601 in any zone (none means UTC), fractional seconds dropped (Profiles §5.5.1), or
 * 16-digit hex.
 */
export function parseDateTime(text: string): bigint {
  if (HEX_NUMBER.test(text)) return parseInt64(text);
  const m = ISO_DATE_TIME.exec(text);
  if (m === null) throw invalidField(`'${text}' is not an ISO 8601 date-time`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const days = daysFromCivil(year!, month!, day!);
  const [cy, cm, cd] = civilFromDays(days);
  if (cy !== year || cm !== month || cd !== day || hour! > 23 || minute! > 59 || second! > 59) {
    throw invalidField(`'${text}' is not a valid date-time`);
  }
  let offset = 0;
  const zone = m[7];
  if (zone !== undefined && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) throw invalidField(`'${text}' has an invalid zone offset`);
    offset = (zone[0] === '-' ? -1 : 1) * (zh * 3600 + zm * 60);
  }
  return BigInt(days * 86400 + hour! * 3600 + minute! * 60 + second! - offset);
}

// ---------------------------------------------------------------------------------------------
// Tags (Profiles §5.4.1.3): normalised name, or `0x` + 6 hex digits when the table has no name.

/** The normalised name of a tag, or undefined when only the hex form round-trips. */
export function knownTagName(tag: number): string | undefined {
  const name = tagName(tag);
  return tagDefByName(name)?.tag === tag ? name : undefined;
}

export function tagText(tag: number): string {
  return knownTagName(tag) ?? `0x${tag.toString(16).padStart(6, '0')}`;
}

const HEX_TAG = /^(?:0x|x)([0-9a-fA-F]{6})$/i;

/** A normalised tag name, a `0x` hex tag, or the `x540001` form of the spec's XML examples. */
export function parseTagText(text: string): number | undefined {
  const hex = HEX_TAG.exec(text);
  if (hex !== null) return Number.parseInt(hex[1]!, 16);
  return tagDefByName(text)?.tag;
}

// ---------------------------------------------------------------------------------------------
// Value domains: which table names an Enumeration or Integer value.

/**
 * `tag`: enumerations and masks of that tag. `tagCode`: the value is a tag number written as a
 * tag name (KMIP 2.x Attribute Reference, Profiles §5.4.1.5).
 */
export type ValueDomain = { kind: 'tag'; tag: number } | { kind: 'tagCode' };

/**
 * KMIP 1.x Attribute Value takes its meaning from the sibling Attribute Name, which holds the
 * attribute's spec name (`Cryptographic Algorithm`); KMIP 2.x Attribute Reference of type
 * Enumeration carries a tag code.
 */
export function valueDomain(
  tag: number,
  type: ItemType,
  attributeName: string | undefined,
): ValueDomain {
  if (tag === Tag.AttributeValue && attributeName !== undefined) {
    const def = tagDefBySpecName(attributeName) ?? tagDefByName(attributeName);
    if (def !== undefined) return { kind: 'tag', tag: def.tag };
  }
  if (tag === Tag.AttributeReference && type === ItemType.Enumeration) return { kind: 'tagCode' };
  return { kind: 'tag', tag };
}

/** The text of the TextString AttributeName among a structure's children, if any. */
export function attributeNameOf(
  children: readonly { tag: number; type: number; value: unknown }[],
): string | undefined {
  for (const c of children) {
    if (c.tag === Tag.AttributeName && c.type === ItemType.TextString) return c.value as string;
  }
  return undefined;
}

export function formatEnumeration(domain: ValueDomain, value: number): string {
  if (domain.kind === 'tagCode') return knownTagName(value) ?? hex32(value);
  const name = enumName(domain.tag, value);
  return name !== undefined && enumValue(domain.tag, name) === value ? name : hex32(value);
}

export function parseEnumeration(domain: ValueDomain, text: string): number {
  if (HEX_NUMBER.test(text) || DECIMAL.test(text)) return parseUint32(text);
  const value = domain.kind === 'tagCode' ? parseTagText(text) : enumValue(domain.tag, text.trim());
  if (value === undefined) {
    const where = domain.kind === 'tagCode' ? 'tag names' : `the values of ${tagText(domain.tag)}`;
    throw invalidField(`'${text}' is not one of ${where}`);
  }
  return value;
}

/**
 * The flag names of a mask Integer (Profiles §5.4.1.5), plus hex for bits the table does not
 * name; undefined when the tag is no mask or no flag is set.
 */
export function maskTokens(domain: ValueDomain, value: number): string[] | undefined {
  if (domain.kind !== 'tag' || maskDefForTag(domain.tag) === undefined) return undefined;
  const bits = value >>> 0;
  const { names, rest } = maskNames(domain.tag, bits);
  if (names.length === 0) return undefined;
  const named = maskValue(domain.tag, names);
  if (named === undefined || (named | rest) >>> 0 !== bits) return undefined;
  return rest === 0 ? names : [...names, hex32(rest)];
}

/** An Integer from a number or from mask tokens (flag names and numbers OR-ed, any order). */
export function parseIntegerTokens(domain: ValueDomain, tokens: readonly string[]): number {
  if (tokens.length === 0) throw invalidField('Integer value is empty');
  if (tokens.length === 1 && /^[+-]?\d|^0x/i.test(tokens[0]!)) return parseInt32(tokens[0]!);
  let bits = 0;
  for (const token of tokens) {
    if (/^\d|^0x/i.test(token)) {
      bits |= parseUint32(token);
      continue;
    }
    const v =
      domain.kind === 'tag' && maskDefForTag(domain.tag) !== undefined
        ? maskValue(domain.tag, [token])
        : undefined;
    if (v === undefined) throw invalidField(`'${token}' is not a mask flag name`);
    bits |= v;
  }
  return bits | 0;
}

// ---------------------------------------------------------------------------------------------
// Item type names (Profiles §5.4.1.4)

const TYPE_BY_NAME: ReadonlyMap<string, ItemType> = new Map(
  Object.entries(ItemType) as [string, ItemType][],
);

export function parseTypeName(text: string): ItemType {
  const type = TYPE_BY_NAME.get(text);
  if (type === undefined) throw invalidField(`unknown item type '${text}'`);
  return type;
}
