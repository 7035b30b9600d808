import { describe, expect, it } from 'vitest';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { formatTtlv } from '../../src/ttlv/pretty.js';
import { Tag } from '../../src/ttlv/spec/generated.js';

const S = (tag: number, value: TtlvItem[]): TtlvItem => ({ tag, type: ItemType.Structure, value });
const B = (tag: number, bytes: number): TtlvItem => ({
  tag,
  type: ItemType.ByteString,
  value: Buffer.alloc(bytes, 0xab),
});

describe('formatTtlv', () => {
  it('prints an indented tree with names, types and readable values', () => {
    const tree = S(Tag.RequestMessage, [
      S(Tag.BatchItem, [
        { tag: Tag.Operation, type: ItemType.Enumeration, value: 0x01 },
        { tag: Tag.CryptographicUsageMask, type: ItemType.Integer, value: 0x0c },
        { tag: Tag.ActivationDate, type: ItemType.DateTime, value: 1335514341n },
        { tag: Tag.UniqueIdentifier, type: ItemType.TextString, value: 'a "b"' },
        { tag: Tag.Sensitive, type: ItemType.Boolean, value: false },
        { tag: 0x540001, type: ItemType.LongInteger, value: -2n },
        B(Tag.IVCounterNonce, 3),
      ]),
    ]);
    expect(formatTtlv(tree)).toBe(
      [
        'RequestMessage (Structure)',
        '  BatchItem (Structure)',
        '    Operation (Enumeration) Create',
        '    CryptographicUsageMask (Integer) Encrypt|Decrypt',
        '    ActivationDate (DateTime) 2012-04-27T08:12:21+00:00',
        '    UniqueIdentifier (TextString) "a \\"b\\""',
        '    Sensitive (Boolean) false',
        '    0x540001 (LongInteger) -2',
        '    IVCounterNonce (ByteString) ababab',
      ].join('\n'),
    );
  });

  it('cuts long byte strings and shows their length', () => {
    expect(formatTtlv(B(Tag.Data, 40), { maxBytes: 4 })).toBe(
      'Data (ByteString) abababab… (40 bytes)',
    );
  });

  it('hides key material unless asked', () => {
    const key = S(Tag.KeyBlock, [
      S(Tag.KeyValue, [
        S(Tag.KeyMaterial, [
          { tag: Tag.Modulus, type: ItemType.BigInteger, value: Buffer.alloc(256, 1) },
          B(Tag.Key, 16),
        ]),
      ]),
    ]);
    const hidden = formatTtlv(key);
    expect(hidden).toContain('Modulus (BigInteger) <256 bytes>');
    expect(hidden).toContain('Key (ByteString) <16 bytes>');
    expect(hidden).not.toContain('0101');
    expect(formatTtlv(B(Tag.KeyMaterial, 32))).toBe('KeyMaterial (ByteString) <32 bytes>');
    expect(formatTtlv(B(Tag.KeyValue, 40))).toBe('KeyValue (ByteString) <40 bytes>');
    expect(formatTtlv({ tag: Tag.Password, type: ItemType.TextString, value: 'hunter2' })).toBe(
      'Password (TextString) <7 characters>',
    );
    const shown = formatTtlv(key, { revealKeyMaterial: true, maxBytes: 1024 });
    expect(shown).toContain(`Modulus (BigInteger) 0x${'01'.repeat(256)}`);
    expect(shown).toContain(`Key (ByteString) ${'ab'.repeat(16)}`);
  });
});
