// The attributes the server sets on a new object (KMIP 2.1 §4, "set by the server"): Unique
// Identifier, Short Unique Identifier, Object Type, State, Initial Date, Last Change Date,
// Original Creation Date, Digest, Key Format Type, Key Value Present (false for a meta-data-only
// object, src/objects/key-value.ts), Fresh, the sensitivity and extractability records, Lease
// Time, Protection Storage Mask and, for keys the server generates, Random Number Generator:
// the generator that made them (KMIP 2.1 §4.46; src/objects/random-generators.ts).
// Client values for server-maintained attributes are replaced, not trusted; a registered object
// keeps the Original Creation Date and Random Number Generator its client gave, the record of
// when and how the client made it (both "set by the server or the client" on Register; TC-MDO-2,
// TC-RNG-ATTR-1). Each attribute is shown only to clients whose version defines it.

import { createHash } from 'node:crypto';
import type { Attribute } from '../kmip/attributes.js';
import { dateOf, item } from '../kmip/items.js';
import type { OperationContext } from '../operations/context.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import { ObjectType, ProtectionStorageMask, State, Tag } from '../ttlv/spec/generated.js';
import { tagName } from '../ttlv/spec/index.js';
import { CERTIFICATE_FORMAT, type DigestSource, digestItem } from './digest.js';
import { isMetadataOnly } from './key-value.js';
import { attr, type ManagedObject } from './managed-object.js';
import { type RandomGenerator, rngAttribute } from './random-generators.js';
import { timeOrderedUid } from './uid.js';

const SERVER_MAINTAINED = new Set([
  'UniqueIdentifier',
  'ShortUniqueIdentifier',
  'ObjectType',
  'State',
  'InitialDate',
  'LastChangeDate',
  'OriginalCreationDate',
  'Digest',
  'KeyFormatType',
  'KeyValuePresent',
  'AlwaysSensitive',
  'NeverExtractable',
  'RandomNumberGenerator',
  'DestroyDate',
  'CompromiseDate',
  'CompromiseOccurrenceDate',
  'ArchiveDate',
]);

/**
 * Server-maintained attributes a client may give on Register, because they describe the object's
 * life before it reached the server: when it was made and how its key was generated.
 */
const SET_ON_REGISTER = new Set(['OriginalCreationDate', 'RandomNumberGenerator']);

/** Lease Time given on new objects: the lease a client may assume (KMIP 2.1 §4.31). */
export const DEFAULT_LEASE_SECONDS = 3600;

export interface NewObjectSpec {
  objectType: number;
  object: StructureItem;
  given: readonly Attribute[];
  /** Attributes the server derives from the key itself (algorithm, length, ...). */
  derived?: readonly Attribute[];
  /** Bytes each Digest instance is taken over (KMIP 2.1 §4.13, src/objects/digest.ts). */
  digestOf?: DigestSource | readonly DigestSource[];
  /** The generator the server made the key material with (Create, Create Key Pair, Re-key...). */
  generator?: RandomGenerator;
  /** The client supplied the object (Register, Import): the SET_ON_REGISTER it gives are kept. */
  registered?: boolean;
  uid?: string;
}

function boolOf(i: TtlvItem | undefined): boolean | undefined {
  return i?.type === ItemType.Boolean ? i.value : undefined;
}

/** The state the lifecycle dates put a new object in (KMIP 2.1 §4.57). */
function initialState(list: readonly Attribute[], now: bigint): number {
  const bag = { attributes: [...list] };
  const deactivation = dateOf(attr(bag, 'DeactivationDate'));
  const activation = dateOf(attr(bag, 'ActivationDate'));
  if (deactivation !== undefined && deactivation <= now) return State.Deactivated;
  if (activation !== undefined && activation <= now) return State.Active;
  return State.PreActive;
}

export function newManagedObject(ctx: OperationContext, spec: NewObjectSpec): ManagedObject {
  const uid = spec.uid ?? ctx.newUid?.() ?? timeOrderedUid();
  const derived = spec.derived ?? [];
  const derivedNames = new Set(derived.map((a) => a.name));
  const clientSet = (a: Attribute) => spec.registered === true && SET_ON_REGISTER.has(a.name);
  const given = spec.given.filter(
    (a) => (!SERVER_MAINTAINED.has(a.name) || clientSet(a)) && !derivedNames.has(a.name),
  );
  const bag = { attributes: [...given] };
  const state = initialState(given, ctx.now);
  const sensitive = boolOf(attr(bag, 'Sensitive'));
  const extractable = boolOf(attr(bag, 'Extractable'));
  const attributes: Attribute[] = [
    { name: 'UniqueIdentifier', value: item.text(Tag.UniqueIdentifier, uid) },
    {
      name: 'ShortUniqueIdentifier',
      value: item.bytes(Tag.ShortUniqueIdentifier, createHash('sha256').update(uid).digest()),
    },
    { name: 'ObjectType', value: item.enum(Tag.ObjectType, spec.objectType) },
    ...derived,
    ...given,
  ];
  const add = (value: TtlvItem) => attributes.push({ name: tagName(value.tag), value });
  for (const source of [spec.digestOf ?? []].flat()) add(digestItem(source));
  const block = spec.object.value.find((c) => c.tag === Tag.KeyBlock);
  const format =
    block?.type === ItemType.Structure
      ? block.value.find((c) => c.tag === Tag.KeyFormatType)
      : undefined;
  if (format !== undefined) add(format);
  if (spec.objectType === ObjectType.Certificate) {
    add(item.enum(Tag.KeyFormatType, CERTIFICATE_FORMAT));
  }
  if (isMetadataOnly(spec.object)) add(item.bool(Tag.KeyValuePresent, false));
  add(item.date(Tag.InitialDate, ctx.now));
  add(item.date(Tag.LastChangeDate, ctx.now));
  if (attr(bag, 'OriginalCreationDate') === undefined) {
    add(item.date(Tag.OriginalCreationDate, ctx.now));
  }
  add(item.enum(Tag.State, state));
  if (attr(bag, 'Fresh') === undefined) add(item.bool(Tag.Fresh, true));
  if (sensitive === undefined) add(item.bool(Tag.Sensitive, false));
  add(item.bool(Tag.AlwaysSensitive, sensitive ?? false));
  if (extractable === undefined) add(item.bool(Tag.Extractable, true));
  add(item.bool(Tag.NeverExtractable, extractable === false));
  if (attr(bag, 'LeaseTime') === undefined)
    add(item.interval(Tag.LeaseTime, DEFAULT_LEASE_SECONDS));
  if (attr(bag, 'ProtectionStorageMask') === undefined) {
    add(item.int(Tag.ProtectionStorageMask, ProtectionStorageMask.Software));
  }
  if (spec.generator !== undefined) add(rngAttribute(spec.generator));
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
