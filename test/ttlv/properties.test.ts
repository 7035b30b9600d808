// Property tests generated from the spec table: random trees of real tags with their item
// types, enumeration values from each tag's enumeration, mask bits, 1.x Attribute Name/Value
// pairs, 2.x Attribute References and unknown 0x54xxxx tags, round-tripped through binary TTLV,
// the XML encoding and the JSON encoding (Profiles 2.1 §5.4.1, §5.5.1); and random or mutated
// input that may only ever raise KmipError.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { jsonTextToTtlv, jsonToTtlv, ttlvToJson } from '../../src/ttlv/json.js';
import { Tag } from '../../src/ttlv/spec/generated.js';
import { enumDefForTag, maskDefForTag, type TagDef, tagDef } from '../../src/ttlv/spec/index.js';
import { ttlvToXml, xmlToTtlv } from '../../src/ttlv/xml.js';

const defs = [...new Set(Object.values(Tag) as number[])]
  .map((t) => tagDef(t))
  .filter((d): d is TagDef => d !== undefined);
const structureTags = defs.filter((d) => d.type === ItemType.Structure).map((d) => d.tag);
const primitiveDefs = defs.filter((d) => d.type !== ItemType.Structure);
const enumTags = defs.filter((d) => enumDefForTag(d.tag) !== undefined);
const maskTags = defs.filter((d) => maskDefForTag(d.tag) !== undefined);
const PRIMITIVE_TYPES = Object.values(ItemType).filter((t) => t !== ItemType.Structure);

const unknownTag = fc.integer({ min: 0x540000, max: 0x54ffff });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
/** Mostly dates ISO 8601 can show (years 1 to 9999), sometimes any 64-bit value. */
const dateTime = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: -62135596800n, max: 253402300799n }) },
  { weight: 1, arbitrary: int64 },
);

function itemOf(tag: number, type: ItemType): fc.Arbitrary<TtlvItem> {
  const item = (a: fc.Arbitrary<unknown>) => a.map((value) => ({ tag, type, value }) as TtlvItem);
  switch (type) {
    case ItemType.Integer:
      return item(fc.integer({ min: -0x80000000, max: 0x7fffffff }));
    case ItemType.Enumeration: {
      const known = enumDefForTag(tag)?.values.map((v) => v.value) ?? [];
      const any = fc.integer({ min: 0, max: 0xffffffff });
      return item(known.length > 0 ? fc.oneof(fc.constantFrom(...known), any) : any);
    }
    case ItemType.Interval:
      return item(fc.integer({ min: 0, max: 0xffffffff }));
    case ItemType.LongInteger:
    case ItemType.DateTimeExtended:
      return item(int64);
    case ItemType.DateTime:
      return item(dateTime);
    case ItemType.BigInteger:
      return item(
        fc
          .integer({ min: 1, max: 4 })
          .chain((n) => fc.uint8Array({ minLength: n * 8, maxLength: n * 8 })),
      );
    case ItemType.Boolean:
      return item(fc.boolean());
    case ItemType.TextString:
      return item(fc.string({ unit: 'binary', maxLength: 20 }));
    case ItemType.ByteString:
      return item(fc.uint8Array({ maxLength: 40 }));
    default:
      throw new Error(`no leaf of type ${type}`);
  }
}

const anyType = fc.constantFrom(...PRIMITIVE_TYPES);

const leaf: fc.Arbitrary<TtlvItem> = fc.oneof(
  fc
    .constantFrom(...primitiveDefs)
    .chain((d) =>
      d.type === undefined ? anyType.chain((t) => itemOf(d.tag, t)) : itemOf(d.tag, d.type),
    ),
  fc.tuple(unknownTag, anyType).chain(([tag, type]) => itemOf(tag, type)),
  fc.constantFrom(...maskTags).chain((d) => itemOf(d.tag, ItemType.Integer)),
);

/** A KMIP 1.x Attribute whose value is typed by its name (Profiles §5.4.1.5). */
const attribute1x: fc.Arbitrary<TtlvItem> = fc.constantFrom(...enumTags, ...maskTags).chain((d) => {
  const type = enumDefForTag(d.tag) !== undefined ? ItemType.Enumeration : ItemType.Integer;
  return itemOf(d.tag, type).map((v) => ({
    tag: Tag.Attribute,
    type: ItemType.Structure,
    value: [
      { tag: Tag.AttributeName, type: ItemType.TextString, value: d.specName },
      { ...v, tag: Tag.AttributeValue },
    ],
  }));
});

