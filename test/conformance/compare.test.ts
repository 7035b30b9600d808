// The comparator: structural equality with only the variations KMIP Profiles 2.1 §4.1.1 and
// §4.1.2 permit (FORMAT.md §6). A real difference must fail, with its tag path and both values.

import { describe, expect, it } from 'vitest';
import { batchContextOf, Comparator, type Mismatch } from '../../src/conformance/compare.js';
import { childOf, childrenOf, parseCase } from '../../src/conformance/loader.js';
import { CaseState } from '../../src/conformance/placeholders.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { Operation, Tag } from '../../src/ttlv/spec/generated.js';
import { xmlToTtlv } from '../../src/ttlv/xml.js';

const PV = (minor: number) =>
  `<ProtocolVersion><ProtocolVersionMajor type="Integer" value="${minor === 1 ? 2 : 1}"/><ProtocolVersionMinor type="Integer" value="${minor}"/></ProtocolVersion>`;

function req(op: string, payload = '', minor = 1): string {
  return `<RequestMessage><RequestHeader>${PV(minor)}<BatchCount type="Integer" value="1"/></RequestHeader><BatchItem><Operation type="Enumeration" value="${op}"/><RequestPayload>${payload}</RequestPayload></BatchItem></RequestMessage>`;
}

function res(
  op: string,
  body: string,
  opts: { time?: string; minor?: number; extra?: string } = {},
): string {
  return `<ResponseMessage><ResponseHeader>${PV(opts.minor ?? 1)}<TimeStamp type="DateTime" value="${opts.time ?? '$NOW'}"/>${opts.extra ?? ''}<BatchCount type="Integer" value="1"/></ResponseHeader><BatchItem><Operation type="Enumeration" value="${op}"/>${body}</BatchItem></ResponseMessage>`;
}

const ok = (payload: string) =>
  `<ResultStatus type="Enumeration" value="Success"/><ResponsePayload>${payload}</ResponsePayload>`;

/** Runs the pairs of a small case: `actual[i]` is the server's answer to pair i. */
function run(pairs: [string, string][], actual: string[], state = new CaseState()): Mismatch[][] {
  const tc = parseCase('T-M-1-21.xml', `<KMIP>${pairs.map(([q, r]) => q + r).join('')}</KMIP>`);
  return tc.steps.map((step, i) => {
    const request = state.materialise(step.request, 1_700_000_000n);
    const item = childrenOf(request, Tag.BatchItem)[0]!;
    const op = childOf(item, Tag.Operation)!.value as number;
    const ctx = batchContextOf(op, childOf(item, Tag.RequestPayload), false);
    const c = new Comparator(state, step.response.marks);
    const m = c.compareMessage(step.response.item, actualOf(actual[i]!), [ctx]);
    if (m.length === 0) c.commit();
    return m;
  });
}

/** The server's answer; its `$NOW` Time Stamp becomes a fixed date. */
function actualOf(xml: string): TtlvItem {
  return xmlToTtlv(xml, { placeholders: () => 1_700_000_000n });
}

const uid = (v: string) => `<UniqueIdentifier type="TextString" value="${v}"/>`;

