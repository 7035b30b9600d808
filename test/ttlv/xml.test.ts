// KMIP XML encoding, KMIP Profiles 2.1 §5.4.1. Expected numbers come from the KMIP 2.1
// specification tables (§11 enumerations, §11.56 tags, §12 masks), written here as literals.

import { describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { ResultReason, Tag } from '../../src/ttlv/spec/generated.js';
import { conformanceXmlText, ttlvToXml, xmlToTtlv, xmlToTtlvItems } from '../../src/ttlv/xml.js';

const S = (tag: number, value: TtlvItem[]): TtlvItem => ({ tag, type: ItemType.Structure, value });
const I = (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Integer, value });
const E = (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Enumeration, value });
const T = (tag: number, value: string): TtlvItem => ({ tag, type: ItemType.TextString, value });
const B = (tag: number, hex: string): TtlvItem => ({
  tag,
  type: ItemType.ByteString,
  value: Buffer.from(hex, 'hex'),
});
const D = (tag: number, value: bigint): TtlvItem => ({ tag, type: ItemType.DateTime, value });

function errorOf(f: () => unknown): KmipError {
  try {
    f();
  } catch (err) {
    if (err instanceof KmipError) return err;
    throw err;
  }
  throw new Error('expected a KmipError');
}

const roundTrip = (item: TtlvItem) => encodeTtlv(xmlToTtlv(ttlvToXml(item)));

describe('ttlvToXml (Profiles §5.4.1.6)', () => {
  it('writes one element per item, type and value attributes, no type on structures', () => {
    const msg = S(Tag.RequestMessage, [
      S(Tag.RequestHeader, [
        S(Tag.ProtocolVersion, [I(Tag.ProtocolVersionMajor, 1), I(Tag.ProtocolVersionMinor, 4)]),
        I(Tag.BatchCount, 1),
      ]),
      S(Tag.BatchItem, [E(Tag.Operation, 0x01), S(Tag.RequestPayload, [])]),
    ]);
    expect(ttlvToXml(msg)).toBe(
      [
        '<RequestMessage>',
        '  <RequestHeader>',
        '    <ProtocolVersion>',
        '      <ProtocolVersionMajor type="Integer" value="1"/>',
        '      <ProtocolVersionMinor type="Integer" value="4"/>',
        '    </ProtocolVersion>',
        '    <BatchCount type="Integer" value="1"/>',
        '  </RequestHeader>',
        '  <BatchItem>',
        '    <Operation type="Enumeration" value="Create"/>',
        '    <RequestPayload/>',
        '  </BatchItem>',
        '</RequestMessage>',
        '',
      ].join('\n'),
    );
    expect(ttlvToXml(S(Tag.RequestPayload, [I(Tag.BatchCount, 1)]), { indent: '' })).toBe(
      '<RequestPayload><BatchCount type="Integer" value="1"/></RequestPayload>',
    );
  });

  it('names masks (§5.4.1.5) and adds hex for unnamed bits', () => {
    expect(ttlvToXml(I(Tag.CryptographicUsageMask, 0x0c))).toBe(
      '<CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>\n',
    );
    expect(ttlvToXml(I(Tag.CryptographicUsageMask, 0x1000 | 0x40000000))).toBe(
      '<CryptographicUsageMask type="Integer" value="CertificateSign 0x40000000"/>\n',
    );
    expect(ttlvToXml(I(Tag.CryptographicUsageMask, 0))).toContain('value="0"');
  });

  it('writes unknown enumeration values and unknown tags in hex (§5.4.1.2, §5.4.1.3)', () => {
    expect(ttlvToXml(E(Tag.OpaqueDataType, 0x80000001))).toContain('value="0x80000001"');
    expect(ttlvToXml(T(0x540001, 'x'))).toBe(
      '<TTLV tag="0x540001" type="TextString" value="x"/>\n',
    );
    expect(ttlvToXml(S(0x540002, [I(0x540003, 7)]), { indent: '' })).toBe(
      '<TTLV tag="0x540002"><TTLV tag="0x540003" type="Integer" value="7"/></TTLV>',
    );
  });

  it('types KMIP 1.x Attribute Value by the sibling Attribute Name', () => {
    const attr = S(Tag.Attribute, [
      T(Tag.AttributeName, 'Cryptographic Algorithm'),
      E(Tag.AttributeValue, 0x04),
    ]);
    expect(ttlvToXml(attr)).toContain('<AttributeValue type="Enumeration" value="RSA"/>');
    const mask = S(Tag.Attribute, [
      T(Tag.AttributeName, 'Cryptographic Usage Mask'),
      I(Tag.AttributeValue, 0x01),
    ]);
    expect(ttlvToXml(mask)).toContain('<AttributeValue type="Integer" value="Sign"/>');
    const custom = S(Tag.Attribute, [T(Tag.AttributeName, 'x-ID'), E(Tag.AttributeValue, 4)]);
    expect(ttlvToXml(custom)).toContain('value="0x00000004"');
  });

  it('writes a KMIP 2.x Attribute Reference enumeration as a tag name', () => {
    expect(ttlvToXml(E(Tag.AttributeReference, 0x42008d))).toContain('value="State"');
    expect(ttlvToXml(E(Tag.AttributeReference, 0x54aaaa))).toContain('value="0x0054aaaa"');
  });

  it('writes dates in UTC, or hex outside the years ISO 8601 can show', () => {
    expect(ttlvToXml(D(Tag.ActivationDate, 1335514341n))).toContain(
      'value="2012-04-27T08:12:21+00:00"',
    );
    expect(ttlvToXml(D(Tag.ActivationDate, -1n))).toContain('value="1969-12-31T23:59:59+00:00"');
    expect(ttlvToXml(D(Tag.ActivationDate, 253402300800n))).toContain('value="0x0000003afff44180"');
    expect(ttlvToXml(D(Tag.ActivationDate, -62135596801n))).toContain('value="0xfffffff1886e08ff"');
  });

  it('escapes text so that any Text String survives, and a leading $ is not a placeholder', () => {
    const text = '$A <b> & "c"\t\n\r\u0000\u0007 é ∑ 😀';
    const xml = ttlvToXml(T(Tag.Comment, text));
    expect(xml).toContain('value="&#36;A &lt;b&gt; &amp; &quot;c&quot;&#9;&#10;&#13;&#0;&#7;');
    expect(xmlToTtlv(xml)).toEqual(T(Tag.Comment, text));
  });
});

