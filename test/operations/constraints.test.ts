// KMIP 2.1 Set Constraints and Get Constraints, and Constraint Violation on new objects, with
// the matching rule of src/objects/constraints.ts: an object must match one of the constraints
// naming its Object Type (its Object Group among theirs when they give some, every listed
// attribute equal); types no constraint names are free. The list lives in the store: it
// survives a reopen and binds every server on the same store. TC-MD-24-21 is the OASIS case.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { item } from '../../src/kmip/items.js';
import { MAX_CONSTRAINT_ENTRIES, MAX_CONSTRAINTS } from '../../src/objects/constraints.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';
import { encodeTtlv } from '../../src/ttlv/binary.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  BatchErrorContinuationOption,
  CryptographicAlgorithm,
  KeyFormatType,
  ObjectType,
  Operation,
  QueryFunction,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, type TestServer, testServer } from '../helpers/kmip-test-client.js';

const ADMIN = 'admin';

function constraint(opts: {
  types: number[];
  groups?: string[];
  attributes?: TtlvItem[];
}): TtlvItem {
  const children: TtlvItem[] = [
    item.struct(
      Tag.ObjectTypes,
      opts.types.map((t) => item.enum(Tag.ObjectType, t)),
    ),
  ];
  if (opts.groups !== undefined) {
    children.push(
      item.struct(
        Tag.ObjectGroups,
        opts.groups.map((g) => item.text(Tag.ObjectGroup, g)),
      ),
    );
  }
  if (opts.attributes !== undefined) children.push(item.struct(Tag.Attributes, opts.attributes));
  return item.struct(Tag.Constraint, children);
}

const aes = (bits: number) => [
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
  item.int(Tag.CryptographicLength, bits),
];

/** The two constraints of TC-MD-24-21: AES-256 in Group1, or AES-192 in any group. */
const TC_MD_24 = item.struct(Tag.Constraints, [
  constraint({ types: [ObjectType.SymmetricKey], groups: ['Group1'], attributes: aes(256) }),
  constraint({ types: [ObjectType.SymmetricKey], attributes: aes(192) }),
]);

async function call(
  s: TestServer,
  operation: number,
  payload: TtlvItem[],
  opts: { identity?: string; version?: KmipVersion } = {},
) {
  const res = await s.send(opts.version ?? '2.1', [{ operation, payload }], {
    identity: opts.identity ?? ADMIN,
  });
  return res.batchItems[0]!;
}

const setConstraints = (s: TestServer, constraints: TtlvItem | undefined, identity = ADMIN) =>
  call(s, Operation.SetConstraints, constraints === undefined ? [] : [constraints], { identity });

async function getConstraints(s: TestServer, identity = ADMIN): Promise<TtlvItem | undefined> {
  const res = await call(s, Operation.GetConstraints, [], { identity });
  expect(res.resultStatus).toBe(ResultStatus.Success);
  return find(payloadOf(res), Tag.Constraints);
}

function createKey(s: TestServer, attributes: TtlvItem[], identity = 'alice') {
  return call(
    s,
    Operation.Create,
    [item.enum(Tag.ObjectType, ObjectType.SymmetricKey), item.struct(Tag.Attributes, attributes)],
    { identity },
  );
}

const bytes = (i: TtlvItem | undefined) => (i === undefined ? undefined : encodeTtlv(i));

