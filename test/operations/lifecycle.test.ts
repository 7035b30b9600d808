// Object lifecycle and ownership across versions (KMIP 2.1 §4.57 State; §6.1 operations).

import { describe, expect, it } from 'vitest';
import { childOf, item, textOf } from '../../src/kmip/items.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';

const attr1x = (name: string, value: TtlvItem) =>
  item.struct(Tag.Attribute, [
    item.text(Tag.AttributeName, name),
    { ...value, tag: Tag.AttributeValue } as TtlvItem,
  ]);

function createPayload(version: KmipVersion, extra: TtlvItem[] = []): TtlvItem[] {
  const attrs = [
    item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    item.int(Tag.CryptographicLength, 128),
    item.int(
      Tag.CryptographicUsageMask,
      CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt,
    ),
    ...extra,
  ];
  const specName: Record<number, string> = {
    [Tag.CryptographicAlgorithm]: 'Cryptographic Algorithm',
    [Tag.CryptographicLength]: 'Cryptographic Length',
    [Tag.CryptographicUsageMask]: 'Cryptographic Usage Mask',
    [Tag.Name]: 'Name',
    [Tag.ObjectGroup]: 'Object Group',
  };
  return [
    item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
    version.startsWith('2')
      ? item.struct(Tag.Attributes, attrs)
      : item.struct(
          Tag.TemplateAttribute,
          attrs.map((a) => attr1x(specName[a.tag]!, a)),
        ),
  ];
}