describe('xmlToTtlv', () => {
  it('reads the corpus forms of every type', () => {
    const xml = `<?xml version="1.0"?>
      <!-- comment -->
      <RequestPayload xmlns="urn:oasis:tc:kmip:xmlns">
        <UniqueIdentifier type="TextString" value="a&amp;b"/>
        <CryptographicUsageMask type="Integer" value="Decrypt   Encrypt"/>
        <CryptographicLength type="Integer" value="0x00000100"/>
        <UsageLimitsTotal type="LongInteger" value="16"/>
        <P type="BigInteger" value="0000000000000000FCA682CE00000001"/>
        <ObjectType type="Enumeration" value="SymmetricKey"/>
        <Sensitive type="Boolean" value="true"/>
        <KeyMaterial type="ByteString" value="C50F77"/>
        <ActivationDate type="DateTime" value="2001-01-01T10:00:00.75+10:00"/>
        <LeaseTime type="Interval" value="3600"/>
        <ActivationDate type="DateTimeExtended" value="1234567"/>
        <ProtocolVersion></ProtocolVersion>
      </RequestPayload>`;
    expect(xmlToTtlv(xml)).toEqual(
      S(Tag.RequestPayload, [
        T(Tag.UniqueIdentifier, 'a&b'),
        I(Tag.CryptographicUsageMask, 0x0c),
        I(Tag.CryptographicLength, 256),
        { tag: Tag.UsageLimitsTotal, type: ItemType.LongInteger, value: 16n },
        {
          tag: Tag.P,
          type: ItemType.BigInteger,
          value: Buffer.from('0000000000000000fca682ce00000001', 'hex'),
        },
        E(Tag.ObjectType, 0x02),
        { tag: Tag.Sensitive, type: ItemType.Boolean, value: true },
        B(Tag.KeyMaterial, 'c50f77'),
        D(Tag.ActivationDate, 978307200n),
        { tag: Tag.LeaseTime, type: ItemType.Interval, value: 3600 },
        { tag: Tag.ActivationDate, type: ItemType.DateTimeExtended, value: 1234567n },
        S(Tag.ProtocolVersion, []),
      ]),
    );
  });

  it('ORs mask names and hex in any order (§5.4.1.5)', () => {
    const read = (v: string) => xmlToTtlv(`<CryptographicUsageMask type="Integer" value="${v}"/>`);
    expect(read('CertificateSign 0x0000000c')).toEqual(I(Tag.CryptographicUsageMask, 0x100c));
    expect(read(' Encrypt\tDecrypt ')).toEqual(I(Tag.CryptographicUsageMask, 0x0c));
    expect(read('0xffffffff')).toEqual(I(Tag.CryptographicUsageMask, -1));
    expect(read('-5')).toEqual(I(Tag.CryptographicUsageMask, -5));
  });

  it('reads the generic TTLV form and hex element names (§5.4.1.3)', () => {
    expect(
      xmlToTtlv(
        '<TTLV tag="0x420001" name="ActivationDate" type="DateTime" value="1970-01-01T00:00:06Z"/>',
      ),
    ).toEqual(D(Tag.ActivationDate, 6n));
    expect(xmlToTtlv('<TTLV tag="ObjectType" type="Enumeration" value="0x00000002"/>')).toEqual(
      E(Tag.ObjectType, 2),
    );
    expect(xmlToTtlv('<x540001 type="Integer" value="1"/>')).toEqual(I(0x540001, 1));
    expect(xmlToTtlv('<X540001 type="Integer" value="1"/>')).toEqual(I(0x540001, 1));
    expect(xmlToTtlv('<0x540001><0x42000D type="Integer" value="1"/></0x540001>')).toEqual(
      S(0x540001, [I(Tag.BatchCount, 1)]),
    );
  });

  it('reads 1.x Attribute Value and 2.x Attribute Reference through their context', () => {
    const attr = xmlToTtlv(`<Attribute>
        <AttributeName type="TextString" value="Cryptographic Algorithm"/>
        <AttributeValue type="Enumeration" value="RSA"/>
      </Attribute>`);
    expect(attr).toEqual(
      S(Tag.Attribute, [T(Tag.AttributeName, 'Cryptographic Algorithm'), E(Tag.AttributeValue, 4)]),
    );
    const mask = xmlToTtlv(`<Attribute><AttributeValue type="Integer" value="Verify Sign"/>
        <AttributeName type="TextString" value="Cryptographic Usage Mask"/></Attribute>`);
    expect(mask.value).toContainEqual(I(Tag.AttributeValue, 3));
    expect(xmlToTtlv('<AttributeReference type="Enumeration" value="State"/>')).toEqual(
      E(Tag.AttributeReference, 0x42008d),
    );
  });

  it('reads several messages under a <KMIP> root', () => {
    const items = xmlToTtlvItems('<KMIP><RequestMessage/><!-- x --><ResponseMessage/></KMIP>');
    expect(items).toEqual([S(Tag.RequestMessage, []), S(Tag.ResponseMessage, [])]);
    expect(xmlToTtlvItems('<RequestMessage/>')).toEqual([S(Tag.RequestMessage, [])]);
  });

  it('pre-processes conformance files: # annotations and trailing garbage (FORMAT.md §2)', () => {
    const text = '<KMIP>\n  # [[DeriveKey using SHA_256]]\n<RequestMessage/>\n</KMIP>\n</KMIP>\n';
    expect(xmlToTtlvItems(conformanceXmlText(text))).toEqual([S(Tag.RequestMessage, [])]);
    expect(() => xmlToTtlvItems(text)).toThrow(KmipError);
  });
});