const attributeReference: fc.Arbitrary<TtlvItem> = fc
  .oneof(
    fc.constantFrom(...defs.map((d) => d.tag)),
    unknownTag,
    fc.integer({ min: 0, max: 0xffffffff }),
  )
  .map((value) => ({ tag: Tag.AttributeReference, type: ItemType.Enumeration, value }));

const { tree } = fc.letrec<{ tree: TtlvItem; node: TtlvItem }>((tie) => ({
  tree: fc
    .tuple(
      fc.oneof(fc.constantFrom(...structureTags), unknownTag),
      fc.array(tie('node'), { maxLength: 6 }),
    )
    .map(([tag, value]) => ({ tag, type: ItemType.Structure, value })),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    attribute1x,
    attributeReference,
    tie('tree'),
  ),
}));

/** Walks the encoding: 8-byte headers, padded lengths, children filling their parent exactly. */
function checkLayout(bytes: Uint8Array, from: number, to: number): void {
  let pos = from;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (pos < to) {
    const type = view[pos + 3]!;
    const length = view.readUInt32BE(pos + 4);
    if (type === ItemType.Structure) {
      expect(length % 8).toBe(0);
      checkLayout(bytes, pos + 8, pos + 8 + length);
      pos += 8 + length;
    } else {
      const fixed: Partial<Record<number, number>> = { 2: 4, 3: 8, 5: 4, 6: 8, 9: 8, 10: 4, 11: 8 };
      if (fixed[type] !== undefined) expect(length).toBe(fixed[type]);
      pos += 8 + Math.ceil(length / 8) * 8;
    }
  }
  expect(pos).toBe(to);
}

const onlyKmipErrors = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (!(err instanceof KmipError)) throw err;
  }
};

describe('round trips (Profiles 2.1 §5.4.1, §5.5.1)', () => {
  it('binary, XML and JSON give back identical bytes', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const bytes = encodeTtlv(t);
        expect(bytes.length % 8).toBe(0);
        checkLayout(bytes, 0, bytes.length);
        const decoded = decodeTtlv(bytes, { maxDepth: 64 });
        expect(encodeTtlv(decoded)).toEqual(bytes);
        const limits = { limits: { maxDepth: 64 } };
        expect(encodeTtlv(xmlToTtlv(ttlvToXml(decoded), limits))).toEqual(bytes);
        expect(encodeTtlv(xmlToTtlv(ttlvToXml(decoded, { indent: '' }), limits))).toEqual(bytes);
        const json = JSON.stringify(ttlvToJson(decoded));
        expect(encodeTtlv(jsonTextToTtlv(json, limits))).toEqual(bytes);
      }),
      { numRuns: 400 },
    );
  });
});

describe('hostile input raises only KmipError', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyKmipErrors(() => decodeTtlv(b))),
    );
  });

  it('mutated and truncated encodings', () => {
    const mutated = fc
      .tuple(
        tree,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
      )
      .map(([t, edits, cut]) => {
        const b = Buffer.from(encodeTtlv(t));
        for (const [at, v] of edits) b[at % b.length] = v;
        return b.subarray(0, b.length - (cut % 3 === 0 ? cut % b.length : 0));
      });
    fc.assert(
      fc.property(mutated, (b) => onlyKmipErrors(() => decodeTtlv(b))),
      { numRuns: 500 },
    );
  });

  it('mutated XML and random JSON', () => {
    const xml = fc
      .tuple(tree, fc.nat(), fc.string({ maxLength: 3 }), fc.nat({ max: 4 }))
      .map(([t, at, insert, drop]) => {
        const s = ttlvToXml(t);
        const i = at % (s.length + 1);
        return s.slice(0, i) + insert + s.slice(i + drop);
      });
    fc.assert(
      fc.property(xml, (s) => onlyKmipErrors(() => xmlToTtlv(s))),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.jsonValue(), (v) => onlyKmipErrors(() => jsonToTtlv(v))));
    const shaped = fc.record({
      tag: fc.oneof(fc.constantFrom('BatchCount', 'ObjectType', 'P', '0x540001'), fc.string()),
      type: fc.constantFrom(...Object.keys(ItemType), 'Nope'),
      value: fc.jsonValue(),
    });
    fc.assert(fc.property(shaped, (v) => onlyKmipErrors(() => jsonToTtlv(v))));
  });
});
