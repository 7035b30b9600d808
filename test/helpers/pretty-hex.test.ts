import { describe, expect, it } from 'vitest';
import { parsePrettyHex, toPrettyHex } from './pretty-hex.js';

describe('parsePrettyHex', () => {
  it('concatenates header and value fields, ignoring bars, spaces and indentation', () => {
    const text = [
      '420020 | 01 | 00000020',
      '  420004 | 05 | 00000004 | 000000fe 00000000',
      '    420005 | 02 | 00000004 | 000000FF 00000000',
    ].join('\n');
    expect(parsePrettyHex(text).toString('hex')).toBe(
      '42002001000000204200040500000004000000fe000000004200050200000004000000ff00000000',
    );
  });

  it('accepts the spec notation with spaces between bytes', () => {
    expect(parsePrettyHex('42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00')).toEqual(
      Buffer.from([0x42, 0x00, 0x20, 0x02, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 0]),
    );
  });

  it('drops comment lines, trailing comments, blank lines and CRLF', () => {
    const text =
      '# source: test\r\n\r\n420020 | 06 # a Boolean\r\n| 00000008 | 00000000 00000001\r\n';
    expect(parsePrettyHex(text).toString('hex')).toBe('42002006000000080000000000000001');
  });

  it('returns an empty buffer for a text with only comments', () => {
    expect(parsePrettyHex('# nothing\n\n   # here\n')).toHaveLength(0);
  });

  it('rejects a non-hex character, naming the line', () => {
    expect(() => parsePrettyHex('# ok\n420020 | 0g | 00000000')).toThrow(/line 2: not hex/);
  });

  it('rejects a line with an odd number of digits', () => {
    expect(() => parsePrettyHex('420020 | 1 | 00000000')).toThrow(/line 1: odd number/);
  });
});

describe('toPrettyHex', () => {
  // KMIP 1.4 §9.1.2: the Structure example, written in the spec's own byte order.
  const structure = Buffer.from(
    '42002001000000204200040500000004000000fe000000004200050200000004000000ff00000000',
    'hex',
  );

  it('writes one item per line, indented by depth, with the header comments first', () => {
    expect(toPrettyHex(structure, ['source: KMIP 1.4 §9.1.2'])).toBe(
      [
        '# source: KMIP 1.4 §9.1.2',
        '420020 | 01 | 00000020',
        '  420004 | 05 | 00000004 | 000000fe 00000000',
        '  420005 | 02 | 00000004 | 000000ff 00000000',
        '',
      ].join('\n'),
    );
  });

  it('writes a zero-length primitive without a value field', () => {
    expect(toPrettyHex(Buffer.from('4200200700000000', 'hex'))).toBe('420020 | 07 | 00000000\n');
  });

  it('round-trips through parsePrettyHex', () => {
    expect(parsePrettyHex(toPrettyHex(structure))).toEqual(structure);
  });

  it('keeps bytes that are not TTLV as plain hex, so a malformed capture survives', () => {
    const bytes = Buffer.concat([structure, Buffer.from('010203', 'hex')]);
    const text = toPrettyHex(bytes);
    expect(text).toContain('# unparsed');
    expect(parsePrettyHex(text)).toEqual(bytes);
  });

  it('keeps the unparsed tail of a structure whose children do not fit it', () => {
    // A Structure of 12 bytes holding an 8-byte header and 4 stray bytes.
    const bytes = Buffer.from('420020010000000c420004010000000011223344', 'hex');
    const text = toPrettyHex(bytes);
    expect(text).toContain('# unparsed');
    expect(parsePrettyHex(text)).toEqual(bytes);
  });
});
