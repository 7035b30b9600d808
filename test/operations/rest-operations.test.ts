// Re-key (KMIP 2.1 §6.1.40), Re-key Key Pair (§6.1.41), Archive (§6.1.3), Recover (§6.1.42),
// Obtain Lease (§6.1.35), Get Usage Allocation (§6.1.28), Check (§6.1.6), Create/Join Split Key
// (§6.1.10, §6.1.30), Poll, Cancel and Ping, through the message layer in memory: results,
// stored attributes and the error of each refused request, per version where they differ.

import { describe, expect, it } from 'vitest';
import { childOf, dateOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  BatchErrorContinuationOption,
  CancellationResult,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  LinkType,
  NameType,
  ObjectType,
  Operation,
  QueryFunction,
  RecommendedCurve,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  SplitKeyMethod,
  State,
  Tag,
  UsageLimitsUnit,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';

type Server = ReturnType<typeof testServer>;

const now = () => BigInt(Math.floor(Date.now() / 1000));
const uidItem = (uid: string) => item.text(Tag.UniqueIdentifier, uid);
const name = (value: string) =>
  item.struct(Tag.Name, [
    item.text(Tag.NameValue, value),
    item.enum(Tag.NameType, NameType.UninterpretedTextString),
  ]);
const usageLimits = (total: bigint) =>
  item.struct(Tag.UsageLimits, [
    item.long(Tag.UsageLimitsTotal, total),
    item.enum(Tag.UsageLimitsUnit, UsageLimitsUnit.Object),
  ]);

async function op(
  s: Server,
  operation: number,
  payload: TtlvItem[],
  opts: { version?: KmipVersion; identity?: string } = {},
) {
  const res = await s.send(opts.version ?? '2.1', [{ operation, payload }], {
    identity: opts.identity ?? 'alice',
  });
  return res.batchItems[0]!;
}

function ok(r: Awaited<ReturnType<typeof op>>): TtlvItem[] {
  expect([r.resultStatus, r.resultMessage]).toEqual([ResultStatus.Success, undefined]);
  return payloadOf(r);
}

function failedWith(r: Awaited<ReturnType<typeof op>>, reason: number): void {
  expect([r.resultStatus, r.resultReason]).toEqual([ResultStatus.OperationFailed, reason]);
}

/** An AES-128 key in the 2.1 form, Active unless told otherwise. */
async function createKey(s: Server, extra: TtlvItem[] = [], identity = 'alice'): Promise<string> {
  const attrs = [
    item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    item.int(Tag.CryptographicLength, 128),
    item.int(
      Tag.CryptographicUsageMask,
      CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt,
    ),
    ...extra,
  ];
  if (!extra.some((a) => a.tag === Tag.ActivationDate)) {
    attrs.push(item.date(Tag.ActivationDate, now() - 60n));
  }
  const p = ok(
    await op(
      s,
      Operation.Create,
      [item.enum(Tag.ObjectType, ObjectType.SymmetricKey), item.struct(Tag.Attributes, attrs)],
      { identity },
    ),
  );
  return textOf(find(p, Tag.UniqueIdentifier))!;
}

/** Every attribute of the object (2.1 Get Attributes without references). */
async function attributes(s: Server, uid: string): Promise<TtlvItem[]> {
  const p = ok(await op(s, Operation.GetAttributes, [uidItem(uid)]));
  const list = find(p, Tag.Attributes);
  return list?.type === ItemType.Structure ? list.value : [];
}

const all = (list: TtlvItem[], tag: number) => list.filter((a) => a.tag === tag);
const one = (list: TtlvItem[], tag: number) => list.find((a) => a.tag === tag);
const names = (list: TtlvItem[]) =>
  all(list, Tag.Name).map((n) => textOf(childOf(n, Tag.NameValue)));
const links = (list: TtlvItem[]) =>
  all(list, Tag.Link).map((l) => [
    numberOf(childOf(l, Tag.LinkType)),
    textOf(childOf(l, Tag.LinkedObjectIdentifier)),
  ]);

async function keyMaterial(s: Server, uid: string): Promise<string> {
  const p = ok(await op(s, Operation.Get, [uidItem(uid)]));
  const object = find(p, Tag.SymmetricKey);
  const m = childOf(childOf(childOf(object, Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
  return m?.type === ItemType.ByteString ? Buffer.from(m.value).toString('hex') : '';
}

/** Missing and other clients' objects: Object Not Found in 2.x, Item Not Found in 1.x. */
const notFound = (v: KmipVersion = '2.1') =>
  v.startsWith('2') ? ResultReason.ObjectNotFound : ResultReason.ItemNotFound;

const wrongState = (v: KmipVersion) =>
  v.startsWith('2') ? ResultReason.WrongKeyLifecycleState : ResultReason.PermissionDenied;

describe('Re-key (KMIP 2.1 §6.1.40, KMIP 1.4 §4.4)', () => {
  it('makes a new key of the same kind, moves the names, links both ways, leaves the old State', async () => {
    const s = testServer();
    const t = now();
    const old = await createKey(s, [
      name('payments'),
      item.date(Tag.ActivationDate, t - 3600n),
      item.date(Tag.ProtectStopDate, t + 3600n),
      item.date(Tag.DeactivationDate, t + 7200n),
      usageLimits(100n),
    ]);
    ok(
      await op(s, Operation.GetUsageAllocation, [
        uidItem(old),
        item.long(Tag.UsageLimitsCount, 40n),
      ]),
    );
    const p = ok(
      await op(s, Operation.ReKey, [
        uidItem(old),
        item.struct(Tag.Attributes, [name('payments-2')]),
      ]),
    );
    const fresh = textOf(find(p, Tag.UniqueIdentifier))!;
    expect(fresh).not.toBe(old);
    expect(await keyMaterial(s, fresh)).not.toBe(await keyMaterial(s, old));
    const a = await attributes(s, fresh);
    expect(numberOf(one(a, Tag.CryptographicAlgorithm))).toBe(CryptographicAlgorithm.AES);
    expect(numberOf(one(a, Tag.CryptographicLength))).toBe(128);
    expect(numberOf(one(a, Tag.State))).toBe(State.Active);
    expect(names(a)).toEqual(['payments', 'payments-2']);
    expect(links(a)).toEqual([[LinkType.ReplacedObjectLink, old]]);
    // Without an Offset the lifecycle dates are copied.
    expect(dateOf(one(a, Tag.ActivationDate))).toBe(t - 3600n);
    expect(dateOf(one(a, Tag.ProtectStopDate))).toBe(t + 3600n);
    expect(dateOf(one(a, Tag.DeactivationDate))).toBe(t + 7200n);
    // The Total is copied and is all available again.
    const limits = one(a, Tag.UsageLimits);
    expect(childOf(limits, Tag.UsageLimitsTotal)?.value).toBe(100n);
    expect(childOf(limits, Tag.UsageLimitsCount)?.value).toBe(100n);
    expect(dateOf(one(a, Tag.InitialDate))).toBeGreaterThanOrEqual(t);
    // The server made the new material: its own generator, one instance.
    expect(a.filter((x) => x.tag === Tag.RandomNumberGenerator)).toEqual([
      one(await attributes(s, old), Tag.RandomNumberGenerator),
    ]);
    expect(one(a, Tag.RandomNumberGenerator)).toBeDefined();

    const was = await attributes(s, old);
    expect(numberOf(one(was, Tag.State))).toBe(State.Active);
    expect(names(was)).toEqual([]);
    expect(links(was)).toEqual([[LinkType.ReplacementObjectLink, fresh]]);
    expect(childOf(one(was, Tag.UsageLimits), Tag.UsageLimitsCount)?.value).toBe(60n);
  });

  it('moves the dates by the Offset, keeping their distance from the Activation Date', async () => {
    const s = testServer();
    const t = now();
    const old = await createKey(s, [
      item.date(Tag.ActivationDate, t - 100n),
      item.date(Tag.ProcessStartDate, t - 50n),
      item.date(Tag.ProtectStopDate, t + 900n),
      item.date(Tag.DeactivationDate, t + 1900n),
    ]);
    const p = ok(await op(s, Operation.ReKey, [uidItem(old), item.interval(Tag.Offset, 600)]));
    const a = await attributes(s, textOf(find(p, Tag.UniqueIdentifier))!);
    const activation = dateOf(one(a, Tag.ActivationDate))!;
    const initial = dateOf(one(a, Tag.InitialDate))!;
    expect(activation - initial).toBe(600n);
    expect(dateOf(one(a, Tag.ProcessStartDate))! - activation).toBe(50n);
    expect(dateOf(one(a, Tag.ProtectStopDate))! - activation).toBe(1000n);
    expect(dateOf(one(a, Tag.DeactivationDate))! - activation).toBe(2000n);
    expect(numberOf(one(a, Tag.State))).toBe(State.PreActive);
  });

  it('acts on the ID Placeholder and sets it to the new key', async () => {
    const s = testServer();
    const res = await s.send('1.4', [
      {
        operation: Operation.Create,
        payload: [
          item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
          item.struct(Tag.TemplateAttribute, [
            item.struct(Tag.Attribute, [
              item.text(Tag.AttributeName, 'Cryptographic Algorithm'),
              item.enum(Tag.AttributeValue, CryptographicAlgorithm.AES),
            ]),
            item.struct(Tag.Attribute, [
              item.text(Tag.AttributeName, 'Cryptographic Length'),
              item.int(Tag.AttributeValue, 256),
            ]),
          ]),
        ],
      },
      { operation: Operation.ReKey, payload: [] },
      { operation: Operation.ReKey, payload: [] },
    ]);
    const uids = res.batchItems.map((b) => textOf(find(payloadOf(b), Tag.UniqueIdentifier)));
    expect(res.batchItems.map((b) => b.resultStatus)).toEqual([0, 0, 0]);
    expect(new Set(uids).size).toBe(3);
    const last = await attributes(s, uids[2]!);
    expect(links(last)).toEqual([[LinkType.ReplacedObjectLink, uids[1]]]);
    expect(numberOf(one(last, Tag.CryptographicLength))).toBe(256);
  });

  it.each(['1.4', '2.1'] as KmipVersion[])(
    'refuses what cannot be re-keyed at %s',
    async (version) => {
      const s = testServer();
      failedWith(await op(s, Operation.ReKey, [uidItem('nope')], { version }), notFound(version));
      const bobs = await createKey(s, [], 'bob');
      failedWith(await op(s, Operation.ReKey, [uidItem(bobs)], { version }), notFound(version));
      const gone = await createKey(s);
      ok(
        await op(s, Operation.Revoke, [
          uidItem(gone),
          item.struct(Tag.RevocationReason, [
            item.enum(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation),
          ]),
        ]),
      );
      ok(await op(s, Operation.Destroy, [uidItem(gone)]));
      failedWith(await op(s, Operation.ReKey, [uidItem(gone)], { version }), wrongState(version));
      const secret = ok(
        await op(s, Operation.Register, [
          item.enum(Tag.ObjectType, ObjectType.SecretData),
          item.struct(Tag.Attributes, []),
          item.struct(Tag.SecretData, [
            item.enum(Tag.SecretDataType, 1),
            item.struct(Tag.KeyBlock, [
              item.enum(Tag.KeyFormatType, 2),
              item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.from('secret'))]),
            ]),
          ]),
        ]),
      );
      failedWith(
        await op(s, Operation.ReKey, [find(secret, Tag.UniqueIdentifier)!], { version }),
        version.startsWith('2') ? ResultReason.InvalidObjectType : ResultReason.InvalidField,
      );
    },
  );
});

describe('Re-key Key Pair (KMIP 2.1 §6.1.41)', () => {
  it('replaces both halves with a pair of the same curve, linked to each other and to the old pair', async () => {
    const s = testServer();
    const created = ok(
      await op(s, Operation.CreateKeyPair, [
        item.struct(Tag.CommonAttributes, [
          item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
          item.int(Tag.CryptographicLength, 384),
          item.struct(Tag.CryptographicDomainParameters, [
            item.enum(Tag.RecommendedCurve, RecommendedCurve.P_384),
          ]),
        ]),
        item.struct(Tag.PrivateKeyAttributes, [
          name('signer'),
          item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Sign),
        ]),
        item.struct(Tag.PublicKeyAttributes, [
          item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Verify),
        ]),
      ]),
    );
    const oldPriv = textOf(find(created, Tag.PrivateKeyUniqueIdentifier))!;
    const oldPub = textOf(find(created, Tag.PublicKeyUniqueIdentifier))!;
    const p = ok(
      await op(s, Operation.ReKeyKeyPair, [
        item.text(Tag.PrivateKeyUniqueIdentifier, oldPriv),
        item.struct(Tag.PublicKeyAttributes, [name('verifier')]),
      ]),
    );
    const newPriv = textOf(find(p, Tag.PrivateKeyUniqueIdentifier))!;
    const newPub = textOf(find(p, Tag.PublicKeyUniqueIdentifier))!;
    const priv = await attributes(s, newPriv);
    const pub = await attributes(s, newPub);
    expect(numberOf(one(priv, Tag.CryptographicLength))).toBe(384);
    expect(numberOf(one(pub, Tag.CryptographicUsageMask))).toBe(CryptographicUsageMask.Verify);
    expect(names(priv)).toEqual(['signer']);
    expect(names(pub)).toEqual(['verifier']);
    expect(links(priv)).toEqual([
      [LinkType.ReplacedObjectLink, oldPriv],
      [LinkType.PublicKeyLink, newPub],
    ]);
    expect(links(pub)).toEqual([
      [LinkType.ReplacedObjectLink, oldPub],
      [LinkType.PrivateKeyLink, newPriv],
    ]);
    const was = await attributes(s, oldPriv);
    expect(names(was)).toEqual([]);
    expect(links(was)).toContainEqual([LinkType.ReplacementObjectLink, newPriv]);
    expect(links(await attributes(s, oldPub))).toContainEqual([
      LinkType.ReplacementObjectLink,
      newPub,
    ]);
  });

  it('refuses a symmetric key and another client’s key', async () => {
    const s = testServer();
    const key = await createKey(s);
    failedWith(
      await op(s, Operation.ReKeyKeyPair, [item.text(Tag.PrivateKeyUniqueIdentifier, key)]),
      ResultReason.InvalidObjectType,
    );
    failedWith(
      await op(s, Operation.ReKeyKeyPair, [item.text(Tag.PrivateKeyUniqueIdentifier, key)], {
        identity: 'bob',
      }),
      notFound(),
    );
  });
});