describe('Set Constraints and Get Constraints', () => {
  it('Get Constraints answers the constraints as they were set (TC-MD-24-21)', async () => {
    const s = testServer({ admins: [ADMIN] });
    expect(await getConstraints(s)).toBeUndefined();
    const set = await setConstraints(s, TC_MD_24);
    expect(set.resultStatus).toBe(ResultStatus.Success);
    expect(bytes(await getConstraints(s))).toEqual(bytes(TC_MD_24));
  });

  it('a second Set Constraints replaces the first; an empty payload removes them', async () => {
    const s = testServer({ admins: [ADMIN] });
    await setConstraints(s, TC_MD_24);
    const only = item.struct(Tag.Constraints, [
      constraint({ types: [ObjectType.SecretData], attributes: aes(128).slice(1) }),
    ]);
    expect((await setConstraints(s, only)).resultStatus).toBe(ResultStatus.Success);
    expect(bytes(await getConstraints(s))).toEqual(bytes(only));

    expect((await setConstraints(s, undefined)).resultStatus).toBe(ResultStatus.Success);
    expect(await getConstraints(s)).toBeUndefined();
    expect((await createKey(s, aes(128))).resultStatus).toBe(ResultStatus.Success);
  });

  it('only an administrator may set them; anyone may read them', async () => {
    const s = testServer({ admins: [ADMIN] });
    await setConstraints(s, TC_MD_24);
    const res = await setConstraints(s, undefined, 'alice');
    expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(res.resultReason).toBe(ResultReason.PermissionDenied);
    expect(bytes(await getConstraints(s, 'alice'))).toEqual(bytes(TC_MD_24));
  });

  it('are KMIP 2.1 operations: earlier versions get Operation Not Supported', async () => {
    const s = testServer({ admins: [ADMIN] });
    for (const version of ['1.4', '2.0'] as const) {
      for (const [operation, payload] of [
        [Operation.SetConstraints, [TC_MD_24]],
        [Operation.GetConstraints, []],
      ] as const) {
        const res = await call(s, operation, [...payload], { version });
        expect(res.resultReason).toBe(ResultReason.OperationNotSupported);
      }
    }
    expect(await getConstraints(s)).toBeUndefined();
  });

  it('Query Operations lists them at 2.1 only', async () => {
    const s = testServer();
    const ops = async (version: KmipVersion) =>
      payloadOf(
        await call(
          s,
          Operation.Query,
          [item.enum(Tag.QueryFunction, QueryFunction.QueryOperations)],
          { version },
        ),
      )
        .filter((i) => i.tag === Tag.Operation)
        .map((i) => i.value);
    expect(await ops('2.1')).toEqual(
      expect.arrayContaining([Operation.SetConstraints, Operation.GetConstraints]),
    );
    expect(await ops('2.0')).not.toContain(Operation.SetConstraints);
    expect(await ops('2.0')).not.toContain(Operation.GetConstraints);
  });

  it('refuses a Constraint without Object Types, and lists over the limits', async () => {
    const s = testServer({ admins: [ADMIN] });
    const noTypes = item.struct(Tag.Constraints, [
      item.struct(Tag.Constraint, [item.struct(Tag.Attributes, aes(256))]),
    ]);
    const emptyTypes = item.struct(Tag.Constraints, [constraint({ types: [] })]);
    const tooMany = item.struct(
      Tag.Constraints,
      Array.from({ length: MAX_CONSTRAINTS + 1 }, () =>
        constraint({ types: [ObjectType.SymmetricKey] }),
      ),
    );
    const tooWide = item.struct(Tag.Constraints, [
      constraint({
        types: [ObjectType.SymmetricKey],
        attributes: Array.from({ length: MAX_CONSTRAINT_ENTRIES + 1 }, (_, i) =>
          item.text(Tag.ObjectGroup, `g${i}`),
        ),
      }),
    ]);
    const unknownType = item.struct(Tag.Constraints, [constraint({ types: [0x7fff] })]);
    for (const bad of [noTypes, emptyTypes, tooMany, tooWide, unknownType]) {
      const res = await setConstraints(s, bad);
      expect(res.resultReason).toBe(ResultReason.InvalidField);
    }
    const atLimit = item.struct(
      Tag.Constraints,
      Array.from({ length: MAX_CONSTRAINTS }, () =>
        constraint({ types: [ObjectType.SymmetricKey] }),
      ),
    );
    expect((await setConstraints(s, atLimit)).resultStatus).toBe(ResultStatus.Success);
  });

  it('Batch Error Continuation Option Undo puts the previous constraints back', async () => {
    const s = testServer({ admins: [ADMIN] });
    await setConstraints(s, TC_MD_24);
    const res = await s.send(
      '2.1',
      [
        { operation: Operation.SetConstraints, payload: [] },
        { operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, 'missing')] },
      ],
      { identity: ADMIN, batchErrorContinuationOption: BatchErrorContinuationOption.Undo },
    );
    expect(res.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationUndone);
    expect(bytes(await getConstraints(s))).toEqual(bytes(TC_MD_24));
  });
});

