// What a change becomes on the wire (src/push/messages.ts, KMIP 1.4 §5): the Notify diff, the
// Put's function and fields, the objects whose value is not pushed, and the 1.x forms.

import { describe, expect, it } from 'vitest';
import type { Attribute } from '../../src/kmip/attributes.js';
import { item } from '../../src/kmip/items.js';
import { RequestMessage } from '../../src/kmip/messages.js';
import type { ManagedObject } from '../../src/objects/managed-object.js';
import { linkTo } from '../../src/operations/rekey.js';
import { attributeChanges, messageFor, type PushMessage } from '../../src/push/messages.js';
import { NotifyRequest, PutRequest } from '../../src/push/payloads.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { ItemType } from '../../src/ttlv/item.js';
import {
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  PutFunction,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';

const at = (seconds: number) => item.date(Tag.LastChangeDate, BigInt(seconds));
const custom = (name: string, text: string): Attribute => ({
  name,
  value: item.text(Tag.AttributeValue, text),
});
const lcd = (seconds: number): Attribute => ({ name: 'LastChangeDate', value: at(seconds) });
const state = (s: number): Attribute => ({ name: 'State', value: item.enum(Tag.State, s) });

function key(extra: Attribute[] = []): ManagedObject {
  return {
    uid: 'uid-new',
    owner: 'alice',
    objectType: ObjectType.SymmetricKey,
    state: State.PreActive,
    attributes: [
      { name: 'UniqueIdentifier', value: item.text(Tag.UniqueIdentifier, 'uid-new') },
      {
        name: 'ShortUniqueIdentifier',
        value: item.bytes(Tag.ShortUniqueIdentifier, new Uint8Array(32)),
      },
      { name: 'Name', value: item.struct(Tag.Name, [item.text(Tag.NameValue, 'a')]) },
      { name: 'Name', value: item.struct(Tag.Name, [item.text(Tag.NameValue, 'b')]) },
      custom('x-ID', 'TC'),
      state(State.PreActive),
      ...extra,
    ],
    object: item.struct(Tag.SymmetricKey, [
      item.struct(Tag.KeyBlock, [
        item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
        item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, new Uint8Array(16).fill(7))]),
      ]),
    ]),
    revision: 1,
    createdAt: 0,
  } as ManagedObject;
}

function read(m: PushMessage) {
  const msg = RequestMessage.read(decodeTtlv(m.frame), '1.4');
  expect(msg.header).toMatchObject({ protocolVersion: { major: 1, minor: 4 }, batchCount: 1 });
  return msg.batchItems[0]!;
}

describe('Notify: the changed and deleted attribute instances', () => {
  it('lists a changed value and Last Change Date, nothing unchanged', () => {
    const before = [custom('x-provider', 'unknown'), state(State.PreActive), lcd(1)];
    const after = [custom('x-provider', 'third party'), state(State.PreActive), lcd(2)];
    expect(attributeChanges(before, after, '1.4')).toEqual([
      { name: 'x-provider', index: 0, value: item.text(Tag.AttributeValue, 'third party') },
      { name: 'LastChangeDate', index: 0, value: at(2) },
    ]);
  });

  it('always includes Last Change Date, even when it did not move (KMIP 1.4 §5.1)', () => {
    const before = [state(State.PreActive), lcd(5)];
    const after = [state(State.Destroyed), lcd(5)];
    expect(attributeChanges(before, after, '1.4')).toEqual([
      { name: 'State', index: 0, value: item.enum(Tag.State, State.Destroyed) },
      { name: 'LastChangeDate', index: 0, value: at(5) },
    ]);
  });

  it('reports a deleted attribute and a deleted last instance without a value', () => {
    const n = (v: string) => ({
      name: 'Name',
      value: item.struct(Tag.Name, [item.text(Tag.NameValue, v)]),
    });
    const before = [n('a'), n('b'), custom('x-provider', 'unknown'), lcd(1)];
    const after = [n('a'), lcd(2)];
    expect(attributeChanges(before, after, '1.4')).toEqual([
      { name: 'Name', index: 1 },
      { name: 'LastChangeDate', index: 0, value: at(2) },
      { name: 'x-provider', index: 0 },
    ]);
  });

  it('is empty when nothing the version shows changed', () => {
    const a = [state(State.Active), lcd(1)];
    expect(attributeChanges(a, [...a], '1.4')).toEqual([]);
    // Protection Storage Mask is a KMIP 2.0 attribute: a 1.4 subscriber never hears of it.
    const psm = (v: number): Attribute => ({
      name: 'ProtectionStorageMask',
      value: item.int(Tag.ProtectionStorageMask, v),
    });
    expect(attributeChanges([...a, psm(1)], [...a, psm(2)], '1.4')).toEqual([]);
    expect(attributeChanges([...a, psm(1)], [...a, psm(2)], '2.0')).toHaveLength(2);
  });

  it('writes deleted instances as an Attribute without Attribute Value, with their index', () => {
    const m = messageFor(
      {
        kind: 'changed',
        uid: 'u1',
        owner: 'alice',
        before: [custom('x-a', '1'), custom('x-a', '2'), lcd(1)],
        after: [custom('x-a', '1'), lcd(2)],
      },
      '1.4',
    ) as PushMessage;
    expect(m.operation).toBe('Notify');
    const b = read(m);
    expect(b.operation).toBe(Operation.Notify);
    const attrs = b.requestPayload!.type === ItemType.Structure ? b.requestPayload!.value : [];
    const deleted = attrs.find(
      (c) =>
        c.tag === Tag.Attribute &&
        c.type === ItemType.Structure &&
        !c.value.some((x) => x.tag === Tag.AttributeValue),
    );
    expect(deleted).toEqual(
      item.struct(Tag.Attribute, [
        item.text(Tag.AttributeName, 'x-a'),
        item.int(Tag.AttributeIndex, 1),
      ]),
    );
    expect(NotifyRequest.read(b.requestPayload!, '1.4')).toEqual({
      uniqueIdentifier: 'u1',
      attributes: [
        { name: 'x-a', index: 1 },
        { name: 'LastChangeDate', index: 0, value: item.date(Tag.AttributeValue, 2n) },
      ],
    });
  });
});

