// Export and Import (KMIP 2.1 Export, Import; KMIP 1.4 Export, Import; TC-IMPEXP-1..5-20).
// Wrapped bytes are checked against RFC 3394 §4.1, the Short Unique Identifier against
// node:crypto's SHA-256 of the identifier.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, dateOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import type { StructureItem, TtlvItem } from '../../src/ttlv/item.js';
import {
  BatchErrorContinuationOption,
  BlockCipherMode,
  CryptographicAlgorithm,
  EncodingOption,
  KeyFormatType,
  KeyWrapType,
  NameType,
  ObjectType,
  Operation,
  QueryFunction,
  ResultReason,
  ResultStatus,
  State,
  Tag,
  CryptographicUsageMask as Usage,
  WrappingMethod,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { attributesFor, find, payloadOf, testServer } from '../helpers/kmip-test-client.js';

type Server = ReturnType<typeof testServer>;

const hex = (s: string) => Buffer.from(s, 'hex');
// RFC 3394 §4.1: 128 bits of key data wrapped with a 128-bit KEK.
const KEK = hex('000102030405060708090a0b0c0d0e0f');
const KEY = hex('00112233445566778899aabbccddeeff');
const WRAPPED = hex('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5');
const OTHER_KEY = hex('0123456789abcdef0123456789abcdef');
/** 2018-12-19T09:24:26Z, the Initial Date of the TC-IMPEXP exports. */
const THEN = 1545211466n;

const uidOf = (uid: string) => item.text(Tag.UniqueIdentifier, uid);
const name = (value: string) =>
  item.struct(Tag.Name, [
    item.text(Tag.NameValue, value),
    item.enum(Tag.NameType, NameType.UninterpretedTextString),
  ]);

function symmetricKey(material: Uint8Array): StructureItem {
  return item.struct(Tag.SymmetricKey, [
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
      item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, material)]),
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      item.int(Tag.CryptographicLength, material.length * 8),
    ]),
  ]);
}

async function send(
  s: Server,
  version: KmipVersion,
  operation: number,
  payload: TtlvItem[],
  identity = 'alice',
) {
  const res = await s.send(version, [{ operation, payload }], { identity });
  return res.batchItems[0]!;
}

async function register(
  s: Server,
  version: KmipVersion,
  material: Uint8Array,
  attrs: TtlvItem[] = [],
  identity = 'alice',
) {
  const bi = await send(
    s,
    version,
    Operation.Register,
    [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      attributesFor(version, [
        ...(attrs.some((a) => a.tag === Tag.CryptographicUsageMask)
          ? []
          : [item.int(Tag.CryptographicUsageMask, Usage.Encrypt | Usage.Decrypt)]),
        ...attrs,
      ]),
      symmetricKey(material),
    ],
    identity,
  );
  expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
  return textOf(find(payloadOf(bi), Tag.UniqueIdentifier))!;
}

/** A 2.x Import payload. */
function importPayload(
  uid: string,
  attrs: TtlvItem[],
  object: StructureItem,
  opts: { replace?: boolean; keyWrapType?: number; objectType?: number } = {},
): TtlvItem[] {
  return [
    uidOf(uid),
    item.enum(Tag.ObjectType, opts.objectType ?? ObjectType.SymmetricKey),
    ...(opts.replace === undefined ? [] : [item.bool(Tag.ReplaceExisting, opts.replace)]),
    ...(opts.keyWrapType === undefined ? [] : [item.enum(Tag.KeyWrapType, opts.keyWrapType)]),
    item.struct(Tag.Attributes, attrs),
    object,
  ];
}

async function exportOf(s: Server, uid: string, extra: TtlvItem[] = [], identity = 'alice') {
  const bi = await send(s, '2.1', Operation.Export, [uidOf(uid), ...extra], identity);
  const payload = payloadOf(bi);
  const attributes = find(payload, Tag.Attributes) as StructureItem | undefined;
  return {
    bi,
    payload,
    attributes: attributes?.value ?? [],
    object: find(payload, Tag.SymmetricKey) as StructureItem | undefined,
  };
}

async function attributesOf(s: Server, uid: string, identity = 'alice') {
  const bi = await send(s, '2.1', Operation.GetAttributes, [uidOf(uid)], identity);
  expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
  return (find(payloadOf(bi), Tag.Attributes) as StructureItem).value;
}

async function materialOf(s: Server, uid: string, extra: TtlvItem[] = []) {
  const bi = await send(s, '2.1', Operation.Get, [uidOf(uid), ...extra]);
  expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
  const block = childOf(find(payloadOf(bi), Tag.SymmetricKey), Tag.KeyBlock);
  const value = childOf(block, Tag.KeyValue);
  return {
    material: Buffer.from(bytesOf(childOf(value, Tag.KeyMaterial)) ?? bytesOf(value) ?? []),
    wrapped: childOf(block, Tag.KeyWrappingData) !== undefined,
  };
}