describe('Archive and Recover (KMIP 2.1 §6.1.3, §6.1.42)', () => {
  it('records the Archive Date, refuses use while archived with Object Archived, and recovers', async () => {
    const s = testServer();
    const uid = await createKey(s, [usageLimits(10n)]);
    const before = await attributes(s, uid);
    ok(await op(s, Operation.Archive, [uidItem(uid)]));
    const archived = await attributes(s, uid);
    expect(dateOf(one(archived, Tag.ArchiveDate))).toBeGreaterThanOrEqual(now() - 5n);
    expect(numberOf(one(archived, Tag.State))).toBe(numberOf(one(before, Tag.State)));
    for (const [operation, payload] of [
      [Operation.Archive, [uidItem(uid)]],
      [Operation.Check, [uidItem(uid)]],
      [Operation.ObtainLease, [uidItem(uid)]],
      [Operation.ReKey, [uidItem(uid)]],
      [Operation.GetUsageAllocation, [uidItem(uid), item.long(Tag.UsageLimitsCount, 1n)]],
      [Operation.CreateSplitKey, splitRequest(uid, 3, 2)],
    ] as Array<[number, TtlvItem[]]>) {
      failedWith(await op(s, operation, payload), ResultReason.ObjectArchived);
    }
    ok(await op(s, Operation.Recover, [uidItem(uid)]));
    expect(one(await attributes(s, uid), Tag.ArchiveDate)).toBeUndefined();
    ok(await op(s, Operation.ObtainLease, [uidItem(uid)]));
    // Recovering an on-line object changes nothing.
    ok(await op(s, Operation.Recover, [uidItem(uid)]));
  });

  it('reports other clients’ and unknown objects as not found', async () => {
    const s = testServer();
    const uid = await createKey(s);
    failedWith(await op(s, Operation.Archive, [uidItem(uid)], { identity: 'bob' }), notFound());
    failedWith(await op(s, Operation.Recover, [uidItem('nope')]), notFound());
  });
});