describe('placeholders in responses', () => {
  it('binds $UNIQUE_IDENTIFIER_n at first sight and substitutes it into later requests', () => {
    const state = new CaseState();
    const result = run(
      [
        [req('Create'), res('Create', ok(uid('$UNIQUE_IDENTIFIER_0')))],
        [
          req('Destroy', uid('$UNIQUE_IDENTIFIER_0')),
          res('Destroy', ok(uid('$UNIQUE_IDENTIFIER_0'))),
        ],
      ],
      [
        res('Create', ok(uid('abc-1')), { time: '2030-01-01T00:00:00+00:00' }),
        res('Destroy', ok(uid('abc-1')), { time: '2030-01-01T00:00:00+00:00' }),
      ],
      state,
    );
    expect(result).toEqual([[], []]);
    expect(state.bindings.get('$UNIQUE_IDENTIFIER_0')).toEqual({
      type: ItemType.TextString,
      value: 'abc-1',
    });
  });

  it('fails when a bound identifier comes back different, naming path, placeholder and values', () => {
    const [, second] = run(
      [
        [req('Create'), res('Create', ok(uid('$UNIQUE_IDENTIFIER_0')))],
        [req('Locate'), res('Locate', ok(uid('$UNIQUE_IDENTIFIER_0')))],
      ],
      [res('Create', ok(uid('abc-1'))), res('Locate', ok(uid('zzz-9')))],
    );
    expect(second).toEqual([
      {
        path: 'ResponseMessage › BatchItem › ResponsePayload › UniqueIdentifier',
        message: '$UNIQUE_IDENTIFIER_0 was bound to another value',
        expected:
          'UniqueIdentifier $UNIQUE_IDENTIFIER_0 (bound to UniqueIdentifier (TextString) "abc-1")',
        actual: 'UniqueIdentifier (TextString) "zzz-9"',
      },
    ]);
  });

  it('requires an echoed client date to be the value sent, but accepts any server date', () => {
    const set = `<Attributes><ActivationDate type="DateTime" value="$NOW-3600"/></Attributes>`;
    const pairs: [string, string][] = [
      [req('Register', set), res('Register', ok(uid('$UNIQUE_IDENTIFIER_0')))],
      [
        req('GetAttributes', uid('$UNIQUE_IDENTIFIER_0')),
        res(
          'GetAttributes',
          ok(
            `${uid('$UNIQUE_IDENTIFIER_0')}<Attributes><ActivationDate type="DateTime" value="$NOW-3600"/><InitialDate type="DateTime" value="$NOW"/></Attributes>`,
          ),
        ),
      ],
    ];
    const answer = (activation: string) => [
      res('Register', ok(uid('u1'))),
      res(
        'GetAttributes',
        ok(
          `${uid('u1')}<Attributes><InitialDate type="DateTime" value="2001-01-01T00:00:00+00:00"/><ActivationDate type="DateTime" value="${activation}"/></Attributes>`,
        ),
      ),
    ];
    // 1_700_000_000 - 3600 = 2023-11-14T21:13:20Z
    expect(run(pairs, answer('2023-11-14T21:13:20+00:00'))).toEqual([[], []]);
    const [, bad] = run(pairs, answer('2023-11-14T21:13:21+00:00'));
    expect(bad?.[0]?.message).toBe('expected the $NOW-3600 value the request sent');
    expect(bad?.[0]?.path).toBe(
      'ResponseMessage › BatchItem › ResponsePayload › Attributes › ActivationDate',
    );
  });

  it('accepts any Server Correlation Value, Time Stamp and Result Message (§4.1.1)', () => {
    const [m] = run(
      [
        [
          req('Destroy', uid('x')),
          res(
            'Destroy',
            `<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="ItemNotFound"/><ResultMessage type="TextString" value="vendor text"/>`,
            {
              extra:
                '<ServerCorrelationValue type="TextString" value="$SERVER_CORRELATION_VALUE"/>',
            },
          ),
        ],
      ],
      [
        res(
          'Destroy',
          `<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="ItemNotFound"/>`,
          { time: '1999-12-31T23:59:59+00:00' },
        ),
      ],
    );
    expect(m).toEqual([]);
  });
});

