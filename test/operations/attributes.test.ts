// Add, Modify, Delete and Set Attribute (KMIP 2.1 §6.1.2, §6.1.34, §6.1.15, §6.1.49; KMIP 1.4
// §4.14-4.16), in the 1.x and 2.x payload forms, with the rules on read-only, single-instance
// and lifecycle-bound attributes.

import { describe, expect, it } from 'vitest';
import { childOf, item, textOf } from '../../src/kmip/items.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  BatchErrorContinuationOption,
  NameType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';

type Server = ReturnType<typeof testServer>;

const attr1x = (name: string, value: TtlvItem, index?: number) =>
  item.struct(Tag.Attribute, [
    item.text(Tag.AttributeName, name),
    ...(index === undefined ? [] : [item.int(Tag.AttributeIndex, index)]),
    { ...value, tag: Tag.AttributeValue } as TtlvItem,
  ]);
const vendor = (name: string, value: string) =>
  item.struct(Tag.Attribute, [
    item.text(Tag.VendorIdentification, 'x'),
    item.text(Tag.AttributeName, name),
    item.text(Tag.AttributeValue, value),
  ]);
const name = (n: string) =>
  item.struct(Tag.Name, [
    item.text(Tag.NameValue, n),
    item.enum(Tag.NameType, NameType.UninterpretedTextString),
  ]);

