// VMware vCenter as a KMS client: KMIP 1.1 headers with a Unique Batch Item ID on every item,
// Discover Versions and Query Server Information as health probes, then the key lifecycle
// of a VM encryption key (Create AES-256 Encrypt|Decrypt, Activate, Get Attributes, Add
// Attribute of its x-Vendor/x-Product/x-Product_Version tags, Get, Revoke, Destroy).

import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, dateOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  ObjectType,
  Operation,
  QueryFunction,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import {
  attr,
  attributesByName,
  attrValue,
  children,
  memorySession,
  uidItem,
  uidOf,
} from './session.js';

describe('VMware vCenter (KMIP 1.1)', () => {
  it('probes the server, then creates, tags, fetches, revokes and destroys a key', async () => {
    const s = memorySession('1.1');

    // Health probe: Discover Versions with no list, then asking for 1.1 only.
    const all = await s.ok(Operation.DiscoverVersions, []);
    const versions = all
      .filter((i) => i.tag === Tag.ProtocolVersion)
      .map(
        (v) =>
          `${numberOf(childOf(v, Tag.ProtocolVersionMajor))}.${numberOf(childOf(v, Tag.ProtocolVersionMinor))}`,
      );
    expect(versions).toContain('1.1');
    expect(versions).toContain('1.0');
    const only11 = await s.ok(Operation.DiscoverVersions, [
      item.struct(Tag.ProtocolVersion, [
        item.int(Tag.ProtocolVersionMajor, 1),
        item.int(Tag.ProtocolVersionMinor, 1),
      ]),
    ]);
    expect(only11).toHaveLength(1);

    const info = await s.ok(Operation.Query, [
      item.enum(Tag.QueryFunction, QueryFunction.QueryServerInformation),
      item.enum(Tag.QueryFunction, QueryFunction.QueryOperations),
    ]);
    expect(textOf(info.find((i) => i.tag === Tag.VendorIdentification))).toBeTruthy();
    const ops = info.filter((i) => i.tag === Tag.Operation).map(numberOf);
    for (const op of [
      Operation.Create,
      Operation.Activate,
      Operation.GetAttributes,
      Operation.AddAttribute,
      Operation.Get,
      Operation.Revoke,
      Operation.Destroy,
    ]) {
      expect(ops).toContain(op);
    }

    const created = await s.ok(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES)),
        attr('Cryptographic Length', item.int(0, 256)),
        attr(
          'Cryptographic Usage Mask',
          item.int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
        ),
      ]),
    ]);
    expect(numberOf(created.find((i) => i.tag === Tag.ObjectType))).toBe(ObjectType.SymmetricKey);
    const uid = uidOf(created);

    const activated = await s.ok(Operation.Activate, [uidItem(uid)]);
    expect(uidOf(activated)).toBe(uid);

    for (const [name, value] of [
      ['x-Vendor', 'VMware, Inc.'],
      ['x-Product', 'VMware vSphere'],
      ['x-Product_Version', '8.0.2'],
    ] as const) {
      const added = await s.ok(Operation.AddAttribute, [
        uidItem(uid),
        attr(name, item.text(0, value)),
      ]);
      expect(uidOf(added)).toBe(uid);
      expect(textOf(attrValue(added, name))).toBe(value);
      // A 1.x Add Attribute response names the index the new instance got.
      const returned = added.find((i) => i.tag === Tag.Attribute);
      expect(numberOf(childOf(returned, Tag.AttributeIndex)) ?? 0).toBe(0);
    }

    const attrs = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'State'),
      item.text(Tag.AttributeName, 'x-Vendor'),
      item.text(Tag.AttributeName, 'x-Product'),
      item.text(Tag.AttributeName, 'x-Product_Version'),
      item.text(Tag.AttributeName, 'Cryptographic Usage Mask'),
    ]);
    expect(uidOf(attrs)).toBe(uid);
    expect(numberOf(attrValue(attrs, 'State'))).toBe(State.Active);
    expect(textOf(attrValue(attrs, 'x-Vendor'))).toBe('VMware, Inc.');
    expect(textOf(attrValue(attrs, 'x-Product'))).toBe('VMware vSphere');
    expect(textOf(attrValue(attrs, 'x-Product_Version'))).toBe('8.0.2');
    expect(numberOf(attrValue(attrs, 'Cryptographic Usage Mask'))).toBe(
      CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt,
    );
    // Only what was asked for comes back.
    expect([...attributesByName(attrs).keys()].sort()).toEqual(
      ['Cryptographic Usage Mask', 'State', 'x-Product', 'x-Product_Version', 'x-Vendor'].sort(),
    );

    const got = await s.ok(Operation.Get, [uidItem(uid)]);
    expect(uidOf(got)).toBe(uid);
    expect(numberOf(got.find((i) => i.tag === Tag.ObjectType))).toBe(ObjectType.SymmetricKey);
    const block = childOf(
      got.find((i) => i.tag === Tag.SymmetricKey),
      Tag.KeyBlock,
    );
    expect(numberOf(childOf(block, Tag.KeyFormatType))).toBe(KeyFormatType.Raw);
    expect(numberOf(childOf(block, Tag.CryptographicAlgorithm))).toBe(CryptographicAlgorithm.AES);
    expect(numberOf(childOf(block, Tag.CryptographicLength))).toBe(256);
    const keyValue = childOf(block, Tag.KeyValue);
    expect(bytesOf(childOf(keyValue, Tag.KeyMaterial))).toHaveLength(32);
    // 1.x Get carries no attributes inside the Key Value.
    expect(children(keyValue).map((i) => i.tag)).toEqual([Tag.KeyMaterial]);

    const revoked = await s.ok(Operation.Revoke, [
      uidItem(uid),
      item.struct(Tag.RevocationReason, [
        item.enum(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation),
      ]),
    ]);
    expect(uidOf(revoked)).toBe(uid);
    const after = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'State'),
      item.text(Tag.AttributeName, 'Deactivation Date'),
    ]);
    expect(numberOf(attrValue(after, 'State'))).toBe(State.Deactivated);
    expect(dateOf(attrValue(after, 'Deactivation Date'))).toBeGreaterThan(0n);

    const destroyed = await s.ok(Operation.Destroy, [uidItem(uid)]);
    expect(uidOf(destroyed)).toBe(uid);
    const gone = await s.call(Operation.Get, [uidItem(uid)]);
    expect(gone.item.resultStatus).toBe(ResultStatus.OperationFailed);
    expect([ResultReason.ItemNotFound, ResultReason.ObjectDestroyed]).toContain(
      gone.item.resultReason,
    );
  });

  it('answers a probe batch (Discover Versions + Query) with each ID echoed in order', async () => {
    const s = memorySession('1.1');
    const [dv, q] = await s.batch([
      { operation: Operation.DiscoverVersions, payload: [] },
      {
        operation: Operation.Query,
        payload: [item.enum(Tag.QueryFunction, QueryFunction.QueryServerInformation)],
      },
    ]);
    expect(dv!.item.resultStatus).toBe(ResultStatus.Success);
    expect(q!.item.resultStatus).toBe(ResultStatus.Success);
    expect(q!.payload.some((i) => i.tag === Tag.VendorIdentification)).toBe(true);
  });
});