describe('real differences fail', () => {
  it('a different Result Reason, with the server status in the message', () => {
    const failed = (reason: string) =>
      `<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="${reason}"/>`;
    const [m] = run(
      [[req('Get', uid('AAABBBCCC')), res('Get', failed('ObjectNotFound'))]],
      [
        res(
          'Get',
          `${failed('ItemNotFound')}<ResultMessage type="TextString" value="no such object"/>`,
        ),
      ],
    );
    expect(m).toEqual([
      {
        path: 'ResponseMessage › BatchItem › ResultReason',
        message: 'values differ (server: OperationFailed ItemNotFound "no such object")',
        expected: 'ResultReason (Enumeration) ObjectNotFound',
        actual: 'ResultReason (Enumeration) ItemNotFound',
      },
    ]);
  });

  it('a missing payload item, a wrong type, an extra item', () => {
    const q: [string, string][] = [
      [
        req('Get', uid('u')),
        res('Get', ok(`${uid('u')}<ObjectType type="Enumeration" value="SymmetricKey"/>`)),
      ],
    ];
    expect(run(q, [res('Get', ok(uid('u')))])[0]![0]).toMatchObject({
      path: 'ResponseMessage › BatchItem › ResponsePayload',
      message: 'missing ObjectType',
      expected: 'ObjectType (Enumeration) SymmetricKey',
    });
    expect(
      run(q, [res('Get', ok(`${uid('u')}<ObjectType type="Integer" value="2"/>`))])[0]![0]?.message,
    ).toBe('item types differ');
    expect(
      run(q, [
        res(
          'Get',
          ok(
            `${uid('u')}<ObjectType type="Enumeration" value="SymmetricKey"/><ObjectType type="Enumeration" value="SymmetricKey"/>`,
          ),
        ),
      ])[0]![0]?.message,
    ).toBe('unexpected ObjectType');
  });

  it('key material of a key the test registered must match byte for byte', () => {
    const key = (hex: string) =>
      `<SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/><KeyValue><KeyMaterial type="ByteString" value="${hex}"/></KeyValue></KeyBlock></SymmetricKey>`;
    const pairs: [string, string][] = [
      [
        req('Get', `${uid('u')}<KeyFormatType type="Enumeration" value="Raw"/>`),
        res('Get', ok(`${uid('u')}${key('00112233')}`)),
      ],
    ];
    expect(run(pairs, [res('Get', ok(`${uid('u')}${key('00112233')}`))])).toEqual([[]]);
    expect(run(pairs, [res('Get', ok(`${uid('u')}${key('00112234')}`))])[0]![0]).toMatchObject({
      path: 'ResponseMessage › BatchItem › ResponsePayload › SymmetricKey › KeyBlock › KeyValue › KeyMaterial',
      expected: 'KeyMaterial (ByteString) 00112233',
      actual: 'KeyMaterial (ByteString) 00112234',
    });
  });

  it('masks compare as numbers whatever the spelling', () => {
    const mask = (v: string) =>
      `<Attributes><CryptographicUsageMask type="Integer" value="${v}"/></Attributes>`;
    const pairs: [string, string][] = [
      [
        req('GetAttributes', uid('u')),
        res('GetAttributes', ok(uid('u') + mask('Decrypt Encrypt'))),
      ],
    ];
    expect(run(pairs, [res('GetAttributes', ok(uid('u') + mask('0x0000000c')))])).toEqual([[]]);
    expect(run(pairs, [res('GetAttributes', ok(uid('u') + mask('Encrypt')))])[0]).toHaveLength(1);
  });
});

