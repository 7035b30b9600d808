// The PKCS#12 password rule on Register (src/objects/pkcs12-password.ts; KMIP 2.1 Result Reason
// Bad Password; TC-PKCS12-2-14, TC-PKCS12-2-20): a Key Block in PKCS#12 format needs exactly one
// PKCS#12 Password Link, to a Secret Data object, and that object Active.

import { describe, expect, it } from 'vitest';
import { item, textOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  SecretDataType,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, oneItemCalls, payloadOf, testServer } from '../helpers/kmip-test-client.js';

const s = testServer();

const { succeeded, register } = oneItemCalls(s);
const uidOf = (uid: string) => item.text(Tag.UniqueIdentifier, uid);

const aesKey = item.struct(Tag.SymmetricKey, [
  item.struct(Tag.KeyBlock, [
    item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
    item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.alloc(16, 1))]),
    item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    item.int(Tag.CryptographicLength, 128),
  ]),
]);

describe('PKCS#12 Register needs one Active Secret Data password', () => {
  const pkcs12Key = item.struct(Tag.PrivateKey, [
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, KeyFormatType.PKCS_12),
      item.bytes(Tag.KeyValue, Buffer.from('3003020103', 'hex')),
    ]),
  ]);
  const passwordLink = (uid: string) =>
    item.struct(Tag.Link, [
      item.enum(Tag.LinkType, LinkType.PKCS_12PasswordLink),
      item.text(Tag.LinkedObjectIdentifier, uid),
    ]);
  const password = item.struct(Tag.SecretData, [
    item.enum(Tag.SecretDataType, SecretDataType.Password),
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, KeyFormatType.Opaque),
      item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.from('password'))]),
    ]),
  ]);
  const newPassword = async () => {
    const res = await register('2.0', ObjectType.SecretData, password, []);
    return textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
  };
  const registerPkcs12 = (version: KmipVersion, links: TtlvItem[]) =>
    register(version, ObjectType.PrivateKey, pkcs12Key, links);

  it('a Pre-Active password: Permission Denied (1.4), Wrong Key Lifecycle State (2.x)', async () => {
    const uid = await newPassword();
    const v14 = await registerPkcs12('1.4', [passwordLink(uid)]);
    expect(v14.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(v14.resultReason).toBe(ResultReason.PermissionDenied);
    for (const version of ['2.0', '2.1'] as const) {
      const res = await registerPkcs12(version, [passwordLink(uid)]);
      expect(res.resultReason).toBe(ResultReason.WrongKeyLifecycleState);
    }
  });

  it('a password that is no longer Active is refused the same way', async () => {
    const uid = await newPassword();
    await succeeded('2.0', Operation.Activate, [uidOf(uid)]);
    await succeeded('2.0', Operation.Revoke, [
      uidOf(uid),
      item.struct(Tag.RevocationReason, [
        item.enum(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation),
      ]),
    ]);
    const res = await registerPkcs12('2.0', [passwordLink(uid)]);
    expect(res.resultReason).toBe(ResultReason.WrongKeyLifecycleState);
  });

  it('no PKCS#12 Password Link, or two: Bad Password (2.x), Invalid Field (1.4)', async () => {
    const a = await newPassword();
    const b = await newPassword();
    for (const links of [[], [passwordLink(a), passwordLink(b)]]) {
      expect((await registerPkcs12('2.0', links)).resultReason).toBe(ResultReason.BadPassword);
      expect((await registerPkcs12('1.4', links)).resultReason).toBe(ResultReason.InvalidField);
    }
  });

  it('a link to an object that is not Secret Data: Bad Password', async () => {
    const key = await succeeded('2.0', Operation.Register, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, []),
      aesKey,
    ]);
    await succeeded('2.0', Operation.Activate, [uidOf(key)]);
    const res = await registerPkcs12('2.0', [passwordLink(key)]);
    expect(res.resultReason).toBe(ResultReason.BadPassword);
  });

  it('an Active password lets the rule pass', async () => {
    const uid = await newPassword();
    await succeeded('2.0', Operation.Activate, [uidOf(uid)]);
    const res = await registerPkcs12('2.0', [passwordLink(uid)]);
    expect(res.resultReason).not.toBe(ResultReason.WrongKeyLifecycleState);
    expect(res.resultReason).not.toBe(ResultReason.BadPassword);
  });
});