describe('Obtain Lease (KMIP 2.1 §6.1.35)', () => {
  it('grants the default lease with the object’s Last Change Date', async () => {
    const s = testServer();
    const uid = await createKey(s);
    const p = ok(await op(s, Operation.ObtainLease, [uidItem(uid)], { version: '1.4' }));
    expect(p.map((i) => i.tag)).toEqual([Tag.UniqueIdentifier, Tag.LeaseTime, Tag.LastChangeDate]);
    expect(numberOf(find(p, Tag.LeaseTime))).toBe(3600);
    const a = await attributes(s, uid);
    expect(dateOf(find(p, Tag.LastChangeDate))).toBe(dateOf(one(a, Tag.LastChangeDate)));
  });

  it.each(['1.4', '2.1'] as KmipVersion[])(
    'refuses Pre-Active and destroyed objects at %s',
    async (version) => {
      const s = testServer();
      const uid = await createKey(s, [item.date(Tag.ActivationDate, now() + 3600n)]);
      failedWith(
        await op(s, Operation.ObtainLease, [uidItem(uid)], { version }),
        wrongState(version),
      );
      ok(await op(s, Operation.Destroy, [uidItem(uid)]));
      failedWith(
        await op(s, Operation.ObtainLease, [uidItem(uid)], { version }),
        wrongState(version),
      );
      failedWith(
        await op(s, Operation.ObtainLease, [uidItem(uid)], { version, identity: 'bob' }),
        notFound(version),
      );
    },
  );
});

