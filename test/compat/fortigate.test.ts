// FortiGate as a KMIP 1.0 client: a Username and Password Credential in every request header,
// keys created under a Name, and Locate by that Name sent either as 1.0 servers commonly read
// it (the Attribute directly in the payload) or wrapped in a Template-Attribute, as some
// 1.0 clients send Locate filters. Both forms must find the same object.

import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CredentialType,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { readResponse, requestBytes, testServer } from '../helpers/kmip-test-client.js';
import { attr, attrValue, memorySession, nameValue, uidItem, uidOf } from './session.js';

const credential = (username: string, password: string): TtlvItem =>
  item.struct(Tag.Authentication, [
    item.struct(Tag.Credential, [
      item.enum(Tag.CredentialType, CredentialType.UsernameAndPassword),
      item.struct(Tag.CredentialValue, [
        item.text(Tag.Username, username),
        item.text(Tag.Password, password),
      ]),
    ]),
  ]);

const uids = (payload: TtlvItem[]) =>
  payload.filter((i) => i.tag === Tag.UniqueIdentifier).map(textOf);

describe('FortiGate (KMIP 1.0)', () => {
  it('creates under a credential and locates by Name in both 1.0 forms', async () => {
    const server = testServer({
      verifyCredential: (u, p) => u === 'fortigate' && p === 'fg-secret',
    });
    const s = memorySession(
      '1.0',
      { authentication: credential('fortigate', 'fg-secret') },
      server,
    );
    const keyName = 'FGT60F-disk-key';

    const created = await s.ok(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES)),
        attr('Cryptographic Length', item.int(0, 256)),
        attr(
          'Cryptographic Usage Mask',
          item.int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
        ),
        attr('Name', nameValue(keyName)),
      ]),
    ]);
    const uid = uidOf(created);
    await s.ok(Operation.Activate, [uidItem(uid)]);
    // A second key under another name, which neither Locate may return.
    await s.ok(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES)),
        attr('Cryptographic Length', item.int(0, 128)),
        attr('Cryptographic Usage Mask', item.int(0, CryptographicUsageMask.Encrypt)),
        attr('Name', nameValue('another-key')),
      ]),
    ]);

    const direct = await s.ok(Operation.Locate, [attr('Name', nameValue(keyName))]);
    expect(uids(direct)).toEqual([uid]);

    const wrapped = await s.ok(Operation.Locate, [
      item.struct(Tag.TemplateAttribute, [attr('Name', nameValue(keyName))]),
    ]);
    expect(uids(wrapped)).toEqual([uid]);

    const wrappedWithType = await s.ok(Operation.Locate, [
      item.struct(Tag.TemplateAttribute, [
        attr('Object Type', item.enum(0, ObjectType.SymmetricKey)),
        attr('Name', nameValue(keyName)),
      ]),
    ]);
    expect(uids(wrappedWithType)).toEqual([uid]);

    const none = await s.ok(Operation.Locate, [
      item.struct(Tag.TemplateAttribute, [attr('Name', nameValue('no-such-key'))]),
    ]);
    expect(uids(none)).toEqual([]);

    const got = await s.ok(Operation.Get, [uidItem(uid)]);
    const block = childOf(
      got.find((i) => i.tag === Tag.SymmetricKey),
      Tag.KeyBlock,
    );
    expect(bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial))).toHaveLength(32);
    const state = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'State'),
      item.text(Tag.AttributeName, 'Name'),
    ]);
    expect(numberOf(attrValue(state, 'State'))).toBe(State.Active);
    expect(textOf(childOf(attrValue(state, 'Name'), Tag.NameValue))).toBe(keyName);
  });

  it('is refused with Authentication Not Successful under a wrong password', async () => {
    const server = testServer({
      verifyCredential: (u, p) => u === 'fortigate' && p === 'fg-secret',
    });
    const res = readResponse(
      await server.raw(
        requestBytes(
          '1.0',
          [
            {
              operation: Operation.Locate,
              payload: [attr('Name', nameValue('x'))],
              id: Buffer.from('01', 'hex'),
            },
          ],
          { authentication: credential('fortigate', 'wrong') },
        ),
      ),
    );
    expect(res.header.protocolVersion).toEqual({ major: 1, minor: 0 });
    expect(res.batchItems).toHaveLength(1);
    expect(res.batchItems[0]!.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(res.batchItems[0]!.resultReason).toBe(ResultReason.AuthenticationNotSuccessful);
  });
});