/** Result Messages name objects and fields, never key bytes. */
function expectNoKeyIn(message: string | undefined, ...keys: Uint8Array[]) {
  for (const k of keys) {
    const b = Buffer.from(k);
    for (const form of [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64')]) {
      expect(message ?? '').not.toContain(form);
    }
  }
}

describe('Export', () => {
  it('returns the object with all its attributes as they were before the export', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', KEY, [name('export-me')]);
    const { bi, payload, attributes, object } = await exportOf(s, uid);
    expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
    expect(payload.map((i) => i.tag)).toEqual([
      Tag.ObjectType,
      Tag.UniqueIdentifier,
      Tag.Attributes,
      Tag.SymmetricKey,
    ]);
    expect(textOf(find(attributes, Tag.UniqueIdentifier))).toBe(uid);
    expect(numberOf(find(attributes, Tag.State))).toBe(State.PreActive);
    expect(textOf(childOf(find(attributes, Tag.Name), Tag.NameValue))).toBe('export-me');
    expect(find(attributes, Tag.Fresh)?.value).toBe(true);
    // Every attribute Get Attributes shows, with the same values, Fresh apart.
    const unfresh = (list: TtlvItem[]) => list.filter((a) => a.tag !== Tag.Fresh);
    expect(unfresh(attributes)).toEqual(unfresh(await attributesOf(s, uid)));
    const block = childOf(object, Tag.KeyBlock);
    expect(Buffer.from(bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial))!)).toEqual(
      KEY,
    );
    // Like Get, Export gives the key to a client: it is no longer Fresh.
    expect(find(await attributesOf(s, uid), Tag.Fresh)?.value).toBe(false);
  });

  it('gives a KMIP 1.4 client each attribute as an Attribute with its index', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', KEY, [name('first'), name('second')]);
    const bi = await send(s, '1.4', Operation.Export, [uidOf(uid)]);
    expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
    const payload = payloadOf(bi);
    expect(find(payload, Tag.Attributes)).toBeUndefined();
    const names = payload.filter(
      (a) => a.tag === Tag.Attribute && textOf(childOf(a, Tag.AttributeName)) === 'Name',
    );
    expect(names.map((a) => numberOf(childOf(a, Tag.AttributeIndex)) ?? 0)).toEqual([0, 1]);
    const attributeNames = payload
      .filter((a) => a.tag === Tag.Attribute)
      .map((a) => textOf(childOf(a, Tag.AttributeName)));
    expect(attributeNames).toContain('Unique Identifier');
    // Key Format Type is an attribute from KMIP 2.0 on.
    expect(attributeNames).not.toContain('Key Format Type');
    expect(find(payload, Tag.SymmetricKey)).toBeDefined();
  });

  it('exports a destroyed object without its key material', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', KEY);
    expect((await send(s, '2.1', Operation.Destroy, [uidOf(uid)])).resultStatus).toBe(
      ResultStatus.Success,
    );
    const { bi, attributes, object } = await exportOf(s, uid);
    expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
    expect(numberOf(find(attributes, Tag.State))).toBe(State.Destroyed);
    expect(object).toBeUndefined();
  });

  it('refuses as Get does, without key bytes in the message', async () => {
    const s = testServer();
    const sensitive = await register(s, '2.1', KEY, [item.bool(Tag.Sensitive, true)]);
    const r = await exportOf(s, sensitive);
    expect([r.bi.resultStatus, r.bi.resultReason]).toEqual([
      ResultStatus.OperationFailed,
      ResultReason.Sensitive,
    ]);
    expectNoKeyIn(r.bi.resultMessage, KEY);
    const uid = await register(s, '2.1', OTHER_KEY);
    const other = await exportOf(s, uid, [], 'bob');
    expect(other.bi.resultReason).toBe(ResultReason.ObjectNotFound);
    expect(other.payload).toEqual([]);
  });
});

