// Small constructors for TTLV items, so handlers build trees without repeating type codes.

import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';

export const item = {
  struct: (tag: number, value: TtlvItem[]): StructureItem => ({
    tag,
    type: ItemType.Structure,
    value,
  }),
  int: (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Integer, value }),
  enum: (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Enumeration, value }),
  text: (tag: number, value: string): TtlvItem => ({ tag, type: ItemType.TextString, value }),
  bytes: (tag: number, value: Uint8Array): TtlvItem => ({ tag, type: ItemType.ByteString, value }),
  bool: (tag: number, value: boolean): TtlvItem => ({ tag, type: ItemType.Boolean, value }),
  date: (tag: number, value: bigint): TtlvItem => ({ tag, type: ItemType.DateTime, value }),
  interval: (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Interval, value }),
  long: (tag: number, value: bigint): TtlvItem => ({ tag, type: ItemType.LongInteger, value }),
};

/** The first child with this tag. */
export function childOf(s: TtlvItem | undefined, tag: number): TtlvItem | undefined {
  return s?.type === ItemType.Structure ? s.value.find((c) => c.tag === tag) : undefined;
}

export function numberOf(i: TtlvItem | undefined): number | undefined {
  return i !== undefined &&
    (i.type === ItemType.Integer || i.type === ItemType.Enumeration || i.type === ItemType.Interval)
    ? i.value
    : undefined;
}

export function textOf(i: TtlvItem | undefined): string | undefined {
  return i?.type === ItemType.TextString ? i.value : undefined;
}

export function bytesOf(i: TtlvItem | undefined): Uint8Array | undefined {
  return i?.type === ItemType.ByteString ? i.value : undefined;
}

export function dateOf(i: TtlvItem | undefined): bigint | undefined {
  return i?.type === ItemType.DateTime ? i.value : undefined;
}