describe('placeholders (Profiles §4)', () => {
  const xml = `<ResponseHeader>
      <TimeStamp type="DateTime" value="$NOW-3600"/>
      <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>
    </ResponseHeader>`;

  it('are refused without a resolver', () => {
    const err = errorOf(() => xmlToTtlv(xml));
    expect(err.reason).toBe(ResultReason.InvalidMessage);
    expect(err.message).toContain('$NOW-3600');
    expect(err.path).toEqual(['ResponseHeader', 'TimeStamp']);
  });

  it('are resolved by the caller with name, type and path', () => {
    const calls: unknown[] = [];
    const item = xmlToTtlv(xml, {
      placeholders: (text, type, path) => {
        calls.push([text, type, path]);
        return type === ItemType.DateTime ? 42n : 'uid-1';
      },
    });
    expect(item).toEqual(
      S(Tag.ResponseHeader, [D(Tag.TimeStamp, 42n), T(Tag.UniqueIdentifier, 'uid-1')]),
    );
    expect(calls).toEqual([
      ['$NOW-3600', ItemType.DateTime, ['ResponseHeader', 'TimeStamp']],
      ['$UNIQUE_IDENTIFIER_0', ItemType.TextString, ['ResponseHeader', 'UniqueIdentifier']],
    ]);
  });

  it('must resolve to a value of the item type', () => {
    expect(() => xmlToTtlv(xml, { placeholders: () => 'text' })).toThrow(/no DateTime/);
  });
});

