// Objects of several owners made through the message layer, and a comparison of two stores
// object by object: the stored record (owner, state, revision, creation time, attribute
// bytes, index) and what Get Attributes and Get answer each owner.

import { expect } from 'vitest';
import type { KeyWrapper } from '../../src/crypto/key-wrapper.js';
import { item, textOf } from '../../src/kmip/items.js';
import type { ObjectStore } from '../../src/store/object-store.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  ObjectType,
  Operation,
  ResultStatus,
  SecretDataType,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { find, payloadOf, silentLog, testServer } from '../helpers/kmip-test-client.js';

export const OWNERS = ['alice', 'bob'];

function serverOn(store: ObjectStore, wrapper: KeyWrapper) {
  return testServer({ store, wrapper, log: silentLog });
}

async function ok(
  s: ReturnType<typeof serverOn>,
  identity: string,
  operation: number,
  payload: Parameters<ReturnType<typeof serverOn>['send']>[1][number]['payload'],
) {
  const r = await s.send('2.1', [{ operation, payload }], { identity });
  const b = r.batchItems[0]!;
  expect(b.resultStatus, b.resultMessage).toBe(ResultStatus.Success);
  return payloadOf(b);
}

/** Fills a store: per owner an AES key with a name, an RSA pair, secret data, an edited
 * key (revision > 1) and a destroyed key. Answers the uids made. */
export async function populate(store: ObjectStore, wrapper: KeyWrapper): Promise<string[]> {
  const s = serverOn(store, wrapper);
  const uids: string[] = [];
  for (const owner of OWNERS) {
    const aes = [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 256),
        item.int(
          Tag.CryptographicUsageMask,
          CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt,
        ),
        item.struct(Tag.Name, [
          item.text(Tag.NameValue, `${owner}-key`),
          item.enum(Tag.NameType, 1),
        ]),
      ]),
    ];
    const key = textOf(find(await ok(s, owner, Operation.Create, aes), Tag.UniqueIdentifier))!;
    uids.push(key);
    const pair = await ok(s, owner, Operation.CreateKeyPair, [
      item.struct(Tag.CommonAttributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
        item.int(Tag.CryptographicLength, 2048),
      ]),
    ]);
    uids.push(textOf(find(pair, Tag.PrivateKeyUniqueIdentifier))!);
    uids.push(textOf(find(pair, Tag.PublicKeyUniqueIdentifier))!);
    const secret = await ok(s, owner, Operation.Register, [
      item.enum(Tag.ObjectType, ObjectType.SecretData),
      item.struct(Tag.Attributes, []),
      item.struct(Tag.SecretData, [
        item.enum(Tag.SecretDataType, SecretDataType.Password),
        item.struct(Tag.KeyBlock, [
          item.enum(Tag.KeyFormatType, KeyFormatType.Opaque),
          item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.from(`pw-${owner}`))]),
        ]),
      ]),
    ]);
    uids.push(textOf(find(secret, Tag.UniqueIdentifier))!);
    // Three edits: revision 4, with a custom attribute and an activation.
    await ok(s, owner, Operation.AddAttribute, [
      item.text(Tag.UniqueIdentifier, key),
      item.struct(Tag.NewAttribute, [
        item.struct(Tag.Attribute, [
          item.text(Tag.VendorIdentification, 'x'),
          item.text(Tag.AttributeName, 'backup-test'),
          item.text(Tag.AttributeValue, owner),
        ]),
      ]),
    ]);
    await ok(s, owner, Operation.Activate, [item.text(Tag.UniqueIdentifier, key)]);
    const doomed = textOf(find(await ok(s, owner, Operation.Create, aes), Tag.UniqueIdentifier))!;
    await ok(s, owner, Operation.Destroy, [item.text(Tag.UniqueIdentifier, doomed)]);
    uids.push(doomed);
  }
  return uids;
}

/** Asserts both stores hold the same objects, and both servers answer them alike. */
export async function expectSameObjects(
  a: { store: ObjectStore; wrapper: KeyWrapper },
  b: { store: ObjectStore; wrapper: KeyWrapper },
  opts: { sameOrder?: boolean } = {},
): Promise<number> {
  const uids = await a.store.locate({ filters: [] });
  const other = await b.store.locate({ filters: [] });
  if (opts.sameOrder === false) expect([...other].sort()).toEqual([...uids].sort());
  else expect(other).toEqual(uids);
  const sa = serverOn(a.store, a.wrapper);
  const sb = serverOn(b.store, b.wrapper);
  for (const uid of uids) {
    const x = (await a.store.get(uid))!;
    const y = (await b.store.get(uid))!;
    expect({ ...y, material: null }, uid).toEqual({ ...x, material: null });
    expect(y.material === null, uid).toBe(x.material === null);
    if (x.material !== null) expect(y.material!.kekId).not.toBe(x.material.kekId);
    for (const operation of [Operation.GetAttributes, Operation.Get]) {
      const req = [{ operation, payload: [item.text(Tag.UniqueIdentifier, uid)] }];
      const ra = await sa.send('2.1', req, { identity: x.owner });
      const rb = await sb.send('2.1', req, { identity: x.owner });
      expect(rb.batchItems, `${uid} operation ${operation}`).toEqual(ra.batchItems);
      if (operation === Operation.Get && x.material !== null) {
        expect(ra.batchItems[0]!.resultStatus).toBe(ResultStatus.Success);
      }
    }
    // Another owner still cannot see it.
    const other = OWNERS.find((o) => o !== x.owner)!;
    const hidden = await sb.send(
      '2.1',
      [{ operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, uid)] }],
      { identity: other },
    );
    expect(hidden.batchItems[0]!.resultStatus).toBe(ResultStatus.OperationFailed);
  }
  return uids.length;
}