async function create(
  s: ReturnType<typeof testServer>,
  version: KmipVersion,
  identity = 'alice',
  extra: TtlvItem[] = [],
) {
  const res = await s.send(
    version,
    [{ operation: Operation.Create, payload: createPayload(version, extra) }],
    { identity },
  );
  expect(res.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
  return textOf(find(payloadOf(res.batchItems[0]), Tag.UniqueIdentifier))!;
}

const uidPayload = (uid: string) => [item.text(Tag.UniqueIdentifier, uid)];

async function op(
  s: ReturnType<typeof testServer>,
  version: KmipVersion,
  operation: number,
  payload: TtlvItem[],
  identity = 'alice',
) {
  const res = await s.send(version, [{ operation, payload }], { identity });
  return res.batchItems[0]!;
}

async function stateOf(s: ReturnType<typeof testServer>, uid: string): Promise<number | undefined> {
  const r = await op(s, '2.1', Operation.GetAttributes, [
    ...uidPayload(uid),
    item.enum(Tag.AttributeReference, Tag.State),
  ]);
  const attrs = find(payloadOf(r), Tag.Attributes);
  const state = childOf(attrs, Tag.State);
  return state?.type === ItemType.Enumeration ? state.value : undefined;
}

describe.each(['1.0', '1.2', '1.4', '2.0', '2.1'] as KmipVersion[])(
  'lifecycle at KMIP %s',
  (version) => {
    const wrongState = version.startsWith('2')
      ? ResultReason.WrongKeyLifecycleState
      : ResultReason.PermissionDenied;
    const notFound = version.startsWith('2')
      ? ResultReason.ObjectNotFound
      : ResultReason.ItemNotFound;

    it('creates Pre-Active objects that can be fetched and destroyed without activation', async () => {
      const s = testServer();
      const uid = await create(s, version);
      expect(await stateOf(s, uid)).toBe(State.PreActive);
      const got = await op(s, version, Operation.Get, uidPayload(uid));
      expect(got.resultStatus).toBe(ResultStatus.Success);
      const material = childOf(
        childOf(childOf(find(payloadOf(got), Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue),
        Tag.KeyMaterial,
      );
      expect(material?.type === ItemType.ByteString && material.value.length).toBe(16);
      expect((await op(s, version, Operation.Destroy, uidPayload(uid))).resultStatus).toBe(
        ResultStatus.Success,
      );
      expect(await stateOf(s, uid)).toBe(State.Destroyed);
      const after = await op(s, version, Operation.Get, uidPayload(uid));
      expect(after.resultStatus).toBe(ResultStatus.OperationFailed);
    });

    it('refuses to destroy an Active object with the version’s reason, then allows it after Revoke', async () => {
      const s = testServer();
      const uid = await create(s, version);
      expect((await op(s, version, Operation.Activate, uidPayload(uid))).resultStatus).toBe(
        ResultStatus.Success,
      );
      expect(await stateOf(s, uid)).toBe(State.Active);
      const refused = await op(s, version, Operation.Destroy, uidPayload(uid));
      expect(refused.resultReason).toBe(wrongState);
      const again = await op(s, version, Operation.Activate, uidPayload(uid));
      expect(again.resultReason).toBe(wrongState);
      const revoked = await op(s, version, Operation.Revoke, [
        ...uidPayload(uid),
        item.struct(Tag.RevocationReason, [
          item.enum(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation),
        ]),
      ]);
      expect(revoked.resultStatus).toBe(ResultStatus.Success);
      expect(await stateOf(s, uid)).toBe(State.Deactivated);
      expect((await op(s, version, Operation.Destroy, uidPayload(uid))).resultStatus).toBe(
        ResultStatus.Success,
      );
    });

    it('moves a compromised object to Destroyed Compromised', async () => {
      const s = testServer();
      const uid = await create(s, version);
      await op(s, version, Operation.Revoke, [
        ...uidPayload(uid),
        item.struct(Tag.RevocationReason, [
          item.enum(Tag.RevocationReasonCode, RevocationReasonCode.KeyCompromise),
        ]),
      ]);
      expect(await stateOf(s, uid)).toBe(State.Compromised);
      await op(s, version, Operation.Destroy, uidPayload(uid));
      expect(await stateOf(s, uid)).toBe(State.DestroyedCompromised);
    });

    it('keeps another identity away from the object', async () => {
      const s = testServer();
      const uid = await create(s, version, 'alice');
      for (const operation of [
        Operation.Get,
        Operation.GetAttributes,
        Operation.Destroy,
        Operation.Activate,
      ]) {
        const r = await op(s, version, operation, uidPayload(uid), 'mallory');
        expect(r.resultReason).toBe(notFound);
      }
      const located = await op(s, version, Operation.Locate, [], 'mallory');
      expect(payloadOf(located).filter((i) => i.tag === Tag.UniqueIdentifier)).toHaveLength(0);
      expect(await stateOf(s, uid)).toBe(State.PreActive);
    });
  },
);

describe('attributes by version', () => {
  it('never shows an attribute to a client whose version does not define it', async () => {
    const s = testServer();
    const uid = await create(s, '2.1', 'alice', [item.text(Tag.Description, 'since 1.4')]);
    const v10 = await op(s, '1.0', Operation.GetAttributes, uidPayload(uid));
    const names10 = payloadOf(v10)
      .filter((i) => i.tag === Tag.Attribute)
      .map((a) => textOf(childOf(a, Tag.AttributeName)));
    expect(names10).toContain('Cryptographic Algorithm');
    expect(names10).toContain('Digest');
    expect(names10).not.toContain('Description');
    const v14 = await op(s, '1.4', Operation.GetAttributes, uidPayload(uid));
    expect(
      payloadOf(v14)
        .filter((i) => i.tag === Tag.Attribute)
        .map((a) => textOf(childOf(a, Tag.AttributeName))),
    ).toContain('Description');
    const v21 = await op(s, '2.1', Operation.GetAttributes, uidPayload(uid));
    const attrs = find(payloadOf(v21), Tag.Attributes);
    expect(textOf(childOf(attrs, Tag.Description))).toBe('since 1.4');
  });

  it('Get Attribute List names attributes in each version’s form', async () => {
    const s = testServer();
    const uid = await create(s, '1.4');
    const v14 = await op(s, '1.4', Operation.GetAttributeList, uidPayload(uid));
    expect(
      payloadOf(v14)
        .filter((i) => i.tag === Tag.AttributeName)
        .map(textOf),
    ).toContain('Cryptographic Usage Mask');
    const v20 = await op(s, '2.0', Operation.GetAttributeList, uidPayload(uid));
    const refs = payloadOf(v20).filter((i) => i.tag === Tag.AttributeReference);
    expect(refs.map((r) => r.value)).toContain(Tag.CryptographicUsageMask);
  });

  it('stores custom x- attributes and returns them in both forms', async () => {
    const s = testServer();
    const res = await s.send('1.4', [
      {
        operation: Operation.Create,
        payload: [
          item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
          item.struct(Tag.TemplateAttribute, [
            attr1x('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES)),
            attr1x('Cryptographic Length', item.int(0, 256)),
            attr1x('x-ID', item.text(0, 'case-7')),
          ]),
        ],
      },
    ]);
    const uid = textOf(find(payloadOf(res.batchItems[0]), Tag.UniqueIdentifier))!;
    const v14 = await op(s, '1.4', Operation.GetAttributes, [
      ...uidPayload(uid),
      item.text(Tag.AttributeName, 'x-ID'),
    ]);
    const only = payloadOf(v14).filter((i) => i.tag === Tag.Attribute);
    expect(only).toHaveLength(1);
    expect(textOf(childOf(only[0], Tag.AttributeValue))).toBe('case-7');
    const v21 = await op(s, '2.1', Operation.GetAttributes, uidPayload(uid));
    const vendor = (find(payloadOf(v21), Tag.Attributes) as { value: TtlvItem[] }).value.find(
      (a) => a.tag === Tag.Attribute,
    );
    expect(textOf(childOf(vendor, Tag.VendorIdentification))).toBe('x');
    expect(textOf(childOf(vendor, Tag.AttributeName))).toBe('ID');
  });
});

describe('Locate', () => {
  it('filters by name, type and group, with offset and maximum, newest first', async () => {
    const s = testServer();
    const name = (n: string) =>
      item.struct(Tag.Name, [item.text(Tag.NameValue, n), item.enum(Tag.NameType, 1)]);
    const uids: string[] = [];
    for (let i = 0; i < 5; i++) {
      uids.push(
        await create(s, '2.1', 'alice', [
          name(`key-${i}`),
          item.text(Tag.ObjectGroup, i % 2 ? 'odd' : 'even'),
        ]),
      );
    }
    const byName = await op(s, '2.1', Operation.Locate, [
      item.struct(Tag.Attributes, [name('key-3')]),
    ]);
    expect(
      payloadOf(byName)
        .filter((i) => i.tag === Tag.UniqueIdentifier)
        .map(textOf),
    ).toEqual([uids[3]]);
    const even = await op(s, '2.1', Operation.Locate, [
      item.struct(Tag.Attributes, [item.text(Tag.ObjectGroup, 'even')]),
    ]);
    expect(
      payloadOf(even)
        .filter((i) => i.tag === Tag.UniqueIdentifier)
        .map(textOf),
    ).toEqual([uids[4], uids[2], uids[0]]);
    const page = await op(s, '2.1', Operation.Locate, [
      item.int(Tag.MaximumItems, 2),
      item.int(Tag.OffsetItems, 1),
      item.struct(Tag.Attributes, [item.enum(Tag.ObjectType, ObjectType.SymmetricKey)]),
    ]);
    expect(
      payloadOf(page)
        .filter((i) => i.tag === Tag.UniqueIdentifier)
        .map(textOf),
    ).toEqual([uids[3], uids[2]]);
    expect(find(payloadOf(page), Tag.LocatedItems)?.value).toBe(5);
    const admin = testServer({ store: s.store, admins: ['root'] });
    const all = await op(admin, '2.1', Operation.Locate, [], 'root');
    expect(payloadOf(all).filter((i) => i.tag === Tag.UniqueIdentifier)).toHaveLength(5);
  });

  it('answers at most the server cap; Offset Items pages past it and counts every match', async () => {
    const store = openMemoryStore();
    const s = testServer({ store, maxLocateItems: 3, admins: ['root'] });
    const uids: string[] = [];
    for (let i = 0; i < 7; i++) uids.push(await create(s, '2.1', i % 2 ? 'bob' : 'alice'));
    const newest = [...uids].reverse();
    const ids = (r: Awaited<ReturnType<typeof op>>) =>
      payloadOf(r)
        .filter((i) => i.tag === Tag.UniqueIdentifier)
        .map(textOf);
    for (const [who, mine] of [
      ['root', newest],
      ['alice', newest.filter((_, i) => i % 2 === 0)],
    ] as const) {
      const capped = await op(s, '2.1', Operation.Locate, [], who);
      expect(ids(capped)).toEqual(mine.slice(0, 3));
      expect(find(payloadOf(capped), Tag.LocatedItems)).toBeUndefined();
      const asked = await op(s, '2.1', Operation.Locate, [item.int(Tag.MaximumItems, 50)], who);
      expect(ids(asked)).toEqual(mine.slice(0, 3));
      const next = await op(s, '2.1', Operation.Locate, [item.int(Tag.OffsetItems, 3)], who);
      expect(ids(next)).toEqual(mine.slice(3, 6));
      expect(find(payloadOf(next), Tag.LocatedItems)?.value).toBe(mine.length);
      const fewer = await op(s, '2.1', Operation.Locate, [item.int(Tag.MaximumItems, 1)], who);
      expect(ids(fewer)).toEqual(mine.slice(0, 1));
    }
  });
});

describe('server-maintained attributes', () => {
  const boolAttr = async (s: ReturnType<typeof testServer>, uid: string, tag: number) => {
    const r = await op(s, '2.1', Operation.GetAttributes, [
      ...uidPayload(uid),
      item.enum(Tag.AttributeReference, tag),
    ]);
    const v = childOf(find(payloadOf(r), Tag.Attributes), tag);
    return v?.type === ItemType.Boolean ? v.value : undefined;
  };

  it('Fresh turns false once the key has been fetched', async () => {
    const s = testServer();
    const uid = await create(s, '2.1');
    expect(await boolAttr(s, uid, Tag.Fresh)).toBe(true);
    await op(s, '2.1', Operation.Get, uidPayload(uid));
    expect(await boolAttr(s, uid, Tag.Fresh)).toBe(false);
  });

  it('a sensitive key cannot be fetched and records Always Sensitive', async () => {
    const s = testServer();
    const uid = await create(s, '2.1', 'alice', [item.bool(Tag.Sensitive, true)]);
    const got = await op(s, '2.1', Operation.Get, uidPayload(uid));
    expect(got.resultReason).toBe(ResultReason.Sensitive);
    expect(await boolAttr(s, uid, Tag.AlwaysSensitive)).toBe(true);
  });

  it('Locate leaves destroyed objects out unless State asks for them', async () => {
    const s = testServer();
    const kept = await create(s, '2.1');
    const gone = await create(s, '2.1');
    await op(s, '2.1', Operation.Destroy, uidPayload(gone));
    const ids = async (payload: TtlvItem[]) =>
      payloadOf(await op(s, '2.1', Operation.Locate, payload))
        .filter((i) => i.tag === Tag.UniqueIdentifier)
        .map(textOf);
    expect(await ids([])).toEqual([kept]);
    expect(
      await ids([item.struct(Tag.Attributes, [item.enum(Tag.State, State.Destroyed)])]),
    ).toEqual([gone]);
  });

  it('Locate matches a structured attribute by its whole value', async () => {
    const s = testServer();
    const asi = (data: string) =>
      item.struct(Tag.ApplicationSpecificInformation, [
        item.text(Tag.ApplicationNamespace, 'LIBRARY-LTO'),
        item.text(Tag.ApplicationData, data),
      ]);
    await create(s, '2.1', 'alice', [asi('tape-1')]);
    const wanted = await create(s, '2.1', 'alice', [asi('tape-2')]);
    const r = await op(s, '2.1', Operation.Locate, [item.struct(Tag.Attributes, [asi('tape-2')])]);
    expect(
      payloadOf(r)
        .filter((i) => i.tag === Tag.UniqueIdentifier)
        .map(textOf),
    ).toEqual([wanted]);
  });
});

describe('Create Key Pair', () => {
  it('takes the Digest of RSA keys over PKCS#1 and records the generator', async () => {
    const s = testServer();
    const res = await s.send('2.1', [
      {
        operation: Operation.CreateKeyPair,
        payload: [
          item.struct(Tag.CommonAttributes, [
            item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
            item.int(Tag.CryptographicLength, 2048),
          ]),
        ],
      },
    ]);
    const priv = textOf(find(payloadOf(res.batchItems[0]), Tag.PrivateKeyUniqueIdentifier))!;
    const r = await op(s, '2.1', Operation.GetAttributes, [
      ...uidPayload(priv),
      item.enum(Tag.AttributeReference, Tag.Digest),
      item.enum(Tag.AttributeReference, Tag.RandomNumberGenerator),
    ]);
    const attrs = find(payloadOf(r), Tag.Attributes);
    expect(childOf(childOf(attrs, Tag.Digest), Tag.KeyFormatType)?.value).toBe(
      KeyFormatType.PKCS_1,
    );
    expect(childOf(attrs, Tag.RandomNumberGenerator)).toBeDefined();
  });
});

describe('Quantum Safe', () => {
  it('refuses a key asked to be quantum safe that is not, and makes one that is', async () => {
    const s = testServer();
    const ask = (length: number) =>
      op(s, '2.1', Operation.Create, [
        item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
        item.struct(Tag.Attributes, [
          item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
          item.int(Tag.CryptographicLength, length),
          item.bool(Tag.QuantumSafe, true),
        ]),
      ]);
    expect((await ask(128)).resultReason).toBe(ResultReason.GeneralFailure);
    expect((await ask(256)).resultStatus).toBe(ResultStatus.Success);
  });
});

describe('Archive', () => {
  it('an archived key cannot be fetched until it is recovered', async () => {
    const s = testServer();
    const uid = await create(s, '2.1');
    expect((await op(s, '2.1', Operation.Archive, uidPayload(uid))).resultStatus).toBe(
      ResultStatus.Success,
    );
    expect((await op(s, '2.1', Operation.Get, uidPayload(uid))).resultReason).toBe(
      ResultReason.ObjectArchived,
    );
    await op(s, '2.1', Operation.Recover, uidPayload(uid));
    expect((await op(s, '2.1', Operation.Get, uidPayload(uid))).resultStatus).toBe(
      ResultStatus.Success,
    );
  });
});
