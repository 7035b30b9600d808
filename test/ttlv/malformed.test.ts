// A numbered catalogue of malformed TTLV, each a hand-built byte sequence, asserting the exact
// Result Reason and, where it means something, the tag path. KMIP 1.4 §9.1.1 / KMIP 2.1 §9.1.1
// (item layout, lengths, padding), §9.1.1.4 (value encodings). Structural faults answer Invalid
// Message (4); a well-framed value that is not a legal value answers Invalid Field (7).
// Byte layout in the comments: tag | type | length | value (incl. padding).

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { decodeTtlv } from '../../src/ttlv/binary.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import type { DecodeLimits } from '../../src/ttlv/limits.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';
import { tagName as tagLabel } from '../../src/ttlv/spec/index.js';
import { parsePrettyHex } from '../helpers/pretty-hex.js';

const hx = parsePrettyHex;
const MSG = ResultReason.InvalidMessage;
const FIELD = ResultReason.InvalidField;
const L = tagLabel;

function decodeError(bytes: Uint8Array, limits?: Partial<DecodeLimits>): KmipError {
  let item: TtlvItem | undefined;
  try {
    item = decodeTtlv(bytes, limits);
  } catch (e) {
    if (e instanceof KmipError) return e;
    throw new Error(`expected a KmipError, got ${String(e)}`);
  }
  throw new Error(`expected a KmipError, decoded ${JSON.stringify(item, replacer)}`);
}
const replacer = (_: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);

interface Case {
  id: string;
  what: string;
  bytes: Buffer;
  reason: number;
  /** The expected tag path; omitted where the path is not the point. */
  path?: string[];
  limits?: Partial<DecodeLimits>;
  /** A codec bug this case reproduces (see the report); the case is expected to fail until fixed. */
}

/** `depth` Structures, each the only child of the one before, the innermost empty. */
function nested(depth: number, tag = 0x420020): Buffer {
  let inner = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) {
    const header = Buffer.alloc(8);
    header.writeUIntBE(tag, 0, 3);
    header[3] = ItemType.Structure;
    header.writeUInt32BE(inner.length, 4);
    inner = Buffer.concat([header, inner]);
  }
  return inner;
}

/** A Structure holding `count` empty Structures. */
function wide(count: number): Buffer {
  const header = hx('420078 | 01 | 00000000');
  header.writeUInt32BE(count * 8, 4);
  return Buffer.concat([header, Buffer.alloc(count * 8, hx('420020 | 01 | 00000000'))]);
}

/** A Text String (tag 420020) whose value is `utf8` with zero padding. */
function text(utf8: string): Buffer {
  const value = hx(utf8);
  const header = hx('420020 | 07 | 00000000');
  header.writeUInt32BE(value.length, 4);
  return Buffer.concat([header, value, Buffer.alloc((8 - (value.length % 8)) % 8)]);
}