describe('Import', () => {
  it('creates the object under the given identifier with the attributes as supplied', async () => {
    const s = testServer();
    const attrs = [
      uidOf('imported-1'),
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.int(Tag.CryptographicUsageMask, Usage.Encrypt),
      item.enum(Tag.State, State.Active),
      item.date(Tag.InitialDate, THEN),
      item.date(Tag.ActivationDate, THEN),
      item.bool(Tag.Fresh, false),
      name('imported'),
    ];
    const bi = await send(
      s,
      '2.1',
      Operation.Import,
      importPayload('imported-1', attrs, symmetricKey(KEY)),
    );
    expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
    expect(textOf(find(payloadOf(bi), Tag.UniqueIdentifier))).toBe('imported-1');
    const got = await attributesOf(s, 'imported-1');
    expect(numberOf(find(got, Tag.State))).toBe(State.Active);
    expect(dateOf(find(got, Tag.InitialDate))).toBe(THEN);
    expect(find(got, Tag.Fresh)?.value).toBe(false);
    expect(textOf(childOf(find(got, Tag.Name), Tag.NameValue))).toBe('imported');
    // Not supplied: set as Register sets them.
    expect(numberOf(find(got, Tag.CryptographicAlgorithm))).toBe(CryptographicAlgorithm.AES);
    expect(Buffer.from(bytesOf(find(got, Tag.ShortUniqueIdentifier))!)).toEqual(
      createHash('sha256').update('imported-1').digest(),
    );
    expect((await materialOf(s, 'imported-1')).material).toEqual(KEY);
    // The State drives the lifecycle: an Active key must be revoked before Destroy.
    expect((await send(s, '2.1', Operation.Destroy, [uidOf('imported-1')])).resultReason).toBe(
      ResultReason.WrongKeyLifecycleState,
    );
    expect((await send(s, '2.1', Operation.Get, [uidOf('imported-1')], 'bob')).resultReason).toBe(
      ResultReason.ObjectNotFound,
    );
  });

  it('restores an exported object over a destroyed one (TC-IMPEXP-4-20)', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', KEY, [name('kept')]);
    const exported = await exportOf(s, uid);
    await send(s, '2.1', Operation.Destroy, [uidOf(uid)]);
    const bi = await send(
      s,
      '2.1',
      Operation.Import,
      importPayload(uid, exported.attributes, exported.object!, { replace: true }),
    );
    expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
    // The attributes are the exported ones again, Fresh and Pre-Active included.
    const again = await exportOf(s, uid);
    expect(again.attributes).toEqual(exported.attributes);
    expect(again.object).toEqual(exported.object);
  });

  it('does not replace an existing object without Replace Existing true', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', KEY);
    for (const replace of [undefined, false]) {
      const bi = await send(
        s,
        '2.1',
        Operation.Import,
        importPayload(uid, [], symmetricKey(OTHER_KEY), { replace }),
      );
      expect([bi.resultStatus, bi.resultReason]).toEqual([
        ResultStatus.OperationFailed,
        ResultReason.ObjectAlreadyExists,
      ]);
      expectNoKeyIn(bi.resultMessage, KEY, OTHER_KEY);
    }
    expect((await materialOf(s, uid)).material).toEqual(KEY);
  });

  it('replaces only for a caller that may Import the object; the owner stays', async () => {
    const payload = (uid: string) =>
      importPayload(uid, [], symmetricKey(OTHER_KEY), { replace: true });
    const s = testServer();
    const uid = await register(s, '2.1', KEY);
    const denied = await send(s, '2.1', Operation.Import, payload(uid), 'bob');
    expect(denied.resultReason).toBe(ResultReason.PermissionDenied);
    expectNoKeyIn(denied.resultMessage, KEY, OTHER_KEY);
    expect((await materialOf(s, uid)).material).toEqual(KEY);

    const open = testServer({
      typePolicies: new Map([['SymmetricKey', new Set(['Import'])]]),
    });
    const shared = await register(open, '2.1', KEY);
    const ok = await send(open, '2.1', Operation.Import, payload(shared), 'bob');
    expect(ok.resultStatus, ok.resultMessage).toBe(ResultStatus.Success);
    expect((await materialOf(open, shared)).material).toEqual(OTHER_KEY);
    expect((await send(open, '2.1', Operation.Get, [uidOf(shared)], 'bob')).resultReason).toBe(
      ResultReason.ObjectNotFound,
    );
  });

  it('refuses attributes or an object that do not match the request', async () => {
    const s = testServer();
    const cases: TtlvItem[][] = [
      importPayload('a', [uidOf('b')], symmetricKey(KEY)),
      importPayload('a', [item.enum(Tag.ObjectType, ObjectType.SecretData)], symmetricKey(KEY)),
      importPayload('a', [], symmetricKey(KEY), { objectType: ObjectType.SecretData }),
      importPayload('a', [item.enum(Tag.State, 0x99)], symmetricKey(KEY)),
    ];
    for (const payload of cases) {
      const bi = await send(s, '2.1', Operation.Import, payload);
      expect([bi.resultStatus, bi.resultReason], bi.resultMessage).toEqual([
        ResultStatus.OperationFailed,
        ResultReason.InvalidField,
      ]);
      expectNoKeyIn(bi.resultMessage, KEY);
    }
    expect((await send(s, '2.1', Operation.Get, [uidOf('a')])).resultReason).toBe(
      ResultReason.ObjectNotFound,
    );
  });

  it('puts the replaced object back when the batch is undone', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', KEY);
    const res = await s.send(
      '2.1',
      [
        {
          operation: Operation.Import,
          payload: importPayload(uid, [], symmetricKey(OTHER_KEY), { replace: true }),
        },
        { operation: Operation.Get, payload: [uidOf('missing')] },
      ],
      { batchErrorContinuationOption: BatchErrorContinuationOption.Undo },
    );
    expect(res.batchItems.map((b) => b.resultStatus)).toEqual([
      ResultStatus.OperationUndone,
      ResultStatus.OperationFailed,
    ]);
    expect((await materialOf(s, uid)).material).toEqual(KEY);
  });

  it('stores a wrapped key in clear with Not Wrapped, as given with As Registered', async () => {
    const s = testServer();
    const kek = await register(s, '2.1', KEK, [
      item.int(Tag.CryptographicUsageMask, Usage.WrapKey | Usage.UnwrapKey),
      item.date(Tag.ActivationDate, THEN),
    ]);
    const uid = await register(s, '2.1', KEY);
    const spec = item.struct(Tag.KeyWrappingSpecification, [
      item.enum(Tag.WrappingMethod, WrappingMethod.Encrypt),
      item.struct(Tag.EncryptionKeyInformation, [
        uidOf(kek),
        item.struct(Tag.CryptographicParameters, [
          item.enum(Tag.BlockCipherMode, BlockCipherMode.NISTKeyWrap),
        ]),
      ]),
      item.enum(Tag.EncodingOption, EncodingOption.NoEncoding),
    ]);
    const exported = await exportOf(s, uid, [spec]);
    expect(exported.bi.resultStatus, exported.bi.resultMessage).toBe(ResultStatus.Success);
    const wrappedKey = exported.object!;
    const keyValue = childOf(childOf(wrappedKey, Tag.KeyBlock), Tag.KeyValue);
    expect(Buffer.from(bytesOf(keyValue)!)).toEqual(WRAPPED);

    const imports: Array<[string, number]> = [
      ['clear-copy', KeyWrapType.NotWrapped],
      ['wrapped-copy', KeyWrapType.AsRegistered],
    ];
    for (const [copy, keyWrapType] of imports) {
      const bi = await send(
        s,
        '2.1',
        Operation.Import,
        importPayload(copy, [], wrappedKey, { keyWrapType }),
      );
      expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
    }
    expect(await materialOf(s, 'clear-copy')).toEqual({ material: KEY, wrapped: false });
    expect(await materialOf(s, 'wrapped-copy')).toEqual({ material: WRAPPED, wrapped: true });
    expect(
      await materialOf(s, 'wrapped-copy', [item.enum(Tag.KeyWrapType, KeyWrapType.NotWrapped)]),
    ).toEqual({ material: KEY, wrapped: false });

    // Not Wrapped needs the wrapping key: bob may not use alice's.
    const bi = await send(
      s,
      '2.1',
      Operation.Import,
      importPayload('bobs-copy', [], wrappedKey, { keyWrapType: KeyWrapType.NotWrapped }),
      'bob',
    );
    expect(bi.resultStatus).toBe(ResultStatus.OperationFailed);
    expectNoKeyIn(bi.resultMessage, KEY, WRAPPED);
  });

  it('reads the KMIP 1.4 form: each attribute as an Attribute', async () => {
    const s = testServer();
    const attrs = attributesFor('1.4', [
      item.int(Tag.CryptographicUsageMask, Usage.Encrypt),
      name('from-1.4'),
    ]) as StructureItem;
    const bi = await send(s, '1.4', Operation.Import, [
      uidOf('old-client'),
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      ...attrs.value,
      symmetricKey(KEY),
    ]);
    expect(bi.resultStatus, bi.resultMessage).toBe(ResultStatus.Success);
    const got = await attributesOf(s, 'old-client');
    expect(textOf(childOf(find(got, Tag.Name), Tag.NameValue))).toBe('from-1.4');
    expect(numberOf(find(got, Tag.CryptographicUsageMask))).toBe(Usage.Encrypt);
  });
});

describe('Query', () => {
  it.each(['1.4', '2.0', '2.1'] as KmipVersion[])(
    'lists Import and Export at KMIP %s',
    async (version) => {
      const s = testServer();
      const bi = await send(s, version, Operation.Query, [
        item.enum(Tag.QueryFunction, QueryFunction.QueryOperations),
      ]);
      const operations = payloadOf(bi)
        .filter((i) => i.tag === Tag.Operation)
        .map((i) => numberOf(i));
      expect(operations).toEqual(expect.arrayContaining([Operation.Import, Operation.Export]));
    },
  );
});