describe('Get Usage Allocation (KMIP 2.1 §6.1.28)', () => {
  it('takes the allocation off the remaining Usage Limits', async () => {
    const s = testServer();
    const uid = await createKey(s, [usageLimits(10n)]);
    ok(
      await op(s, Operation.GetUsageAllocation, [
        uidItem(uid),
        item.long(Tag.UsageLimitsCount, 4n),
      ]),
    );
    const limits = one(await attributes(s, uid), Tag.UsageLimits);
    expect(childOf(limits, Tag.UsageLimitsTotal)?.value).toBe(10n);
    expect(childOf(limits, Tag.UsageLimitsCount)?.value).toBe(6n);
    failedWith(
      await op(s, Operation.GetUsageAllocation, [
        uidItem(uid),
        item.long(Tag.UsageLimitsCount, 7n),
      ]),
      ResultReason.UsageLimitExceeded,
    );
    failedWith(
      await op(
        s,
        Operation.GetUsageAllocation,
        [uidItem(uid), item.long(Tag.UsageLimitsCount, 7n)],
        {
          version: '1.4',
        },
      ),
      ResultReason.PermissionDenied,
    );
    ok(
      await op(s, Operation.GetUsageAllocation, [
        uidItem(uid),
        item.long(Tag.UsageLimitsCount, 6n),
      ]),
    );
    failedWith(
      await op(s, Operation.GetUsageAllocation, [
        uidItem(uid),
        item.long(Tag.UsageLimitsCount, 0n),
      ]),
      ResultReason.InvalidField,
    );
  });

  it('refuses objects without Usage Limits and objects that cannot protect now', async () => {
    const s = testServer();
    const plain = await createKey(s);
    const ask = (uid: string, version: KmipVersion = '2.1') =>
      op(s, Operation.GetUsageAllocation, [uidItem(uid), item.long(Tag.UsageLimitsCount, 1n)], {
        version,
      });
    failedWith(await ask(plain), ResultReason.PermissionDenied);
    failedWith(await ask(plain, '1.4'), ResultReason.IllegalOperation);
    const later = await createKey(s, [
      usageLimits(5n),
      item.date(Tag.ActivationDate, now() + 3600n),
    ]);
    failedWith(await ask(later), ResultReason.WrongKeyLifecycleState);
    const stopped = await createKey(s, [
      usageLimits(5n),
      item.date(Tag.ProtectStopDate, now() - 10n),
    ]);
    failedWith(await ask(stopped), ResultReason.WrongKeyLifecycleState);
    failedWith(await ask('nope'), notFound());
  });
});