const CATALOGUE: Case[] = [
  // Truncation
  { id: 'M01', what: 'empty input', bytes: hx(''), reason: MSG, path: [] },
  {
    id: 'M02',
    what: 'truncated header: 7 of 8 bytes',
    bytes: hx('420020 | 02 | 000000'),
    reason: MSG,
    path: [],
  },
  {
    id: 'M03',
    what: 'truncated value: Integer with its 4 value bytes but no padding',
    bytes: hx('420020 | 02 | 00000004 | 00000008'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M04',
    what: 'truncated value: Text String of 11 with 5 bytes present',
    bytes: hx('420020 | 07 | 0000000b | 48656c6c 6f'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M05',
    what: 'Structure length past the end of the message',
    bytes: hx('420078 | 01 | 00000020 | 420020 | 02 | 00000004 | 00000008 00000000'),
    reason: MSG,
    path: [L(0x420078)],
  },
  // Lengths and parents
  {
    id: 'M06',
    what: 'child overruns its parent Structure by 1 byte (parent says 15, child needs 16)',
    bytes: hx(`
      420078 | 01 | 00000018
        420077 | 01 | 0000000f
          42000d | 02 | 00000004 | 00000001 00000000
    `),
    reason: MSG,
    path: [L(0x420078), L(0x420077), L(0x42000d)],
  },
  {
    id: 'M07',
    what: 'child Structure claims more than its parent holds',
    bytes: hx(`
      420078 | 01 | 00000010
        420077 | 01 | 00000010
          42000d | 02 | 00000004 | 00000001 00000000
    `),
    reason: MSG,
    path: [L(0x420078), L(0x420077)],
  },
  {
    id: 'M08',
    what: 'Structure too short to hold a child header (length 4)',
    bytes: hx('420078 | 01 | 00000004 | 00000000'),
    reason: MSG,
    path: [L(0x420078)],
  },
  {
    id: 'M09',
    what: 'trailing bytes after the top-level item (8 zero bytes)',
    bytes: hx('420020 | 02 | 00000004 | 00000008 00000000 | 00000000 00000000'),
    reason: MSG,
    path: [],
  },
  {
    id: 'M10',
    what: 'one trailing byte after the top-level item',
    bytes: hx('420020 | 01 | 00000000 | 00'),
    reason: MSG,
    path: [],
  },
  {
    id: 'M11',
    what: 'two top-level items back to back',
    bytes: hx('420020 | 01 | 00000000 | 420020 | 01 | 00000000'),
    reason: MSG,
    path: [],
  },
  // Padding
  {
    id: 'M12',
    what: 'non-zero padding after an Integer',
    bytes: hx('420020 | 02 | 00000004 | 00000008 00000001'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M13',
    what: 'non-zero last padding byte after a Text String',
    bytes: hx('420020 | 07 | 0000000b | 48656c6c 6f20576f 726c6400 00000080'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M14',
    what: 'non-zero padding after a Byte String, inside a Structure (second child)',
    bytes: hx(`
      420078 | 01 | 00000020
        420020 | 08 | 00000003 | 01020300 00000000
        420020 | 08 | 00000003 | 01020300 00ff0000
    `),
    reason: MSG,
    path: [L(0x420078), `${L(0x420020)}[1]`],
  },
  // Item types
  {
    id: 'M15',
    what: 'unknown item type 0x0c (one past Date-Time Extended)',
    bytes: hx('420020 | 0c | 00000004 | 00000001 00000000'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M16',
    what: 'unknown item type 0x00',
    bytes: hx('420020 | 00 | 00000000'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M17',
    what: 'unknown item type 0xff',
    bytes: hx('420020 | ff | 00000008 | 00000000 00000000'),
    reason: MSG,
    path: [L(0x420020)],
  },
  // Fixed lengths (KMIP 2.1 §9.1.1.4)
  {
    id: 'M18',
    what: 'Integer of length 8',
    bytes: hx('420020 | 02 | 00000008 | 00000000 00000008'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M19',
    what: 'Long Integer of length 4',
    bytes: hx('420020 | 03 | 00000004 | 00000008 00000000'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M20',
    what: 'Enumeration of length 8',
    bytes: hx('420020 | 05 | 00000008 | 00000000 000000ff'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M21',
    what: 'Boolean of length 4',
    bytes: hx('420020 | 06 | 00000004 | 00000001 00000000'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M22',
    what: 'Date-Time of length 4',
    bytes: hx('420020 | 09 | 00000004 | 47da67f8 00000000'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M23',
    what: 'Interval of length 8',
    bytes: hx('420020 | 0a | 00000008 | 00000000 000d2f00'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M24',
    what: 'Date-Time Extended of length 4',
    bytes: hx('420020 | 0b | 00000004 | 00000001 00000000'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M25',
    what: 'Integer of length 0',
    bytes: hx('420020 | 02 | 00000000'),
    reason: MSG,
    path: [L(0x420020)],
  },
  // Values (Invalid Field)
  {
    id: 'M26',
    what: 'Boolean 2',
    bytes: hx('420020 | 06 | 00000008 | 00000000 00000002'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M27',
    what: 'Boolean with a non-zero high word (2^32)',
    bytes: hx('420020 | 06 | 00000008 | 00000001 00000000'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M28',
    what: 'Big Integer of length 12',
    bytes: hx('420020 | 04 | 0000000c | 00000000 00000000 00000001 00000000'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M29',
    what: 'Big Integer of length 0',
    bytes: hx('420020 | 04 | 00000000'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M30',
    what: "bad UTF-8: overlong encoding of '/' (c0 af)",
    bytes: text('c0af'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M31',
    what: 'bad UTF-8: lone continuation byte (80)',
    bytes: text('41 80 42'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M32',
    what: 'bad UTF-8: encoded UTF-16 surrogate U+D800 (ed a0 80)',
    bytes: text('eda080'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M33',
    what: 'bad UTF-8: sequence cut short at the end of the value (e2 82)',
    bytes: text('41 e282'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M34',
    what: 'bad UTF-8: byte ff, never valid',
    bytes: text('ff'),
    reason: FIELD,
    path: [L(0x420020)],
  },
  {
    id: 'M35',
    what: 'bad UTF-8 deep inside a message, as the second Attribute Name',
    bytes: hx(`
      420078 | 01 | 00000038
        420008 | 01 | 00000030
          42000a | 07 | 00000004 | 4e616d65 00000000
          42000b | 02 | 00000004 | 00000001 00000000
          42000a | 07 | 00000002 | c0af0000 00000000
    `),
    reason: FIELD,
    path: [L(0x420078), L(0x420008), `${L(0x42000a)}[1]`],
  },
  // Huge declared lengths: rejected from the header, never allocated
  {
    id: 'M36',
    what: 'Structure declaring 4 GiB - 1',
    bytes: hx('420078 | 01 | ffffffff | 00000000 00000000'),
    reason: MSG,
    path: [L(0x420078)],
  },
  {
    id: 'M37',
    what: 'Byte String declaring 4 GiB - 1, alone',
    bytes: hx('420020 | 08 | ffffffff'),
    reason: MSG,
    path: [L(0x420020)],
  },
  {
    id: 'M38',
    what: 'Byte String declaring 2 GiB inside a Structure',
    bytes: hx(`
      420078 | 01 | 00000010
        420020 | 08 | 80000000 | 00000000 00000000
    `),
    reason: MSG,
    path: [L(0x420078), L(0x420020)],
  },
  {
    id: 'M39',
    what: 'Text String declaring 4 GiB - 7 followed by a valid sibling',
    bytes: hx(`
      420078 | 01 | 00000018
        420020 | 07 | fffffff9
        42000d | 02 | 00000004 | 00000001 00000000
    `),
    reason: MSG,
    path: [L(0x420078), L(0x420020)],
  },
  {
    id: 'M40',
    what: 'child with tag 000000, type 07, length 2 GiB right after a Structure header',
    bytes: hx('420078 | 01 | 00000008 | 000000 | 07 | 80000000'),
    reason: MSG,
    path: [L(0x420078), L(0x000000)],
  },
  // Limits (src/ttlv/limits.ts)
  {
    id: 'M41',
    what: '33 nested Structures with maxDepth 32',
    bytes: nested(33),
    reason: MSG,
    limits: { maxDepth: 32 },
  },
  {
    id: 'M42',
    what: '65 nested Structures with the default limits',
    bytes: nested(65),
    reason: MSG,
  },
  {
    id: 'M43',
    what: 'a Structure and 4 children with maxItems 4 (5 items)',
    bytes: wide(4),
    reason: MSG,
    limits: { maxItems: 4 },
  },
  {
    id: 'M44',
    what: '65,537 items (a Structure of 65,536 empty Structures, 512 KiB) with the default limits',
    bytes: wide(65_536),
    reason: MSG,
  },
  {
    id: 'M45',
    what: 'message one byte over maxMessageBytes',
    bytes: hx('420020 | 08 | 00000008 | 01020304 05060708'),
    reason: MSG,
    limits: { maxMessageBytes: 15 },
  },
];

describe('malformed TTLV catalogue', () => {
  it('numbers the cases M01, M02, … without gaps', () => {
    expect(CATALOGUE.map((c) => c.id)).toEqual(
      CATALOGUE.map((_, i) => `M${String(i + 1).padStart(2, '0')}`),
    );
  });

  for (const c of CATALOGUE) {
    it(`${c.id} ${c.what}`, () => {
      const error = decodeError(c.bytes, c.limits);
      expect(error.reason).toBe(c.reason);
      if (c.path) expect(error.path).toEqual(c.path);
    });
  }

  it('M41 fails at the 33rd Structure: its path names all 33', () => {
    expect(decodeError(nested(33), { maxDepth: 32 }).path).toHaveLength(33);
  });

  it('M36 rejects a 4 GiB header without allocating it', () => {
    const bytes = hx('420078 | 01 | ffffffff | 420020 | 08 | ffffffff');
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 100; i++) decodeError(bytes);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * 1024 * 1024);
  });
});

describe('edge cases that are valid', () => {
  const ok = (bytes: Buffer, limits?: Partial<DecodeLimits>) => decodeTtlv(bytes, limits);

  it('a zero-length Structure', () => {
    expect(ok(hx('420020 | 01 | 00000000'))).toEqual({
      tag: 0x420020,
      type: ItemType.Structure,
      value: [],
    });
  });

  it('an empty Text String and an empty Byte String (no value bytes, no padding)', () => {
    const item = ok(
      hx(`
      420078 | 01 | 00000010
        420020 | 07 | 00000000
        420020 | 08 | 00000000
    `),
    );
    expect(item.type).toBe(ItemType.Structure);
    const [str, bytes] = (item.value as TtlvItem[]).map((c) => c.value);
    expect(str).toBe('');
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes).toHaveLength(0);
  });

  it('a Text String of exactly 8 bytes needs no padding', () => {
    expect(ok(text('41424344 45464748')).value).toBe('ABCDEFGH');
  });

  it('Boolean false, and 4-byte UTF-8 (U+1F511)', () => {
    expect(ok(hx('420020 | 06 | 00000008 | 00000000 00000000')).value).toBe(false);
    expect(ok(text('f09f9491')).value).toBe('\u{1F511}');
  });

  it('exactly maxDepth nested Structures, exactly maxItems items, exactly maxMessageBytes', () => {
    expect(() => ok(nested(32), { maxDepth: 32 })).not.toThrow();
    expect(() => ok(wide(3), { maxItems: 4 })).not.toThrow();
    expect(() =>
      ok(hx('420020 | 02 | 00000004 | 00000008 00000000'), { maxMessageBytes: 16 }),
    ).not.toThrow();
  });

  it('extreme values: Integer -2^31, Enumeration 2^32 - 1, Long Integer -2^63', () => {
    expect(ok(hx('420020 | 02 | 00000004 | 80000000 00000000')).value).toBe(-0x80000000);
    expect(ok(hx('420020 | 05 | 00000004 | ffffffff 00000000')).value).toBe(0xffffffff);
    expect(ok(hx('420020 | 03 | 00000008 | 80000000 00000000')).value).toBe(-(2n ** 63n));
  });
});

// Whatever the bytes, decodeTtlv returns an item or throws a KmipError: never a RangeError, a
// TypeError or anything else that would escape the per-message error handling.
describe('only KmipError escapes', () => {
  const seeds = loadSeeds();

  const onlyKmipError = (bytes: Uint8Array, limits?: Partial<DecodeLimits>) => {
    try {
      decodeTtlv(bytes, limits);
    } catch (e) {
      if (!(e instanceof KmipError)) throw e;
    }
  };

  it('for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => onlyKmipError(bytes)),
      { numRuns: 2000 },
    );
  });

  // Found B1 on its own; shrunk counterexample: M40.
  it('for random bytes behind a plausible Structure header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (body) => {
        const header = hx('420078 | 01 | 00000000');
        header.writeUInt32BE(body.length, 4);
        onlyKmipError(Buffer.concat([header, body]));
      }),
      { numRuns: 20_000 },
    );
  });

  // Mutations of real messages (golden vectors and PyKMIP captures): overwrite bytes, overwrite
  // a 32-bit field with any value (hitting length fields), truncate, insert, with tight limits.
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('byte' as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant('u32' as const),
      at: fc.nat(),
      value: fc.nat({ max: 0xffffffff }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

  function mutate(seed: Buffer, mutations: Mutation[]): Buffer {
    let b = Buffer.from(seed);
    for (const m of mutations) {
      if (b.length === 0) break;
      const at = m.at % b.length;
      if (m.kind === 'byte') b[at] = m.value;
      else if (m.kind === 'u32' && b.length >= 4)
        b.writeUInt32BE(m.value, Math.min(at, b.length - 4));
      else if (m.kind === 'truncate') b = b.subarray(0, at);
      else if (m.kind === 'insert')
        b = Buffer.concat([b.subarray(0, at), Buffer.of(m.value), b.subarray(at)]);
    }
    return b;
  }

  it('for mutated valid messages', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.record({
          maxDepth: fc.integer({ min: 1, max: 8 }),
          maxItems: fc.integer({ min: 1, max: 64 }),
        }),
        (i, mutations, limits) => {
          const bytes = mutate(seeds[i]!, mutations);
          onlyKmipError(bytes);
          onlyKmipError(bytes, limits);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

function loadSeeds(): Buffer[] {
  const root = path.resolve(import.meta.dirname, '../../fixtures');
  const files: string[] = [];
  for (const f of readdirSync(path.join(root, 'golden'))) files.push(path.join(root, 'golden', f));
  for (const v of readdirSync(path.join(root, 'pykmip'))) {
    for (const f of readdirSync(path.join(root, 'pykmip', v)))
      files.push(path.join(root, 'pykmip', v, f));
  }
  return files.filter((f) => f.endsWith('.phex')).map((f) => hx(readFileSync(f, 'utf8')));
}
