// KMIP JSON encoding, KMIP Profiles 2.1 §5.5.1 (FORMAT.md §8). Expected numbers come from the
// KMIP 2.1 specification tables, written here as literals.

import { describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { jsonTextToTtlv, jsonToTtlv, ttlvToJson } from '../../src/ttlv/json.js';
import { ResultReason, Tag } from '../../src/ttlv/spec/generated.js';

const S = (tag: number, value: TtlvItem[]): TtlvItem => ({ tag, type: ItemType.Structure, value });
const I = (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Integer, value });
const E = (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Enumeration, value });
const T = (tag: number, value: string): TtlvItem => ({ tag, type: ItemType.TextString, value });
const L = (tag: number, value: bigint): TtlvItem => ({ tag, type: ItemType.LongInteger, value });
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

describe('jsonToTtlv', () => {
  it('reads the official example of Profiles §5.5.4 (MSGENC-JSON-M-1)', () => {
    const json = `{"tag":"RequestMessage","value":[
      {"tag":"RequestHeader","value":[
        {"tag":"ProtocolVersion","value":[
          {"tag":"ProtocolVersionMajor","type":"Integer","value":"0x00000001"},
          {"tag":"ProtocolVersionMinor","type":"Integer","value":"0x00000004"}]},
        {"tag":"MaximumResponseSize","type":"Integer","value":"0x00000100"},
        {"tag":"BatchCount","type":"Integer","value":"0x00000001"}]},
      {"tag":"BatchItem","value":[
        {"tag":"Operation","type":"Enumeration","value":"Query"},
        {"tag":"RequestPayload","value":[
          {"tag":"QueryFunction","type":"Enumeration","value":"QueryOperations"},
          {"tag":"QueryFunction","type":"Enumeration","value":"QueryObjects"}]}]}]}`;
    expect(jsonTextToTtlv(json)).toEqual(
      S(Tag.RequestMessage, [
        S(Tag.RequestHeader, [
          S(Tag.ProtocolVersion, [I(Tag.ProtocolVersionMajor, 1), I(Tag.ProtocolVersionMinor, 4)]),
          I(Tag.MaximumResponseSize, 256),
          I(Tag.BatchCount, 1),
        ]),
        S(Tag.BatchItem, [
          E(Tag.Operation, 0x18),
          S(Tag.RequestPayload, [E(Tag.QueryFunction, 1), E(Tag.QueryFunction, 2)]),
        ]),
      ]),
    );
  });

  it('accepts every value form §5.5.1 allows', () => {
    const read = (tag: string, type: string, value: unknown) => jsonToTtlv({ tag, type, value });
    expect(read('CryptographicUsageMask', 'Integer', 'Encrypt|Decrypt')).toEqual(
      I(Tag.CryptographicUsageMask, 0x0c),
    );
    expect(read('CryptographicUsageMask', 'Integer', 'CertificateSign | 0x0000000C')).toEqual(
      I(Tag.CryptographicUsageMask, 0x100c),
    );
    expect(read('BatchCount', 'Integer', -3)).toEqual(I(Tag.BatchCount, -3));
    expect(read('UsageLimitsTotal', 'LongInteger', '0x0020000000000000')).toEqual(
      L(Tag.UsageLimitsTotal, 2n ** 53n),
    );
    expect(read('UsageLimitsTotal', 'LongInteger', 17)).toEqual(L(Tag.UsageLimitsTotal, 17n));
    expect(read('P', 'BigInteger', '0x00000000000000ff').value).toEqual(
      Buffer.from('00000000000000ff', 'hex'),
    );
    expect(read('P', 'BigInteger', -1).value).toEqual(Buffer.from('ffffffffffffffff', 'hex'));
    expect(read('ObjectType', 'Enumeration', 2)).toEqual(E(Tag.ObjectType, 2));
    expect(read('ObjectType', 'Enumeration', '0x00000002')).toEqual(E(Tag.ObjectType, 2));
    expect(read('ObjectType', 'Enumeration', 'SymmetricKey')).toEqual(E(Tag.ObjectType, 2));
    expect(read('Sensitive', 'Boolean', '0x0000000000000001').value).toBe(true);
    expect(read('Sensitive', 'Boolean', false).value).toBe(false);
    expect(read('KeyMaterial', 'ByteString', 'C50F77').value).toEqual(Buffer.from('c50f77', 'hex'));
    expect(read('ActivationDate', 'DateTime', '2001-01-01T10:00:00+10:00')).toEqual(
      D(Tag.ActivationDate, 978307200n),
    );
    expect(read('ActivationDate', 'DateTime', '0x000000003a505520')).toEqual(
      D(Tag.ActivationDate, 978343200n),
    );
    expect(read('LeaseTime', 'Interval', '0x00000E10').value).toBe(3600);
    expect(jsonToTtlv({ tag: '0x420069', value: null })).toEqual(S(Tag.ProtocolVersion, []));
    expect(jsonToTtlv({ tag: 'ProtocolVersion', type: 'Structure', value: [] })).toEqual(
      S(Tag.ProtocolVersion, []),
    );
  });

  it('reads 1.x Attribute Value and 2.x Attribute Reference through their context', () => {
    const attr = jsonToTtlv({
      tag: 'Attribute',
      value: [
        { tag: 'AttributeName', type: 'TextString', value: 'Cryptographic Usage Mask' },
        { tag: 'AttributeValue', type: 'Integer', value: 'Sign|Verify' },
      ],
    });
    expect(attr.value).toContainEqual(I(Tag.AttributeValue, 3));
    expect(jsonToTtlv({ tag: 'AttributeReference', type: 'Enumeration', value: 'State' })).toEqual(
      E(Tag.AttributeReference, 0x42008d),
    );
  });
});

