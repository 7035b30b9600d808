// Per-object grants (src/auth/access.ts, src/operations/grant.ts) through the message layer,
// on the SQLite store so that grants are shown to persist.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TypePolicies } from '../../src/auth/access.js';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { item, textOf } from '../../src/kmip/items.js';
import { GRANT_OPERATION, REVOKE_GRANT_OPERATION } from '../../src/operations/grant.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  ObjectType,
  Operation,
  RecommendedCurve,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import {
  find,
  payloadOf,
  readResponse,
  requestBytes,
  silentLog,
} from '../helpers/kmip-test-client.js';

let dir: string;
let store: SqliteStore;
const wrapper = new SoftwareKeyWrapper(Buffer.alloc(32, 7));

function layer(typePolicies?: TypePolicies) {
  return new MessageLayer({ store, wrapper, log: silentLog, admins: ['root'], typePolicies });
}

async function call(
  l: MessageLayer,
  who: string | { identity: string; groups: string[] },
  operation: number,
  payload: TtlvItem[],
) {
  const peer = typeof who === 'string' ? { identity: who } : who;
  const res = readResponse(await l.process(requestBytes('2.1', [{ operation, payload }]), peer));
  return res.batchItems[0]!;
}

const uid = (u: string) => item.text(Tag.UniqueIdentifier, u);
const ops = (...names: Array<keyof typeof Operation>) =>
  names.map((n) => item.enum(Tag.Operation, Operation[n]));
const grantTo = (u: string, to: string, ...names: Array<keyof typeof Operation>) => [
  uid(u),
  item.text(Tag.Username, to),
  ...ops(...names),
];

async function createKey(l: MessageLayer, owner: string, name: string): Promise<string> {
  const r = await call(l, owner, Operation.Create, [
    item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
    item.struct(Tag.Attributes, [
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      item.int(Tag.CryptographicLength, 128),
      item.struct(Tag.Name, [item.text(Tag.NameValue, name), item.enum(Tag.NameType, 1)]),
    ]),
  ]);
  expect(r.resultStatus).toBe(ResultStatus.Success);
  return textOf(find(payloadOf(r), Tag.UniqueIdentifier))!;
}

async function locate(l: MessageLayer, who: string | { identity: string; groups: string[] }) {
  const r = await call(l, who, Operation.Locate, []);
  expect(r.resultStatus).toBe(ResultStatus.Success);
  return payloadOf(r)
    .filter((i) => i.tag === Tag.UniqueIdentifier)
    .map((i) => textOf(i)!);
}