describe('Check (KMIP 2.1 §6.1.6)', () => {
  it('passes a use the object allows and answers its identifier', async () => {
    const s = testServer();
    const uid = await createKey(s, [usageLimits(10n)]);
    const p = ok(
      await op(s, Operation.Check, [
        uidItem(uid),
        item.long(Tag.UsageLimitsCount, 10n),
        item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Encrypt),
        item.interval(Tag.LeaseTime, 3600),
      ]),
    );
    expect(p.map((i) => [i.tag, i.value])).toEqual([[Tag.UniqueIdentifier, uid]]);
    // Check does not consume anything.
    expect(
      childOf(one(await attributes(s, uid), Tag.UsageLimits), Tag.UsageLimitsCount),
    ).toBeUndefined();
  });

  it.each([
    ['2.1', [ResultReason.UsageLimitExceeded, ResultReason.IncompatibleCryptographicUsageMask]],
    ['1.4', [ResultReason.PermissionDenied, ResultReason.PermissionDenied]],
  ] as Array<[KmipVersion, number[]]>)(
    'names the failed check at %s',
    async (version, [usage, mask]) => {
      const s = testServer();
      const uid = await createKey(s, [usageLimits(10n)]);
      const check = (extra: TtlvItem[]) =>
        op(s, Operation.Check, [uidItem(uid), ...extra], { version });
      failedWith(await check([item.long(Tag.UsageLimitsCount, 11n)]), usage!);
      failedWith(
        await check([
          item.int(
            Tag.CryptographicUsageMask,
            CryptographicUsageMask.Encrypt | CryptographicUsageMask.Sign,
          ),
        ]),
        mask!,
      );
      failedWith(await check([item.interval(Tag.LeaseTime, 3601)]), ResultReason.PermissionDenied);
    },
  );

  it('empties the ID Placeholder when the check fails', async () => {
    const s = testServer();
    const uid = await createKey(s);
    const res = await s.send(
      '2.1',
      [
        {
          operation: Operation.Check,
          payload: [
            uidItem(uid),
            item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Sign),
          ],
        },
        { operation: Operation.GetAttributes, payload: [] },
      ],
      { batchErrorContinuationOption: BatchErrorContinuationOption.Continue },
    );
    expect(res.batchItems.map((b) => b.resultReason)).toEqual([
      ResultReason.IncompatibleCryptographicUsageMask,
      ResultReason.InvalidField,
    ]);
  });
});

