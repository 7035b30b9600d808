// The attributes the server sets on a new object (KMIP 2.1 §4, "set by the server"): Unique
// Identifier, Object Type, State, Initial Date, Last Change Date, Digest; plus the client's
// attributes. Optional server attributes that common clients cannot parse (PyKMIP 0.10 fails
// on Original Creation Date and Fresh in a Get Attributes response) are not set. Client values for server-maintained attributes are
// replaced, not trusted.

import { createHash, randomUUID } from 'node:crypto';
import type { Attribute } from '../kmip/attributes.js';
import { dateOf, item } from '../kmip/items.js';
import type { OperationContext } from '../operations/context.js';
import type { StructureItem } from '../ttlv/item.js';
import { HashingAlgorithm, State, Tag } from '../ttlv/spec/generated.js';
import { attr, type ManagedObject } from './managed-object.js';

const SERVER_MAINTAINED = new Set([
  'UniqueIdentifier',
  'ObjectType',
  'State',
  'InitialDate',
  'LastChangeDate',
  'OriginalCreationDate',
  'Digest',
  'Fresh',
  'KeyValuePresent',
  'DestroyDate',
  'CompromiseDate',
  'DeactivationDate',
  'ArchiveDate',
]);

export interface NewObjectSpec {
  objectType: number;
  object: StructureItem;
  given: readonly Attribute[];
  /** Attributes the server derives from the key itself (algorithm, length, ...). */
  derived?: readonly Attribute[];
  /** Bytes the Digest is taken over (the key material in its stored format). */
  digestOf?: { bytes: Uint8Array; keyFormatType?: number };
  uid?: string;
}

export function newManagedObject(ctx: OperationContext, spec: NewObjectSpec): ManagedObject {
  const uid = spec.uid ?? randomUUID();
  const derived = spec.derived ?? [];
  const derivedNames = new Set(derived.map((a) => a.name));
  const given = spec.given.filter(
    (a) => !SERVER_MAINTAINED.has(a.name) && !derivedNames.has(a.name),
  );
  const activation = dateOf(attr({ attributes: [...given] }, 'ActivationDate'));
  const state = activation !== undefined && activation <= ctx.now ? State.Active : State.PreActive;
  const attributes: Attribute[] = [
    { name: 'UniqueIdentifier', value: item.text(Tag.UniqueIdentifier, uid) },
    { name: 'ObjectType', value: item.enum(Tag.ObjectType, spec.objectType) },
    ...derived,
    ...given,
  ];
  if (spec.digestOf !== undefined) {
    attributes.push({
      name: 'Digest',
      value: item.struct(Tag.Digest, [
        item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
        item.bytes(Tag.DigestValue, createHash('sha256').update(spec.digestOf.bytes).digest()),
        ...(spec.digestOf.keyFormatType === undefined
          ? []
          : [item.enum(Tag.KeyFormatType, spec.digestOf.keyFormatType)]),
      ]),
    });
  }
  attributes.push(
    { name: 'InitialDate', value: item.date(Tag.InitialDate, ctx.now) },
    { name: 'LastChangeDate', value: item.date(Tag.LastChangeDate, ctx.now) },
    { name: 'State', value: item.enum(Tag.State, state) },
  );
  return {
    uid,
    owner: ctx.identity,
    objectType: spec.objectType,
    state,
    attributes,
    object: spec.object,
    revision: 0,
    createdAt: Date.now(),
  };
}

/** KMIP Key Block around key material (KMIP 2.1 §2.1.3). */
export function keyBlock(
  keyFormatType: number,
  keyMaterial: StructureItem['value'][number],
  algorithm?: number,
  length?: number,
): StructureItem {
  const children = [
    item.enum(Tag.KeyFormatType, keyFormatType),
    item.struct(Tag.KeyValue, [keyMaterial]),
  ];
  if (algorithm !== undefined) children.push(item.enum(Tag.CryptographicAlgorithm, algorithm));
  if (length !== undefined) children.push(item.int(Tag.CryptographicLength, length));
  return item.struct(Tag.KeyBlock, children);
}
