// Synology DSM volume encryption at KMIP 1.2: the volume key is registered as Secret Data with
// Operation Policy Name "default", renamed with Modify Attribute once the volume exists, and
// made Active by setting its Activation Date through Modify Attribute (KMIP 1.2 §3.24: an
// Activation Date at or before now on a Pre-Active object makes it Active). The Operation
// Policy Name it registered with must come back as sent.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, dateOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  KeyFormatType,
  ObjectType,
  Operation,
  ResultStatus,
  SecretDataType,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { attr, attrValue, memorySession, nameValue, uidItem, uidOf } from './session.js';

const now = () => BigInt(Math.floor(Date.now() / 1000));

const secret = (value: Uint8Array): TtlvItem =>
  item.struct(Tag.SecretData, [
    item.enum(Tag.SecretDataType, SecretDataType.Password),
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, KeyFormatType.Opaque),
      item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, value)]),
    ]),
  ]);

async function register(s: ReturnType<typeof memorySession>, name: string, value: Uint8Array) {
  return uidOf(
    await s.ok(Operation.Register, [
      item.enum(Tag.ObjectType, ObjectType.SecretData),
      item.struct(Tag.TemplateAttribute, [
        attr('Name', nameValue(name)),
        attr('Operation Policy Name', item.text(0, 'default')),
        attr('Cryptographic Usage Mask', item.int(0, 0)),
      ]),
      secret(value),
    ]),
  );
}

describe('Synology DSM (KMIP 1.2)', () => {
  it('registers, renames, activates through Activation Date and keeps the policy name', async () => {
    const s = memorySession('1.2');
    const value = randomBytes(32);
    const uid = await register(s, 'DSM-pending-volume', value);

    const initial = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'Operation Policy Name'),
      item.text(Tag.AttributeName, 'State'),
      item.text(Tag.AttributeName, 'Name'),
    ]);
    expect(textOf(attrValue(initial, 'Operation Policy Name'))).toBe('default');
    expect(numberOf(attrValue(initial, 'State'))).toBe(State.PreActive);

    const renamed = await s.ok(Operation.ModifyAttribute, [
      uidItem(uid),
      attr('Name', nameValue('DSM-volume1-1a2b3c')),
    ]);
    expect(uidOf(renamed)).toBe(uid);
    expect(textOf(childOf(attrValue(renamed, 'Name'), Tag.NameValue))).toBe('DSM-volume1-1a2b3c');

    const activationDate = now() - 5n;
    const modified = await s.ok(Operation.ModifyAttribute, [
      uidItem(uid),
      attr('Activation Date', item.date(0, activationDate)),
    ]);
    expect(dateOf(attrValue(modified, 'Activation Date'))).toBe(activationDate);

    const after = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'State'),
      item.text(Tag.AttributeName, 'Activation Date'),
      item.text(Tag.AttributeName, 'Name'),
      item.text(Tag.AttributeName, 'Operation Policy Name'),
    ]);
    expect(numberOf(attrValue(after, 'State'))).toBe(State.Active);
    expect(dateOf(attrValue(after, 'Activation Date'))).toBe(activationDate);
    expect(textOf(childOf(attrValue(after, 'Name'), Tag.NameValue))).toBe('DSM-volume1-1a2b3c');
    expect(textOf(attrValue(after, 'Operation Policy Name'))).toBe('default');

    const byName = await s.ok(Operation.Locate, [attr('Name', nameValue('DSM-volume1-1a2b3c'))]);
    expect(byName.filter((i) => i.tag === Tag.UniqueIdentifier).map(textOf)).toEqual([uid]);
    const oldName = await s.ok(Operation.Locate, [attr('Name', nameValue('DSM-pending-volume'))]);
    expect(oldName.filter((i) => i.tag === Tag.UniqueIdentifier)).toEqual([]);

    const got = await s.ok(Operation.Get, [uidItem(uid)]);
    const block = childOf(
      got.find((i) => i.tag === Tag.SecretData),
      Tag.KeyBlock,
    );
    expect(Buffer.from(bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial))!)).toEqual(
      value,
    );
  });

  it('activates through Add Attribute of an Activation Date too', async () => {
    const s = memorySession('1.2');
    const uid = await register(s, 'DSM-volume2', randomBytes(32));
    const date = now();
    const added = await s.ok(Operation.AddAttribute, [
      uidItem(uid),
      attr('Activation Date', item.date(0, date)),
    ]);
    expect(dateOf(attrValue(added, 'Activation Date'))).toBe(date);
    const state = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'State'),
    ]);
    expect(numberOf(attrValue(state, 'State'))).toBe(State.Active);
  });

  it('leaves an object Pre-Active when the Activation Date lies in the future', async () => {
    const s = memorySession('1.2');
    const uid = await register(s, 'DSM-volume3', randomBytes(32));
    const future = now() + 3600n;
    await s.ok(Operation.ModifyAttribute, [
      uidItem(uid),
      attr('Activation Date', item.date(0, future)),
    ]);
    const attrs = await s.ok(Operation.GetAttributes, [
      uidItem(uid),
      item.text(Tag.AttributeName, 'State'),
      item.text(Tag.AttributeName, 'Activation Date'),
    ]);
    expect(numberOf(attrValue(attrs, 'State'))).toBe(State.PreActive);
    expect(dateOf(attrValue(attrs, 'Activation Date'))).toBe(future);
    // Pre-Active Secret Data still reads (as Barbican relies on), and the flow goes on.
    const got = await s.call(Operation.Get, [uidItem(uid)]);
    expect(got.item.resultStatus).toBe(ResultStatus.Success);
  });
});
