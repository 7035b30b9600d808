// MySQL keyring (keyring_okv / component_keyring_kmip) at KMIP 1.1: every Attribute structure
// carries an explicit Attribute Index (0) between Attribute Name and Attribute Value, and
// Create sends a Storage Status Mask among its template attributes although the spec lists it
// only as a Locate field. The key is then named, activated, located by name and fetched.

import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  NameType,
  ObjectType,
  Operation,
  RevocationReasonCode,
  State,
  StorageStatusMask,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { attr, attrValue, memorySession, nameValue, uidItem, uidOf } from './session.js';

describe('MySQL keyring (KMIP 1.1)', () => {
  it('creates with a Storage Status Mask and indexed attributes, then locates by name', async () => {
    const s = memorySession('1.1');
    const keyName = 'INNODBKey-d3a5c1e0-uuid-1';
    const created = await s.ok(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES), 0),
        attr('Cryptographic Length', item.int(0, 256), 0),
        attr(
          'Cryptographic Usage Mask',
          item.int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
          0,
        ),
        attr('Name', nameValue(keyName), 0),
        attr('Storage Status Mask', item.int(0, StorageStatusMask.OnLineStorage), 0),
      ]),
    ]);
    const uid = uidOf(created);
    await s.ok(Operation.Activate, [uidItem(uid)]);

    const located = await s.ok(Operation.Locate, [
      attr('Name', nameValue(keyName), 0),
      attr('Object Type', item.enum(0, ObjectType.SymmetricKey), 0),
    ]);
    expect(located.filter((i) => i.tag === Tag.UniqueIdentifier).map(textOf)).toEqual([uid]);

    // Locate with the Storage Status Mask field as the spec places it.
    const online = await s.ok(Operation.Locate, [
      item.int(Tag.StorageStatusMask, StorageStatusMask.OnLineStorage),
      attr('Name', nameValue(keyName), 0),
    ]);
    expect(online.filter((i) => i.tag === Tag.UniqueIdentifier).map(textOf)).toEqual([uid]);

    const got = await s.ok(Operation.Get, [uidItem(uid)]);
    const block = childOf(
      got.find((i) => i.tag === Tag.SymmetricKey),
      Tag.KeyBlock,
    );
    expect(bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial))).toHaveLength(32);

    const attrs = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'Name'),
      item.text(Tag.AttributeName, 'State'),
      item.text(Tag.AttributeName, 'Cryptographic Length'),
    ]);
    expect(textOf(childOf(attrValue(attrs, 'Name'), Tag.NameValue))).toBe(keyName);
    expect(numberOf(childOf(attrValue(attrs, 'Name'), Tag.NameType))).toBe(
      NameType.UninterpretedTextString,
    );
    expect(numberOf(attrValue(attrs, 'State'))).toBe(State.Active);
    expect(numberOf(attrValue(attrs, 'Cryptographic Length'))).toBe(256);

    // The Storage Status Mask sent in Create is kept as given, and every attribute still reads.
    const everything = await s.ok(Operation.GetAttributes, [uidItem(uid)]);
    expect(numberOf(attrValue(everything, 'Storage Status Mask'))).toBe(
      StorageStatusMask.OnLineStorage,
    );
    expect(numberOf(attrValue(everything, 'Object Type'))).toBe(ObjectType.SymmetricKey);

    // Keyring removal: revoke, then destroy.
    await s.ok(Operation.Revoke, [
      uidItem(uid),
      item.struct(Tag.RevocationReason, [
        item.enum(Tag.RevocationReasonCode, RevocationReasonCode.Unspecified),
      ]),
    ]);
    expect(uidOf(await s.ok(Operation.Destroy, [uidItem(uid)]))).toBe(uid);
    const after = await s.ok(Operation.Locate, [attr('Name', nameValue(keyName), 0)]);
    expect(after.filter((i) => i.tag === Tag.UniqueIdentifier)).toEqual([]);
  });

  it('registers a key with indexed attributes and reads each back at its index', async () => {
    const s = memorySession('1.1');
    const created = await s.ok(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES), 0),
        attr('Cryptographic Length', item.int(0, 128), 0),
        attr('Cryptographic Usage Mask', item.int(0, CryptographicUsageMask.Encrypt), 0),
      ]),
    ]);
    const uid = uidOf(created);
    const first = await s.ok(Operation.AddAttribute, [
      uidItem(uid),
      attr('x-keyring', item.text(0, 'a')),
    ]);
    expect(textOf(attrValue(first, 'x-keyring'))).toBe('a');
    const second = await s.ok(Operation.AddAttribute, [
      uidItem(uid),
      attr('x-keyring', item.text(0, 'b')),
    ]);
    expect(
      numberOf(
        childOf(
          second.find((i) => i.tag === Tag.Attribute),
          Tag.AttributeIndex,
        ),
      ),
    ).toBe(1);
    const modified = await s.ok(Operation.ModifyAttribute, [
      uidItem(uid),
      attr('x-keyring', item.text(0, 'B'), 1),
    ]);
    expect(textOf(attrValue(modified, 'x-keyring'))).toBe('B');
    const read = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'x-keyring'),
    ]);
    const instances = read
      .filter((i) => i.tag === Tag.Attribute)
      .map((a) => [
        numberOf(childOf(a, Tag.AttributeIndex)) ?? 0,
        textOf(childOf(a, Tag.AttributeValue)),
      ]);
    expect(instances).toEqual([
      [0, 'a'],
      [1, 'B'],
    ]);
  });
});