describe('ttlvToJson: canonical output', () => {
  it('writes names, numbers, masks with |, and omits type on structures', () => {
    const item = S(Tag.RequestPayload, [
      I(Tag.CryptographicUsageMask, 0x0c),
      I(Tag.CryptographicLength, 256),
      E(Tag.ObjectType, 2),
      E(Tag.ObjectType, 0x80000001),
      L(Tag.UsageLimitsTotal, 2n ** 52n - 1n),
      L(Tag.UsageLimitsTotal, 2n ** 52n),
      L(Tag.UsageLimitsTotal, -(2n ** 52n)),
      D(Tag.ActivationDate, 0n),
      { tag: Tag.P, type: ItemType.BigInteger, value: Buffer.from('00000000000000ff', 'hex') },
      T(0x540001, 'v'),
    ]);
    expect(ttlvToJson(item)).toEqual({
      tag: 'RequestPayload',
      value: [
        { tag: 'CryptographicUsageMask', type: 'Integer', value: 'Encrypt|Decrypt' },
        { tag: 'CryptographicLength', type: 'Integer', value: 256 },
        { tag: 'ObjectType', type: 'Enumeration', value: 'SymmetricKey' },
        { tag: 'ObjectType', type: 'Enumeration', value: '0x80000001' },
        { tag: 'UsageLimitsTotal', type: 'LongInteger', value: 4503599627370495 },
        { tag: 'UsageLimitsTotal', type: 'LongInteger', value: '0x0010000000000000' },
        { tag: 'UsageLimitsTotal', type: 'LongInteger', value: '0xfff0000000000000' },
        { tag: 'ActivationDate', type: 'DateTime', value: '1970-01-01T00:00:00+00:00' },
        { tag: 'P', type: 'BigInteger', value: '0x00000000000000ff' },
        { tag: '0x540001', type: 'TextString', value: 'v' },
      ],
    });
  });

  it('is lossless against binary for awkward values', () => {
    const tree = S(Tag.RequestMessage, [
      D(Tag.ActivationDate, -(2n ** 63n)),
      { tag: Tag.ActivationDate, type: ItemType.DateTimeExtended, value: 2n ** 63n - 1n },
      {
        tag: Tag.P,
        type: ItemType.BigInteger,
        value: Buffer.from('0000000000000000'.repeat(3), 'hex'),
      },
      S(Tag.Attribute, [T(Tag.AttributeName, 'x-Foo'), I(Tag.AttributeValue, -7)]),
      E(Tag.AttributeReference, 0x540123),
      T(Tag.Comment, '\u0000"\\ 😀'),
    ]);
    const bytes = encodeTtlv(tree);
    const text = JSON.stringify(ttlvToJson(decodeTtlv(bytes)));
    expect(encodeTtlv(jsonTextToTtlv(text))).toEqual(bytes);
  });
});

describe('errors carry the reason and the tag path', () => {
  const cases: [string, unknown, number, string[]][] = [
    ['not an object', [1, 2], ResultReason.InvalidMessage, []],
    ['no tag', { type: 'Integer', value: 1 }, ResultReason.InvalidMessage, ['?']],
    ['unknown tag', { tag: 'Bogus', value: [] }, ResultReason.InvalidMessage, ['Bogus']],
    [
      'unknown type',
      { tag: 'BatchCount', type: 'Float', value: 1 },
      ResultReason.InvalidField,
      ['BatchCount'],
    ],
    [
      'structure value not array',
      { tag: 'BatchItem', value: 3 },
      ResultReason.InvalidMessage,
      ['BatchItem'],
    ],
    [
      'unsafe number',
      { tag: 'UsageLimitsTotal', type: 'LongInteger', value: 2 ** 60 },
      ResultReason.InvalidMessage,
      ['UsageLimitsTotal'],
    ],
    [
      'fraction',
      { tag: 'BatchCount', type: 'Integer', value: 1.5 },
      ResultReason.InvalidMessage,
      ['BatchCount'],
    ],
    [
      'text not string',
      { tag: 'Comment', type: 'TextString', value: 5 },
      ResultReason.InvalidMessage,
      ['Comment'],
    ],
    [
      'missing value',
      { tag: 'BatchCount', type: 'Integer' },
      ResultReason.InvalidMessage,
      ['BatchCount'],
    ],
    [
      'indexed path',
      {
        tag: 'RequestMessage',
        value: [
          { tag: 'BatchItem', value: [] },
          { tag: 'BatchItem', value: [{ tag: 'Operation', type: 'Enumeration', value: 'Nope' }] },
        ],
      },
      ResultReason.InvalidField,
      ['RequestMessage', 'BatchItem[1]', 'Operation'],
    ],
  ];
  it.each(cases)('%s', (_, value, reason, path) => {
    const err = errorOf(() => jsonToTtlv(value));
    expect(err.reason).toBe(reason);
    expect(err.path).toEqual(path);
  });

  it('reports malformed JSON text as InvalidMessage', () => {
    expect(errorOf(() => jsonTextToTtlv('{"tag":')).reason).toBe(ResultReason.InvalidMessage);
  });
});