describe('Put: the object and its attributes', () => {
  it('sends a new object as Put New with its key and the 1.x attributes', () => {
    const m = messageFor({ kind: 'created', object: key() }, '1.4') as PushMessage;
    expect(m).toMatchObject({ uid: 'uid-new', operation: 'Put' });
    const b = read(m);
    expect(b.operation).toBe(Operation.Put);
    const put = PutRequest.read(b.requestPayload!, '1.4');
    expect(put.uniqueIdentifier).toBe('uid-new');
    expect(put.putFunction).toBe(PutFunction.New);
    expect(put.replacedUniqueIdentifier).toBeUndefined();
    expect(encodeTtlv(put.symmetricKey!).equals(encodeTtlv(key().object!))).toBe(true);
    // Short Unique Identifier is a 2.0 attribute; the second Name carries Attribute Index 1.
    expect(put.attributes.map((a) => [a.attribute.name, a.index])).toEqual([
      ['UniqueIdentifier', 0],
      ['Name', 0],
      ['Name', 1],
      ['x-ID', 0],
      ['State', 0],
    ]);
    // Fields in the specification's order: identifier, function, object, attributes.
    const order =
      b.requestPayload!.type === ItemType.Structure
        ? b.requestPayload!.value.map((c) => c.tag)
        : [];
    expect(order.slice(0, 3)).toEqual([Tag.UniqueIdentifier, Tag.PutFunction, Tag.SymmetricKey]);
  });

  it('sends a replacement (Re-key) as Put Replace naming the replaced object', () => {
    const mo = key([linkTo(LinkType.ReplacedObjectLink, 'uid-old')]);
    const put = PutRequest.read(
      read(messageFor({ kind: 'created', object: mo }, '1.4') as PushMessage).requestPayload!,
      '1.4',
    );
    expect(put.putFunction).toBe(PutFunction.Replace);
    expect(put.replacedUniqueIdentifier).toBe('uid-old');
    const swapped = PutRequest.read(
      read(messageFor({ kind: 'replaced', object: key() }, '1.4') as PushMessage).requestPayload!,
      '1.4',
    );
    expect(swapped.replacedUniqueIdentifier).toBe('uid-new');
  });

  it('does not push the value of a Sensitive or non-Extractable object', () => {
    const bool = (name: string, v: boolean): Attribute => ({
      name,
      value: item.bool(Tag[name as 'Sensitive'], v),
    });
    expect(messageFor({ kind: 'created', object: key([bool('Sensitive', true)]) }, '1.4')).toEqual({
      uid: 'uid-new',
      skip: 'the object is Sensitive',
    });
    expect(
      messageFor({ kind: 'created', object: key([bool('Extractable', false)]) }, '1.4'),
    ).toEqual({
      uid: 'uid-new',
      skip: 'the object is not Extractable',
    });
  });

  it('writes the version asked for', () => {
    const m = messageFor({ kind: 'created', object: key() }, '1.0') as PushMessage;
    const msg = RequestMessage.read(decodeTtlv(m.frame), '1.0');
    expect(msg.header.protocolVersion).toEqual({ major: 1, minor: 0 });
  });
});