describe('Constraint Violation', () => {
  async function constrained() {
    const s = testServer({ admins: [ADMIN] });
    expect((await setConstraints(s, TC_MD_24)).resultStatus).toBe(ResultStatus.Success);
    return s;
  }

  it('refuses a new object that matches none of the constraints of its type', async () => {
    const s = await constrained();
    for (const attributes of [
      aes(256), // AES-256 outside Group1
      [...aes(256), item.text(Tag.ObjectGroup, 'Group2')],
      aes(128),
    ]) {
      const res = await createKey(s, attributes);
      expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
      expect(res.resultReason).toBe(ResultReason.ConstraintViolation);
    }
    expect(await s.store.count()).toBe(0);
  });

  it('accepts a new object that matches one of them', async () => {
    const s = await constrained();
    const inGroup = await createKey(s, [...aes(256), item.text(Tag.ObjectGroup, 'Group1')]);
    expect(inGroup.resultStatus).toBe(ResultStatus.Success);
    const anyGroup = await createKey(s, aes(192));
    expect(anyGroup.resultStatus).toBe(ResultStatus.Success);
    expect(await s.store.count()).toBe(2);
  });

  it('refuses an attribute edit that takes an object out of every constraint', async () => {
    const s = testServer({ admins: [ADMIN] });
    const early = await createKey(s, aes(128)); // made before the constraints
    expect((await setConstraints(s, TC_MD_24)).resultStatus).toBe(ResultStatus.Success);
    const made = await createKey(s, [...aes(256), item.text(Tag.ObjectGroup, 'Group1')]);
    const uid = (r: typeof made) => find(payloadOf(r), Tag.UniqueIdentifier)!;
    const edit = (operation: number, target: typeof made, payload: TtlvItem[]) =>
      call(s, operation, [uid(target), ...payload], { identity: 'alice' });
    const group = (g: string) => item.text(Tag.ObjectGroup, g);

    const moved = await edit(Operation.ModifyAttribute, made, [
      item.struct(Tag.CurrentAttribute, [group('Group1')]),
      item.struct(Tag.NewAttribute, [group('Group2')]),
    ]);
    expect(moved.resultReason).toBe(ResultReason.ConstraintViolation);
    const dropped = await edit(Operation.DeleteAttribute, made, [
      item.struct(Tag.CurrentAttribute, [group('Group1')]),
    ]);
    expect(dropped.resultReason).toBe(ResultReason.ConstraintViolation);
    // Still in Group1: the refused edits changed nothing.
    const attrs = await edit(Operation.GetAttributes, made, [
      item.enum(Tag.AttributeReference, Tag.ObjectGroup),
    ]);
    const kept = find(payloadOf(attrs), Tag.Attributes)!.value as TtlvItem[];
    expect(kept.filter((a) => a.tag === Tag.ObjectGroup).map((a) => a.value)).toEqual(['Group1']);

    // Edits that keep it in a constraint go through, and so do edits of an object that
    // matched none before.
    const second = await edit(Operation.AddAttribute, made, [
      item.struct(Tag.NewAttribute, [group('Group2')]),
    ]);
    expect(second.resultStatus).toBe(ResultStatus.Success);
    const old = await edit(Operation.AddAttribute, early, [
      item.struct(Tag.NewAttribute, [group('Group3')]),
    ]);
    expect(old.resultStatus).toBe(ResultStatus.Success);
  });

  it('holds administrators to them too', async () => {
    const s = await constrained();
    const res = await createKey(s, aes(128), ADMIN);
    expect(res.resultReason).toBe(ResultReason.ConstraintViolation);
  });

  it('leaves objects of types no constraint names alone', async () => {
    const s = await constrained();
    const secret = await call(
      s,
      Operation.Create,
      [
        item.enum(Tag.ObjectType, ObjectType.SecretData),
        item.struct(Tag.Attributes, [item.int(Tag.CryptographicLength, 256)]),
      ],
      { identity: 'alice' },
    );
    expect(secret.resultStatus).toBe(ResultStatus.Success);
  });

  it('applies to Register, with the attributes the server reads from the key', async () => {
    const s = await constrained();
    const register = (bits: number) =>
      call(
        s,
        Operation.Register,
        [
          item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
          item.struct(Tag.Attributes, []),
          item.struct(Tag.SymmetricKey, [
            item.struct(Tag.KeyBlock, [
              item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
              item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.alloc(bits / 8, 1))]),
              item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
              item.int(Tag.CryptographicLength, bits),
            ]),
          ]),
        ],
        { identity: 'alice' },
      );
    expect((await register(128)).resultReason).toBe(ResultReason.ConstraintViolation);
    expect((await register(192)).resultStatus).toBe(ResultStatus.Success);
    expect(await s.store.count()).toBe(1);
  });

  it('checks both halves of a key pair before storing either', async () => {
    const s = testServer({ admins: [ADMIN] });
    const rsa = item.struct(Tag.CommonAttributes, [
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
      item.int(Tag.CryptographicLength, 2048),
    ]);
    // Private keys are free; public keys must be 4096-bit RSA.
    await setConstraints(
      s,
      item.struct(Tag.Constraints, [
        constraint({
          types: [ObjectType.PublicKey],
          attributes: [
            item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
            item.int(Tag.CryptographicLength, 4096),
          ],
        }),
      ]),
    );
    const refused = await call(s, Operation.CreateKeyPair, [rsa], { identity: 'alice' });
    expect(refused.resultReason).toBe(ResultReason.ConstraintViolation);
    expect(await s.store.count()).toBe(0);

    await setConstraints(
      s,
      item.struct(Tag.Constraints, [
        constraint({
          types: [ObjectType.PublicKey, ObjectType.PrivateKey],
          attributes: [item.int(Tag.CryptographicLength, 2048)],
        }),
      ]),
    );
    const made = await call(s, Operation.CreateKeyPair, [rsa], { identity: 'alice' });
    expect(made.resultStatus).toBe(ResultStatus.Success);
    expect(await s.store.count()).toBe(2);
  });
});

describe('constraints in a SQLite store', () => {
  let dir = '';
  const open: SqliteStore[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  async function server() {
    const store = await openSqliteStore({ path: dir });
    open.push(store);
    return testServer({ store, admins: [ADMIN] });
  }

  it('survive closing and reopening the store', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmipd-constraints-'));
    const first = await server();
    await setConstraints(first, TC_MD_24);
    await open.pop()!.close();

    const second = await server();
    expect(bytes(await getConstraints(second))).toEqual(bytes(TC_MD_24));
    expect((await createKey(second, aes(128))).resultReason).toBe(ResultReason.ConstraintViolation);
  });

  it('bind every server on the same store, as soon as one sets them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmipd-constraints-'));
    const a = await server();
    const b = await server();
    expect((await createKey(b, aes(128))).resultStatus).toBe(ResultStatus.Success);
    await setConstraints(a, TC_MD_24);
    expect((await createKey(b, aes(128))).resultReason).toBe(ResultReason.ConstraintViolation);
    await setConstraints(a, undefined);
    expect(await getConstraints(b)).toBeUndefined();
    expect((await createKey(b, aes(128))).resultStatus).toBe(ResultStatus.Success);
  });
});