function splitRequest(
  uid: string | undefined,
  parts: number,
  threshold: number,
  method: number = SplitKeyMethod.PolynomialSharingGF2_8,
) {
  return [
    item.enum(Tag.ObjectType, ObjectType.SplitKey),
    ...(uid === undefined ? [] : [uidItem(uid)]),
    item.int(Tag.SplitKeyParts, parts),
    item.int(Tag.SplitKeyThreshold, threshold),
    item.enum(Tag.SplitKeyMethod, method),
  ];
}

const joinRequest = (uids: string[], extra: TtlvItem[] = []) => [
  item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
  ...uids.map(uidItem),
  ...extra,
];

describe('Create and Join Split Key (KMIP 2.1 §6.1.10, §6.1.30)', () => {
  it('splits a key into parts any threshold of which join back to it', async () => {
    const s = testServer();
    const key = await createKey(s);
    const p = ok(await op(s, Operation.CreateSplitKey, splitRequest(key, 5, 3)));
    const parts = all(p, Tag.UniqueIdentifier).map((u) => textOf(u)!);
    expect(parts).toHaveLength(5);
    const joined = ok(
      await op(s, Operation.JoinSplitKey, joinRequest([parts[4]!, parts[0]!, parts[2]!])),
    );
    const uid = textOf(find(joined, Tag.UniqueIdentifier))!;
    expect(await keyMaterial(s, uid)).toBe(await keyMaterial(s, key));
    const a = await attributes(s, uid);
    expect(numberOf(one(a, Tag.CryptographicAlgorithm))).toBe(CryptographicAlgorithm.AES);
    expect(numberOf(one(a, Tag.CryptographicLength))).toBe(128);
    failedWith(
      await op(s, Operation.JoinSplitKey, joinRequest([parts[1]!, parts[3]!])),
      ResultReason.CryptographicFailure,
    );
  });

  it('generates and splits a new key by XOR when no key is named; the placeholder is part 1', async () => {
    const s = testServer();
    const res = await s.send('2.1', [
      {
        operation: Operation.CreateSplitKey,
        payload: [
          ...splitRequest(undefined, 3, 3, SplitKeyMethod.XOR),
          item.struct(Tag.Attributes, [
            item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
            item.int(Tag.CryptographicLength, 256),
          ]),
        ],
      },
      { operation: Operation.Get, payload: [] },
    ]);
    const parts = all(payloadOf(res.batchItems[0]), Tag.UniqueIdentifier).map((u) => textOf(u)!);
    const part = find(payloadOf(res.batchItems[1]), Tag.SplitKey);
    expect(textOf(find(payloadOf(res.batchItems[1]), Tag.UniqueIdentifier))).toBe(parts[0]);
    expect(numberOf(childOf(part, Tag.KeyPartIdentifier))).toBe(1);
    expect(numberOf(childOf(part, Tag.SplitKeyMethod))).toBe(SplitKeyMethod.XOR);
    failedWith(
      await op(s, Operation.JoinSplitKey, joinRequest(parts.slice(0, 2))),
      ResultReason.CryptographicFailure,
    );
    const joined = ok(await op(s, Operation.JoinSplitKey, joinRequest(parts)));
    expect(await keyMaterial(s, textOf(find(joined, Tag.UniqueIdentifier))!)).toHaveLength(64);
  });

  it('refuses impossible splits and joins of unrelated objects', async () => {
    const s = testServer();
    const key = await createKey(s);
    failedWith(
      await op(s, Operation.CreateSplitKey, splitRequest(key, 3, 4)),
      ResultReason.InvalidField,
    );
    failedWith(
      await op(s, Operation.CreateSplitKey, splitRequest(key, 3, 2, SplitKeyMethod.XOR)),
      ResultReason.InvalidField,
    );
    failedWith(
      await op(
        s,
        Operation.CreateSplitKey,
        splitRequest(key, 3, 2, SplitKeyMethod.PolynomialSharingGF2_16),
      ),
      ResultReason.FeatureNotSupported,
    );
    failedWith(
      await op(s, Operation.CreateSplitKey, splitRequest(key, 3, 2), { identity: 'bob' }),
      notFound(),
    );
    const a = all(
      ok(await op(s, Operation.CreateSplitKey, splitRequest(key, 3, 2))),
      Tag.UniqueIdentifier,
    );
    const b = all(
      ok(await op(s, Operation.CreateSplitKey, splitRequest(key, 4, 2))),
      Tag.UniqueIdentifier,
    );
    failedWith(
      await op(s, Operation.JoinSplitKey, joinRequest([textOf(a[0])!, textOf(b[1])!])),
      ResultReason.CryptographicFailure,
    );
    failedWith(
      await op(s, Operation.JoinSplitKey, joinRequest([textOf(a[0])!, key])),
      ResultReason.InvalidObjectType,
    );
    failedWith(
      await op(s, Operation.JoinSplitKey, joinRequest([textOf(a[0])!, textOf(a[1])!]), {
        identity: 'bob',
      }),
      notFound(),
    );
    failedWith(
      await op(
        s,
        Operation.JoinSplitKey,
        joinRequest(
          [textOf(a[0])!, textOf(a[1])!],
          [item.struct(Tag.Attributes, [item.int(Tag.CryptographicLength, 256)])],
        ),
      ),
      ResultReason.CryptographicFailure,
    );
  });
});