const status = (r: { resultStatus: number; resultReason?: number }) =>
  r.resultStatus === ResultStatus.Success ? 'Success' : r.resultReason;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmipd-grants-'));
  store = await openSqliteStore({ path: dir });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('grants', () => {
  it('let a principal run exactly the granted operations, until revoked', async () => {
    const l = layer();
    const key = await createKey(l, 'alice', 'g-1');
    expect(status(await call(l, 'bob', Operation.Get, [uid(key)]))).toBe(
      ResultReason.ObjectNotFound,
    );
    const granted = await call(l, 'alice', GRANT_OPERATION, grantTo(key, 'bob', 'Get'));
    expect(status(granted)).toBe('Success');
    expect(
      payloadOf(granted)
        .filter((i) => i.tag === Tag.Description)
        .map((i) => textOf(i)),
    ).toEqual(['user:bob Get']);
    expect(status(await call(l, 'bob', Operation.Get, [uid(key)]))).toBe('Success');
    expect(status(await call(l, 'bob', Operation.GetAttributes, [uid(key)]))).toBe(
      ResultReason.ObjectNotFound,
    );
    expect(await locate(l, 'bob')).not.toContain(key);

    // A grantee may not pass rights on; it learns only that it may not.
    expect(status(await call(l, 'bob', GRANT_OPERATION, grantTo(key, 'mallory', 'Get')))).toBe(
      ResultReason.PermissionDenied,
    );
    expect(status(await call(l, 'mallory', GRANT_OPERATION, grantTo(key, 'mallory', 'Get')))).toBe(
      ResultReason.ObjectNotFound,
    );

    const revoked = await call(l, 'alice', REVOKE_GRANT_OPERATION, [
      uid(key),
      item.text(Tag.Username, 'bob'),
    ]);
    expect(status(revoked)).toBe('Success');
    expect(status(await call(l, 'bob', Operation.Get, [uid(key)]))).toBe(
      ResultReason.ObjectNotFound,
    );
  });

  it('survive attribute changes, a reopened store, and stay invisible to clients', async () => {
    const l = layer();
    const key = await createKey(l, 'alice', 'g-2');
    await call(l, 'root', GRANT_OPERATION, grantTo(key, 'bob', 'Get', 'GetAttributes'));
    const added = await call(l, 'alice', Operation.AddAttribute, [
      uid(key),
      item.struct(Tag.NewAttribute, [item.text(Tag.ContactInformation, 'ops')]),
    ]);
    expect(status(added)).toBe('Success');
    await store.close();
    store = await openSqliteStore({ path: dir });
    const l2 = layer();
    const attrs = await call(l2, 'bob', Operation.GetAttributes, [uid(key)]);
    expect(status(attrs)).toBe('Success');
    expect(
      JSON.stringify(payloadOf(attrs), (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
    ).not.toContain('grant');
    const list = await call(l2, 'alice', Operation.GetAttributeList, [uid(key)]);
    expect(JSON.stringify(payloadOf(list))).not.toContain('grant');
  });

  it('to a group reach its members, and Locate lists granted objects in creation order', async () => {
    const l = layer();
    const a1 = await createKey(l, 'alice', 'g-3a');
    const own = await createKey(l, 'carol', 'g-3c');
    const a2 = await createKey(l, 'alice', 'g-3b');
    for (const k of [a1, a2]) {
      await call(l, 'alice', GRANT_OPERATION, grantTo(k, 'group:ops', 'Get', 'Locate'));
    }
    const carol = { identity: 'carol', groups: ['ops'] };
    expect(status(await call(l, carol, Operation.Get, [uid(a1)]))).toBe('Success');
    expect(status(await call(l, 'carol', Operation.Get, [uid(a1)]))).toBe(
      ResultReason.ObjectNotFound,
    );
    const found = await locate(l, carol);
    expect(found.filter((u) => [a1, own, a2].includes(u))).toEqual([a2, own, a1]);
    expect(await locate(l, 'carol')).not.toContain(a1);
  });

  it('follow a default policy per object type from the configuration', async () => {
    const l = layer(new Map([['PublicKey', new Set(['Get', 'Locate'])]]));
    const pair = await call(l, 'alice', Operation.CreateKeyPair, [
      item.struct(Tag.CommonAttributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
        item.struct(Tag.CryptographicDomainParameters, [
          item.enum(Tag.RecommendedCurve, RecommendedCurve.P_256),
        ]),
      ]),
    ]);
    const pub = textOf(find(payloadOf(pair), Tag.PublicKeyUniqueIdentifier))!;
    const priv = textOf(find(payloadOf(pair), Tag.PrivateKeyUniqueIdentifier))!;
    expect(status(await call(l, 'bob', Operation.Get, [uid(pub)]))).toBe('Success');
    expect(status(await call(l, 'bob', Operation.Get, [uid(priv)]))).toBe(
      ResultReason.ObjectNotFound,
    );
    expect(status(await call(l, 'bob', Operation.Destroy, [uid(pub)]))).toBe(
      ResultReason.ObjectNotFound,
    );
    const found = await locate(l, 'bob');
    expect(found).toContain(pub);
    expect(found).not.toContain(priv);
  });

  it('refuse an empty operation list and an unknown grantee form', async () => {
    const l = layer();
    const key = await createKey(l, 'alice', 'g-5');
    expect(
      status(await call(l, 'alice', GRANT_OPERATION, [uid(key), item.text(Tag.Username, 'bob')])),
    ).toBe(ResultReason.InvalidField);
    expect(status(await call(l, 'alice', GRANT_OPERATION, grantTo(key, 'group:', 'Get')))).toBe(
      ResultReason.InvalidField,
    );
  });
});
