// Golden vectors from the KMIP texts (fixtures/golden/*.phex): each decodes to the tree the text
// describes, written here by hand from the text's words, and that tree encodes back to exactly the
// vector's bytes. KMIP 1.4 §9.1.2 Examples; KMIP Use Cases 1.0 §3.1.1.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bigIntegerToBigint } from '../../src/ttlv/big-integer.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { parsePrettyHex } from '../helpers/pretty-hex.js';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/golden');
const vector = (name: string) => parsePrettyHex(readFileSync(path.join(DIR, name), 'utf8'));

// The §9.1.2 examples all use tag 42 00 20 (Compromise Date); the structure's children use
// 42 00 04 and 42 00 05, as the spec says.
const T = 0x420020;

const bytes = (...b: number[]) => Uint8Array.from(b);

const SPEC_EXAMPLES: { file: string; item: TtlvItem }[] = [
  // "An Integer containing the decimal value 8"
  { file: 'spec-9.1.2-integer.phex', item: { tag: T, type: ItemType.Integer, value: 8 } },
  // "A Long Integer containing the decimal value 123456789000000000"
  {
    file: 'spec-9.1.2-long-integer.phex',
    item: { tag: T, type: ItemType.LongInteger, value: 123456789000000000n },
  },
  // "A Big Integer containing the decimal value 1234567890000000000000000000": the value is
  // kept as its two's complement bytes, sign-extended to 16.
  {
    file: 'spec-9.1.2-big-integer.phex',
    item: {
      tag: T,
      type: ItemType.BigInteger,
      value: bytes(0, 0, 0, 0, 0x03, 0xfd, 0x35, 0xeb, 0x6b, 0xc2, 0xdf, 0x46, 0x18, 0x08, 0, 0),
    },
  },
  // "An Enumeration with value 255"
  { file: 'spec-9.1.2-enumeration.phex', item: { tag: T, type: ItemType.Enumeration, value: 255 } },
  // "A Boolean with a value of True"
  { file: 'spec-9.1.2-boolean.phex', item: { tag: T, type: ItemType.Boolean, value: true } },
  // "A Text String with the value 'Hello World'"
  {
    file: 'spec-9.1.2-text-string.phex',
    item: { tag: T, type: ItemType.TextString, value: 'Hello World' },
  },
  // "A Byte String with the value { 0x01, 0x02, 0x03 }"
  {
    file: 'spec-9.1.2-byte-string.phex',
    item: { tag: T, type: ItemType.ByteString, value: bytes(1, 2, 3) },
  },
  // "A Date-Time, containing the value for Friday, March 14, 2008, 11:56:40 GMT"
  {
    file: 'spec-9.1.2-date-time.phex',
    item: {
      tag: T,
      type: ItemType.DateTime,
      value: BigInt(Date.UTC(2008, 2, 14, 11, 56, 40) / 1000),
    },
  },
  // "An Interval, containing the value for 10 days"
  {
    file: 'spec-9.1.2-interval.phex',
    item: { tag: T, type: ItemType.Interval, value: 10 * 24 * 60 * 60 },
  },
  // "A Structure containing an Enumeration, value 254, followed by an Integer, value 255, having
  // tags 420004 and 420005 respectively"
  {
    file: 'spec-9.1.2-structure.phex',
    item: {
      tag: T,
      type: ItemType.Structure,
      value: [
        { tag: 0x420004, type: ItemType.Enumeration, value: 254 },
        { tag: 0x420005, type: ItemType.Integer, value: 255 },
      ],
    },
  },
];

