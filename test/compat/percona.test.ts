// Percona Server (keyring_kmip / component_keyring_kmip) and Percona XtraBackup through
// libkmip: keys registered (not created) as Symmetric Keys and Secret Data, each with a Name
// and an Object Group naming the keyring, found again by Locate on the Object Group, and
// removed with Revoke then Destroy.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  SecretDataType,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { attr, attrValue, memorySession, nameValue, uidItem, uidOf } from './session.js';

const keyBlock = (material: Uint8Array, alg?: number, len?: number): TtlvItem =>
  item.struct(Tag.KeyBlock, [
    item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
    item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, material)]),
    ...(alg === undefined ? [] : [item.enum(Tag.CryptographicAlgorithm, alg)]),
    ...(len === undefined ? [] : [item.int(Tag.CryptographicLength, len)]),
  ]);

const uids = (payload: TtlvItem[]) =>
  payload.filter((i) => i.tag === Tag.UniqueIdentifier).map(textOf);

describe('Percona keyring (KMIP 1.4)', () => {
  it('registers keys and secrets in an Object Group, locates them by group, revokes, destroys', async () => {
    const s = memorySession('1.4');
    const group = 'percona-keyring-node1';

    const key = randomBytes(32);
    const regKey = await s.ok(Operation.Register, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Name', nameValue('percona_binlog_key-1')),
        attr('Object Group', item.text(0, group)),
        attr(
          'Cryptographic Usage Mask',
          item.int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
        ),
      ]),
      item.struct(Tag.SymmetricKey, [keyBlock(key, CryptographicAlgorithm.AES, 256)]),
    ]);
    const keyUid = uidOf(regKey);

    const secret = Buffer.from('a keyring secret of arbitrary length');
    const regSecret = await s.ok(Operation.Register, [
      item.enum(Tag.ObjectType, ObjectType.SecretData),
      item.struct(Tag.TemplateAttribute, [
        attr('Name', nameValue('percona_secret-1')),
        attr('Object Group', item.text(0, group)),
        attr('Cryptographic Usage Mask', item.int(0, 0)),
      ]),
      item.struct(Tag.SecretData, [
        item.enum(Tag.SecretDataType, SecretDataType.Password),
        keyBlock(secret),
      ]),
    ]);
    const secretUid = uidOf(regSecret);

    // Another group's key must not be found.
    const other = await s.ok(Operation.Register, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [attr('Object Group', item.text(0, 'elsewhere'))]),
      item.struct(Tag.SymmetricKey, [keyBlock(randomBytes(16), CryptographicAlgorithm.AES, 128)]),
    ]);
    expect(uidOf(other)).not.toBe(keyUid);

    for (const uid of [keyUid, secretUid]) await s.ok(Operation.Activate, [uidItem(uid)]);

    const byGroup = await s.ok(Operation.Locate, [attr('Object Group', item.text(0, group))]);
    expect(uids(byGroup).sort()).toEqual([keyUid, secretUid].sort());

    const secretsOnly = await s.ok(Operation.Locate, [
      attr('Object Group', item.text(0, group)),
      attr('Object Type', item.enum(0, ObjectType.SecretData)),
    ]);
    expect(uids(secretsOnly)).toEqual([secretUid]);

    const gotKey = await s.ok(Operation.Get, [uidItem(keyUid)]);
    const kb = childOf(
      gotKey.find((i) => i.tag === Tag.SymmetricKey),
      Tag.KeyBlock,
    );
    expect(Buffer.from(bytesOf(childOf(childOf(kb, Tag.KeyValue), Tag.KeyMaterial))!)).toEqual(key);
    const gotSecret = await s.ok(Operation.Get, [uidItem(secretUid)]);
    const sb = childOf(
      gotSecret.find((i) => i.tag === Tag.SecretData),
      Tag.KeyBlock,
    );
    expect(Buffer.from(bytesOf(childOf(childOf(sb, Tag.KeyValue), Tag.KeyMaterial))!)).toEqual(
      secret,
    );

    const groupAttr = await s.ok(Operation.GetAttributes, [
      uidItem(keyUid),
      item.text(Tag.AttributeName, 'Object Group'),
    ]);
    expect(textOf(attrValue(groupAttr, 'Object Group'))).toBe(group);

    // An Active object cannot be destroyed; it is revoked first.
    const early = await s.call(Operation.Destroy, [uidItem(keyUid)]);
    expect(early.item.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(early.item.resultReason).toBe(ResultReason.PermissionDenied);

    for (const uid of [keyUid, secretUid]) {
      expect(
        uidOf(
          await s.ok(Operation.Revoke, [
            uidItem(uid),
            item.struct(Tag.RevocationReason, [
              item.enum(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation),
              item.text(Tag.RevocationMessage, 'keyring key removed'),
            ]),
          ]),
        ),
      ).toBe(uid);
      const state = await s.ok(Operation.GetAttributes, [
        uidItem(uid),
        item.text(Tag.AttributeName, 'State'),
      ]);
      expect(numberOf(attrValue(state, 'State'))).toBe(State.Deactivated);
      expect(uidOf(await s.ok(Operation.Destroy, [uidItem(uid)]))).toBe(uid);
    }

    const afterwards = await s.ok(Operation.Locate, [attr('Object Group', item.text(0, group))]);
    expect(uids(afterwards)).toEqual([]);
    const destroyed = await s.ok(Operation.Locate, [
      attr('Object Group', item.text(0, group)),
      attr('State', item.enum(0, State.Destroyed)),
    ]);
    expect(uids(destroyed).sort()).toEqual([keyUid, secretUid].sort());
  });
});