describe('order and extras where Profiles §4.1 allow them', () => {
  const attrs2 = (inner: string) => ok(`${uid('u')}<Attributes>${inner}</Attributes>`);
  const alg = '<CryptographicAlgorithm type="Enumeration" value="AES"/>';
  const len = '<CryptographicLength type="Integer" value="128"/>';
  const state = '<State type="Enumeration" value="PreActive"/>';

  it('2.x Get Attributes: any order, extra attributes, but every expected one present', () => {
    const pairs: [string, string][] = [
      [req('GetAttributes', uid('u')), res('GetAttributes', attrs2(alg + len))],
    ];
    expect(run(pairs, [res('GetAttributes', attrs2(state + len + alg))])).toEqual([[]]);
    expect(run(pairs, [res('GetAttributes', attrs2(state + alg))])[0]).toEqual([
      {
        path: 'ResponseMessage › BatchItem › ResponsePayload › Attributes',
        message: 'missing CryptographicLength',
        expected: 'CryptographicLength (Integer) 128',
      },
    ]);
  });

  it('Export: its Attributes compare like a Get Attributes answer', () => {
    const exported = (inner: string) =>
      ok(
        `<ObjectType type="Enumeration" value="SymmetricKey"/>${uid('u')}<Attributes>${inner}</Attributes>`,
      );
    const pairs: [string, string][] = [
      [req('Export', uid('u')), res('Export', exported(alg + len))],
    ];
    expect(run(pairs, [res('Export', exported(state + len + alg))])).toEqual([[]]);
    expect(run(pairs, [res('Export', exported(alg))])[0]![0]).toMatchObject({
      message: 'missing CryptographicLength',
    });
  });

  it('1.x Get Attributes: the Attribute list is a multiset keyed by name', () => {
    const a = (name: string, value: string) =>
      `<Attribute><AttributeName type="TextString" value="${name}"/><AttributeValue ${value}/></Attribute>`;
    const expected = ok(
      uid('u') +
        a('Cryptographic Algorithm', 'type="Enumeration" value="AES"') +
        a('Cryptographic Length', 'type="Integer" value="128"'),
    );
    const pairs: [string, string][] = [
      [req('GetAttributes', uid('u'), 4), res('GetAttributes', expected, { minor: 4 })],
    ];
    const actual = (length: string) =>
      res(
        'GetAttributes',
        ok(
          uid('u') +
            a('Cryptographic Length', `type="Integer" value="${length}"`) +
            a('State', 'type="Enumeration" value="PreActive"') +
            a('Cryptographic Algorithm', 'type="Enumeration" value="AES"'),
        ),
        { minor: 4 },
      );
    expect(run(pairs, [actual('128')])).toEqual([[]]);
    expect(run(pairs, [actual('256')])[0]![0]).toMatchObject({
      path: "ResponseMessage › BatchItem › ResponsePayload › Attribute['Cryptographic Length'] › AttributeValue",
      message: 'values differ',
      expected: 'AttributeValue (Integer) 128',
      actual: 'AttributeValue (Integer) 256',
    });
  });

  it('Query RNGs: any generator description, but one RNG Parameters per expected generator', () => {
    const rng = (alg: string, extra = '') =>
      `<RNGParameters><RNGAlgorithm type="Enumeration" value="${alg}"/>${extra}</RNGParameters>`;
    const ansi = rng('ANSIX9_31', '<CryptographicAlgorithm type="Enumeration" value="AES"/>');
    const ctr = rng('DRBG', '<DRBGAlgorithm type="Enumeration" value="CTR"/>');
    const query = '<QueryFunction type="Enumeration" value="QueryRNGs"/>';
    const one: [string, string][] = [[req('Query', query), res('Query', ok(ansi))]];
    expect(run(one, [res('Query', ok(ctr))])).toEqual([[]]);
    expect(run(one, [res('Query', ok(''))])[0]![0]).toMatchObject({
      message: 'missing RNGParameters',
    });
    const two: [string, string][] = [[req('Query', query), res('Query', ok(ansi + ansi))]];
    expect(run(two, [res('Query', ok(ctr))])[0]).not.toEqual([]);
  });

  it('Locate: identifiers as a set, but no extra object', () => {
    const pairs: [string, string][] = [
      [req('Create'), res('Create', ok(uid('$UNIQUE_IDENTIFIER_0')))],
      [req('Create'), res('Create', ok(uid('$UNIQUE_IDENTIFIER_1')))],
      [req('Locate'), res('Locate', ok(uid('$UNIQUE_IDENTIFIER_0') + uid('$UNIQUE_IDENTIFIER_1')))],
    ];
    const answers = (located: string) => [
      res('Create', ok(uid('a'))),
      res('Create', ok(uid('b'))),
      res('Locate', ok(located)),
    ];
    expect(run(pairs, answers(uid('b') + uid('a')))).toEqual([[], [], []]);
    expect(run(pairs, answers(uid('b') + uid('a') + uid('c')))[2]).toEqual([
      {
        path: 'ResponseMessage › BatchItem › ResponsePayload',
        message: 'unexpected UniqueIdentifier',
        actual: 'UniqueIdentifier (TextString) "c"',
      },
    ]);
  });

  it('a batch with the wrong number of items is reported at the first differing item', () => {
    const tc = parseCase(
      'T-M-2-21.xml',
      `<KMIP>${req('Query')}<ResponseMessage><ResponseHeader>${PV(1)}<TimeStamp type="DateTime" value="$NOW"/><BatchCount type="Integer" value="2"/></ResponseHeader><BatchItem><Operation type="Enumeration" value="Query"/>${ok('')}</BatchItem><BatchItem><Operation type="Enumeration" value="Query"/>${ok('')}</BatchItem></ResponseMessage></KMIP>`,
    );
    const actual = actualOf(
      `<ResponseMessage><ResponseHeader>${PV(1)}<TimeStamp type="DateTime" value="$NOW"/><BatchCount type="Integer" value="1"/></ResponseHeader><BatchItem><Operation type="Enumeration" value="Query"/>${ok('')}</BatchItem></ResponseMessage>`,
    );
    const ctx = batchContextOf(Operation.Query, undefined, false);
    const m = new Comparator(new CaseState(), tc.steps[0]!.response.marks).compareMessage(
      tc.steps[0]!.response.item,
      actual,
      [ctx, ctx],
    );
    expect(m).toEqual([
      { path: 'ResponseMessage', message: 'missing BatchItem', expected: expect.any(String) },
    ]);
  });
});