describe('Poll, Cancel and Ping', () => {
  const correlation = item.bytes(Tag.AsynchronousCorrelationValue, Buffer.from('0011', 'hex'));

  it('answers Poll of any correlation value as unknown: no operation runs asynchronously', async () => {
    const s = testServer();
    failedWith(
      await op(s, Operation.Poll, [correlation]),
      ResultReason.InvalidAsynchronousCorrelationValue,
    );
    failedWith(
      await op(s, Operation.Poll, [correlation], { version: '1.4' }),
      ResultReason.ItemNotFound,
    );
  });

  it('answers Cancel with Cancellation Result Unavailable', async () => {
    const s = testServer();
    const p = ok(await op(s, Operation.Cancel, [correlation], { version: '1.2' }));
    expect(p).toEqual([
      correlation,
      item.enum(Tag.CancellationResult, CancellationResult.Unavailable),
    ]);
  });

  it('answers Ping with an empty payload', async () => {
    const s = testServer();
    expect(ok(await op(s, Operation.Ping, []))).toEqual([]);
  });

  it('lists the operations in Query, each only in the versions that define it', async () => {
    const s = testServer();
    const listed = async (version: KmipVersion) =>
      all(
        ok(
          await op(
            s,
            Operation.Query,
            [item.enum(Tag.QueryFunction, QueryFunction.QueryOperations)],
            { version },
          ),
        ),
        Tag.Operation,
      ).map((o) => o.value);
    const v14 = await listed('1.4');
    for (const o of [
      Operation.ReKey,
      Operation.ReKeyKeyPair,
      Operation.Archive,
      Operation.Recover,
      Operation.ObtainLease,
      Operation.GetUsageAllocation,
      Operation.Check,
      Operation.CreateSplitKey,
      Operation.JoinSplitKey,
      Operation.Poll,
      Operation.Cancel,
    ]) {
      expect(v14).toContain(o);
    }
    expect(v14).not.toContain(Operation.Ping);
    expect(await listed('2.1')).toContain(Operation.Ping);
  });
});