async function registerOpaque(
  s: Server,
  version: KmipVersion,
  attrs: TtlvItem[] = [],
): Promise<string> {
  const opaque = item.struct(Tag.OpaqueObject, [
    item.enum(Tag.OpaqueDataType, 0x80123456), // vendor range, as in BL-M-5-21
    item.bytes(Tag.OpaqueDataValue, Buffer.from('opaque')),
  ]);
  const res = await s.send(version, [
    {
      operation: Operation.Register,
      payload: [
        item.enum(Tag.ObjectType, ObjectType.OpaqueObject),
        version.startsWith('2')
          ? item.struct(Tag.Attributes, attrs)
          : item.struct(Tag.TemplateAttribute, []),
        opaque,
      ],
    },
  ]);
  expect(res.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
  return textOf(find(payloadOf(res.batchItems[0]), Tag.UniqueIdentifier))!;
}

async function op(s: Server, version: KmipVersion, operation: number, payload: TtlvItem[]) {
  return (await s.send(version, [{ operation, payload }])).batchItems[0]!;
}

async function attributes2x(s: Server, uid: string): Promise<TtlvItem[]> {
  const r = await op(s, '2.1', Operation.GetAttributes, [item.text(Tag.UniqueIdentifier, uid)]);
  const a = find(payloadOf(r), Tag.Attributes);
  return a?.type === ItemType.Structure ? a.value : [];
}

describe('KMIP 1.4 forms', () => {
  it('adds, modifies and deletes a custom attribute, answering with the attribute', async () => {
    const s = testServer();
    const uid = await registerOpaque(s, '1.4');
    const uidItem = item.text(Tag.UniqueIdentifier, uid);
    const added = await op(s, '1.4', Operation.AddAttribute, [
      uidItem,
      attr1x('x-attribute1', item.text(0, 'Value1')),
    ]);
    expect(textOf(childOf(find(payloadOf(added), Tag.Attribute), Tag.AttributeValue))).toBe(
      'Value1',
    );
    const modified = await op(s, '1.4', Operation.ModifyAttribute, [
      uidItem,
      attr1x('x-attribute1', item.text(0, 'ModifiedValue1')),
    ]);
    expect(textOf(childOf(find(payloadOf(modified), Tag.Attribute), Tag.AttributeValue))).toBe(
      'ModifiedValue1',
    );
    const deleted = await op(s, '1.4', Operation.DeleteAttribute, [
      uidItem,
      item.text(Tag.AttributeName, 'x-attribute1'),
    ]);
    expect(textOf(childOf(find(payloadOf(deleted), Tag.Attribute), Tag.AttributeValue))).toBe(
      'ModifiedValue1',
    );
    const again = await op(s, '1.4', Operation.DeleteAttribute, [
      uidItem,
      item.text(Tag.AttributeName, 'x-attribute1'),
    ]);
    expect(again.resultReason).toBe(ResultReason.ItemNotFound);
  });

  it('modifies the instance named by Attribute Index', async () => {
    const s = testServer();
    const uid = await registerOpaque(s, '1.4');
    const uidItem = item.text(Tag.UniqueIdentifier, uid);
    await op(s, '1.4', Operation.AddAttribute, [uidItem, attr1x('x-tag', item.text(0, 'a'))]);
    await op(s, '1.4', Operation.AddAttribute, [uidItem, attr1x('x-tag', item.text(0, 'b'))]);
    await op(s, '1.4', Operation.ModifyAttribute, [uidItem, attr1x('x-tag', item.text(0, 'B'), 1)]);
    const got = await op(s, '1.4', Operation.GetAttributes, [
      uidItem,
      item.text(Tag.AttributeName, 'x-tag'),
    ]);
    expect(
      payloadOf(got)
        .filter((i) => i.tag === Tag.Attribute)
        .map((a) => textOf(childOf(a, Tag.AttributeValue))),
    ).toEqual(['a', 'B']);
  });

  it('refuses to change a server attribute with Permission Denied', async () => {
    const s = testServer();
    const uid = await registerOpaque(s, '1.4');
    const r = await op(s, '1.4', Operation.ModifyAttribute, [
      item.text(Tag.UniqueIdentifier, uid),
      attr1x('State', item.enum(0, State.Compromised)),
    ]);
    expect(r.resultReason).toBe(ResultReason.PermissionDenied);
  });
});

describe('KMIP 2.1 forms', () => {
  it('adds, modifies and deletes a vendor attribute', async () => {
    const s = testServer();
    const uid = await registerOpaque(s, '2.1');
    const uidItem = item.text(Tag.UniqueIdentifier, uid);
    const added = await op(s, '2.1', Operation.AddAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [vendor('attribute1', 'Value1')]),
    ]);
    expect(payloadOf(added).map((i) => i.tag)).toEqual([Tag.UniqueIdentifier]);
    await op(s, '2.1', Operation.ModifyAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [vendor('attribute1', 'ModifiedValue1')]),
    ]);
    const custom = (await attributes2x(s, uid)).find((a) => a.tag === Tag.Attribute);
    expect(textOf(childOf(custom, Tag.AttributeValue))).toBe('ModifiedValue1');
    const del = await op(s, '2.1', Operation.DeleteAttribute, [
      uidItem,
      item.struct(Tag.AttributeReference, [
        item.text(Tag.VendorIdentification, 'x'),
        item.text(Tag.AttributeName, 'attribute1'),
      ]),
    ]);
    expect(del.resultStatus).toBe(ResultStatus.Success);
    expect((await attributes2x(s, uid)).some((a) => a.tag === Tag.Attribute)).toBe(false);
  });

  it('refuses a second instance of a single-instance attribute', async () => {
    const s = testServer();
    const uid = await registerOpaque(s, '2.1');
    const uidItem = item.text(Tag.UniqueIdentifier, uid);
    const first = await op(s, '2.1', Operation.AddAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [item.text(Tag.Description, 'This is opaque')]),
    ]);
    expect(first.resultStatus).toBe(ResultStatus.Success);
    const second = await op(s, '2.1', Operation.AddAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [item.text(Tag.Description, 'duplicate')]),
    ]);
    expect(second.resultReason).toBe(ResultReason.AttributeSingleValued);
    const set = await op(s, '2.1', Operation.SetAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [item.text(Tag.Description, 'replaced')]),
    ]);
    expect(set.resultStatus).toBe(ResultStatus.Success);
    expect(textOf((await attributes2x(s, uid)).find((a) => a.tag === Tag.Description))).toBe(
      'replaced',
    );
  });

  it('Set Attribute on a multi-instance attribute: creates, replaces one, refuses with two', async () => {
    const s = testServer();
    const uid = await registerOpaque(s, '2.1');
    const uidItem = item.text(Tag.UniqueIdentifier, uid);
    const values = async () =>
      (await attributes2x(s, uid))
        .filter((a) => a.tag === Tag.Attribute)
        .map((a) => textOf(childOf(a, Tag.AttributeValue)));
    const set = (value: string) =>
      op(s, '2.1', Operation.SetAttribute, [
        uidItem,
        item.struct(Tag.NewAttribute, [vendor('Set', value)]),
      ]);
    expect((await set('one')).resultStatus).toBe(ResultStatus.Success);
    expect((await set('two')).resultStatus).toBe(ResultStatus.Success);
    expect(await values()).toEqual(['two']);
    await op(s, '2.1', Operation.AddAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [vendor('Set', 'three')]),
    ]);
    const refused = await set('four');
    expect(refused.resultReason).toBe(ResultReason.MultiValuedAttribute);
    expect((await values()).sort()).toEqual(['three', 'two']);
  });

  it('refuses read-only attributes, duplicate names and late activation dates', async () => {
    const s = testServer();
    const uid = await registerOpaque(s, '2.1', [name('unique-name')]);
    const uidItem = item.text(Tag.UniqueIdentifier, uid);
    const state = await op(s, '2.1', Operation.ModifyAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [item.enum(Tag.State, State.Compromised)]),
    ]);
    expect(state.resultReason).toBe(ResultReason.AttributeReadOnly);
    const dup = await op(s, '2.1', Operation.AddAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [name('unique-name')]),
    ]);
    expect(dup.resultReason).toBe(ResultReason.NonUniqueNameAttribute);
    await op(s, '2.1', Operation.Activate, [uidItem]);
    const late = await op(s, '2.1', Operation.ModifyAttribute, [
      uidItem,
      item.struct(Tag.NewAttribute, [item.date(Tag.ActivationDate, 1_700_000_000n)]),
    ]);
    expect(late.resultReason).toBe(ResultReason.WrongKeyLifecycleState);
    const missing = await op(s, '2.1', Operation.DeleteAttribute, [
      uidItem,
      item.enum(Tag.AttributeReference, Tag.Comment),
    ]);
    expect(missing.resultReason).toBe(ResultReason.AttributeNotFound);
  });

  it('Undo restores attributes changed earlier in the batch', async () => {
    const s = testServer();
    const uid = await registerOpaque(s, '2.1');
    const uidItem = item.text(Tag.UniqueIdentifier, uid);
    const res = await s.send(
      '2.1',
      [
        {
          operation: Operation.AddAttribute,
          payload: [uidItem, item.struct(Tag.NewAttribute, [item.text(Tag.Comment, 'temp')])],
        },
        { operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, 'no-such-object')] },
      ],
      { batchErrorContinuationOption: BatchErrorContinuationOption.Undo },
    );
    expect(res.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationUndone);
    expect((await attributes2x(s, uid)).some((a) => a.tag === Tag.Comment)).toBe(false);
  });
});