describe('a Put or Notify the server sent (KMIP 1.4 §5), compared with the expected request', () => {
  const a = (name: string, type: string, value: string) =>
    `<Attribute><AttributeName type="TextString" value="${name}"/><AttributeValue type="${type}" value="${value}"/></Attribute>`;
  const put = (body: string) => req('Put', body, 4);
  const head = `${uid('u-1')}<PutFunction type="Enumeration" value="New"/>`;

  function compare(expected: string, actual: string): Mismatch[] {
    const tc = parseCase(
      'T-M-1-14.xml',
      `<KMIP>${expected}${res('Put', ok(''), { minor: 4 })}</KMIP>`,
    );
    const step = tc.steps[0]!;
    const sent = actualOf(actual);
    const payload = childOf(childrenOf(sent, Tag.BatchItem)[0]!, Tag.RequestPayload);
    const c = new Comparator(new CaseState(), step.request.marks);
    return c.compareMessage(step.request.item, sent, [
      batchContextOf(Operation.Put, payload, false),
    ]);
  }

  it('allows more attributes, in any order (§4.1.1 item 21, §4.1.2)', () => {
    const expected = put(
      head + a('x-ID', 'TextString', 'T') + a('State', 'Enumeration', 'PreActive'),
    );
    const actual = put(
      head +
        a('State', 'Enumeration', 'PreActive') +
        a('Fresh', 'Boolean', 'true') +
        a('x-ID', 'TextString', 'T'),
    );
    expect(compare(expected, actual)).toEqual([]);
  });

  it('fails a missing or different attribute, and fields out of order', () => {
    const expected = put(head + a('State', 'Enumeration', 'PreActive'));
    expect(compare(expected, put(head + a('State', 'Enumeration', 'Active')))[0]?.path).toBe(
      "RequestMessage › BatchItem › RequestPayload › Attribute['State'] › AttributeValue",
    );
    expect(compare(expected, put(head))[0]?.message).toBe("missing Attribute 'State'");
    const swapped = put(
      `<PutFunction type="Enumeration" value="New"/>${uid('u-1')}${a('State', 'Enumeration', 'PreActive')}`,
    );
    expect(compare(expected, swapped)[0]?.message).toMatch(
      /expected UniqueIdentifier, found PutFunction/,
    );
  });
});
