// The generic TTLV item tree: types, lengths and padding, no KMIP meaning.
// KMIP 1.4 §9.1.1, KMIP 2.1 §9.1 (TTLV encoding).

/** TTLV item type codes (KMIP 2.1 §9.1.1.2). */
export const ItemType = {
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
  DateTimeExtended: 0x0b,
} as const;
export type ItemType = (typeof ItemType)[keyof typeof ItemType];

export const ITEM_TYPE_NAMES: Readonly<Record<ItemType, string>> = Object.fromEntries(
  Object.entries(ItemType).map(([name, code]) => [code, name]),
) as Record<ItemType, string>;

export function isItemType(code: number): code is ItemType {
  return code >= ItemType.Structure && code <= ItemType.DateTimeExtended;
}

export interface StructureItem {
  tag: number;
  type: typeof ItemType.Structure;
  value: TtlvItem[];
}
/** Integer is signed 32-bit; Enumeration and Interval are unsigned 32-bit. */
export interface NumberItem {
  tag: number;
  type: typeof ItemType.Integer | typeof ItemType.Enumeration | typeof ItemType.Interval;
  value: number;
}
/** Long Integer, Date-Time (POSIX seconds) and Date-Time Extended (microseconds): signed 64-bit. */
export interface BigIntItem {
  tag: number;
  type: typeof ItemType.LongInteger | typeof ItemType.DateTime | typeof ItemType.DateTimeExtended;
  value: bigint;
}
/**
 * Big Integer keeps its exact two's complement bytes (length a multiple of 8) so that a
 * client's sign-extension survives a round trip; see bigIntegerToBigint for the number.
 */
export interface BigIntegerItem {
  tag: number;
  type: typeof ItemType.BigInteger;
  value: Uint8Array;
}
export interface BooleanItem {
  tag: number;
  type: typeof ItemType.Boolean;
  value: boolean;
}
export interface TextItem {
  tag: number;
  type: typeof ItemType.TextString;
  value: string;
}
export interface BytesItem {
  tag: number;
  type: typeof ItemType.ByteString;
  value: Uint8Array;
}

export type TtlvItem =
  | StructureItem
  | NumberItem
  | BigIntItem
  | BigIntegerItem
  | BooleanItem
  | TextItem
  | BytesItem;

export function structure(tag: number, value: TtlvItem[]): StructureItem {
  return { tag, type: ItemType.Structure, value };
}