describe('errors carry the reason and the tag path', () => {
  const cases: [string, string, number, string[]][] = [
    ['unclosed element', '<RequestMessage><BatchItem>', ResultReason.InvalidMessage, []],
    ['mismatched close', '<RequestMessage></BatchItem>', ResultReason.InvalidMessage, []],
    ['text content', '<RequestMessage>hello</RequestMessage>', ResultReason.InvalidMessage, []],
    ['DTD', '<!DOCTYPE x [<!ENTITY a "b">]><RequestMessage/>', ResultReason.InvalidMessage, []],
    [
      'unknown entity',
      '<Comment type="TextString" value="&foo;"/>',
      ResultReason.InvalidMessage,
      [],
    ],
    [
      'duplicate attribute',
      '<Comment type="TextString" type="x" value=""/>',
      ResultReason.InvalidMessage,
      [],
    ],
    ['content after root', '<RequestMessage/><RequestMessage/>', ResultReason.InvalidMessage, []],
    [
      'unknown type',
      '<RequestMessage><BatchItem/><BatchItem><Operation type="Identifier" value="x"/></BatchItem></RequestMessage>',
      ResultReason.InvalidField,
      ['RequestMessage', 'BatchItem[1]', 'Operation'],
    ],
    [
      'unknown enumeration name',
      '<BatchItem><Operation type="Enumeration" value="Frobnicate"/></BatchItem>',
      ResultReason.InvalidField,
      ['BatchItem', 'Operation'],
    ],
    [
      'unknown tag name',
      '<RequestMessage><Bogus/></RequestMessage>',
      ResultReason.InvalidMessage,
      ['RequestMessage', 'Bogus'],
    ],
    [
      'Integer out of range',
      '<BatchCount type="Integer" value="2147483648"/>',
      ResultReason.InvalidField,
      ['BatchCount'],
    ],
    [
      'Interval negative',
      '<LeaseTime type="Interval" value="-1"/>',
      ResultReason.InvalidField,
      ['LeaseTime'],
    ],
    [
      'odd hex',
      '<KeyMaterial type="ByteString" value="abc"/>',
      ResultReason.InvalidField,
      ['KeyMaterial'],
    ],
    [
      'bad Boolean',
      '<Sensitive type="Boolean" value="yes"/>',
      ResultReason.InvalidField,
      ['Sensitive'],
    ],
    [
      'bad date',
      '<ActivationDate type="DateTime" value="2001-02-30T00:00:00Z"/>',
      ResultReason.InvalidField,
      ['ActivationDate'],
    ],
    [
      'value on structure',
      '<RequestMessage value="1"/>',
      ResultReason.InvalidMessage,
      ['RequestMessage'],
    ],
    ['missing value', '<BatchCount type="Integer"/>', ResultReason.InvalidMessage, ['BatchCount']],
    [
      'children under primitive',
      '<BatchCount type="Integer" value="1"><BatchCount type="Integer" value="1"/></BatchCount>',
      ResultReason.InvalidMessage,
      ['BatchCount'],
    ],
    ['TTLV without tag', '<TTLV type="Integer" value="1"/>', ResultReason.InvalidMessage, ['TTLV']],
  ];
  it.each(cases)('%s', (_, xml, reason, path) => {
    const err = errorOf(() => xmlToTtlv(xml));
    expect(err.reason).toBe(reason);
    expect(err.path).toEqual(path);
    expect(err.message).toMatch(/\(line \d+\)/);
  });

  it('refuses nesting beyond the depth limit', () => {
    const deep = '<RequestMessage>'.repeat(40) + '</RequestMessage>'.repeat(40);
    expect(errorOf(() => xmlToTtlv(deep)).message).toMatch(/deeper/);
    expect(xmlToTtlv(deep, { limits: { maxDepth: 64 } }).type).toBe(ItemType.Structure);
  });
});

describe('lossless against binary TTLV', () => {
  it('keeps vendor values, sign-extension bytes, extreme dates and unknown tags', () => {
    const tree = S(Tag.RequestMessage, [
      E(Tag.ObjectType, 0x80123456),
      {
        tag: Tag.P,
        type: ItemType.BigInteger,
        value: Buffer.from('ffffffffffffffff8000000000000000', 'hex'),
      },
      D(Tag.ActivationDate, -(2n ** 63n)),
      D(Tag.ActivationDate, 2n ** 63n - 1n),
      { tag: Tag.UsageLimitsTotal, type: ItemType.LongInteger, value: -(2n ** 63n) },
      S(0x54ffff, [B(0x540000, ''), T(0x540001, '')]),
      I(Tag.CryptographicUsageMask, -1),
      S(Tag.Attribute, [T(Tag.AttributeName, 'State'), E(Tag.AttributeValue, 0x7fffffff)]),
    ]);
    const bytes = encodeTtlv(tree);
    expect(roundTrip(decodeTtlv(bytes))).toEqual(bytes);
  });
});