// KMIP Use Cases 1.0 §3.1.1 Create / Destroy, the Create request: a 128-bit AES key with usage
// mask Encrypt | Decrypt (0x4 | 0x8). Tags from KMIP 1.0 §9.1.3.1: Request Message 420078,
// Request Header 420077, Protocol Version 420069 (Major 42006a, Minor 42006b), Batch Count
// 42000d, Batch Item 42000f, Operation 42005c, Request Payload 420079, Object Type 420057,
// Template-Attribute 420091, Attribute 420008, Attribute Name 42000a, Attribute Value 42000b.
const attribute = (name: string, value: TtlvItem): TtlvItem => ({
  tag: 0x420008,
  type: ItemType.Structure,
  value: [{ tag: 0x42000a, type: ItemType.TextString, value: name }, value],
});
const USE_CASE_CREATE: TtlvItem = {
  tag: 0x420078,
  type: ItemType.Structure,
  value: [
    {
      tag: 0x420077,
      type: ItemType.Structure,
      value: [
        {
          tag: 0x420069,
          type: ItemType.Structure,
          value: [
            { tag: 0x42006a, type: ItemType.Integer, value: 1 },
            { tag: 0x42006b, type: ItemType.Integer, value: 0 },
          ],
        },
        { tag: 0x42000d, type: ItemType.Integer, value: 1 },
      ],
    },
    {
      tag: 0x42000f,
      type: ItemType.Structure,
      value: [
        { tag: 0x42005c, type: ItemType.Enumeration, value: 1 }, // Create
        {
          tag: 0x420079,
          type: ItemType.Structure,
          value: [
            { tag: 0x420057, type: ItemType.Enumeration, value: 2 }, // Symmetric Key
            {
              tag: 0x420091,
              type: ItemType.Structure,
              value: [
                // AES
                attribute('Cryptographic Algorithm', {
                  tag: 0x42000b,
                  type: ItemType.Enumeration,
                  value: 3,
                }),
                attribute('Cryptographic Length', {
                  tag: 0x42000b,
                  type: ItemType.Integer,
                  value: 128,
                }),
                // "Cryptographic Usage Mask" is 24 characters: a Text String with no padding.
                attribute('Cryptographic Usage Mask', {
                  tag: 0x42000b,
                  type: ItemType.Integer,
                  value: 0x0c,
                }),
              ],
            },
          ],
        },
      ],
    },
  ],
};

const ALL = [
  ...SPEC_EXAMPLES,
  { file: 'usecases-1.0-3.1.1-create-request.phex', item: USE_CASE_CREATE },
];

describe('golden vectors (KMIP 1.4 §9.1.2, Use Cases 1.0 §3.1.1)', () => {
  it('covers every file in fixtures/golden', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.phex'));
    expect(ALL.map((v) => v.file).sort()).toEqual(files.sort());
  });

  for (const { file, item } of ALL) {
    describe(file, () => {
      const wire = vector(file);

      it('decodes to the tree the text describes', () => {
        expect(normalize(decodeTtlv(wire))).toEqual(normalize(item));
      });

      it('encodes the tree to exactly the vector bytes', () => {
        expect(encodeTtlv(item).toString('hex')).toBe(wire.toString('hex'));
      });
    });
  }

  it('reads the Big Integer example as 1234567890000000000000000000', () => {
    const item = decodeTtlv(vector('spec-9.1.2-big-integer.phex'));
    expect(item.type).toBe(ItemType.BigInteger);
    expect(bigIntegerToBigint(item.value as Uint8Array)).toBe(1234567890000000000000000000n);
  });

  it('reads the Date-Time example as 2008-03-14T11:56:40Z', () => {
    const item = decodeTtlv(vector('spec-9.1.2-date-time.phex'));
    expect(new Date(Number(item.value as bigint) * 1000).toISOString()).toBe(
      '2008-03-14T11:56:40.000Z',
    );
  });
});

/** Byte values compared as plain arrays, so Buffer and Uint8Array compare equal. */
function normalize(item: TtlvItem): unknown {
  if (item.type === ItemType.Structure) return { ...item, value: item.value.map(normalize) };
  if (item.value instanceof Uint8Array) return { ...item, value: [...item.value] };
  return item;
}
