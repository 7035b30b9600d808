// KMIP 2.1 §6.1.40 Re-key (KMIP 1.4 §4.4): a replacement for a symmetric key, of the same
// algorithm and length, with the attributes of the existing key as the Re-key Attribute
// Requirements table sets them:
// - Unique Identifier, Initial Date, Last Change Date, Digest, State: new, as for any new key;
// - Destroy Date, Compromise (Occurrence) Date, Revocation Reason, Archive Date: not set;
// - Activation Date, Process Start Date, Protect Stop Date, Deactivation Date: copied, or with
//   an Offset, Activation Date = now + Offset and the others kept at their distance from it;
// - Usage Limits: the Total, with the whole Total available again;
// - Link: Replaced Object to the existing key, which gets Replacement Object to the new one;
// - Name: every Name moves from the existing key to the replacement (TC-REKEY-1-14);
// - every other attribute is copied; attributes in the request are added, replacing a copied
//   single-instance attribute of the same name.
// The existing key keeps its State.

import { generateSymmetricKey } from '../crypto/keygen.js';
import { KmipError } from '../errors.js';
import { attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { childOf, dateOf, item, numberOf, textOf } from '../kmip/items.js';
import { interval, opt, struct, text } from '../kmip/schema.js';
import { isMultiInstance, requireUniqueName } from '../objects/attribute-rules.js';
import { DESTROYED_STATES } from '../objects/lifecycle.js';
import { attr, type ManagedObject, setAttr, wrongState } from '../objects/managed-object.js';
import { keyBlock, type NewObjectSpec, newManagedObject } from '../objects/new-object.js';
import { generatorFor } from '../objects/random-generators.js';
import { insertObject, loadObject, saveObject } from '../objects/repository.js';
import {
  KeyFormatType,
  LinkType,
  ObjectType,
  ResultReason,
  State,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import { requireOnline } from './archive.js';
import { type OperationContext, operation } from './context.js';
import { givenAttributes, requiredNumber } from './create.js';
import { versionReason } from './crypto-usage.js';
import { targetUid } from './target.js';
import { UidResult } from './uid-payload.js';

const ReKeyRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  offset: opt(interval(Tag.Offset)),
  templateAttribute: opt(templateAttribute(Tag.TemplateAttribute)),
  attributes: opt(attributeSet(Tag.Attributes)),
});

/** Attributes of the existing key that the replacement does not copy. */
const NOT_COPIED = new Set([
  'UniqueIdentifier',
  'ObjectType',
  'State',
  'InitialDate',
  'LastChangeDate',
  'OriginalCreationDate',
  'Digest',
  'Fresh',
  'KeyValuePresent',
  'ShortUniqueIdentifier',
  // KMIP 2.1 §4.46: not copied; the replacement records the generator that made it (the one
  // the Re-key request names, or the default).
  'RandomNumberGenerator',
  'DestroyDate',
  'CompromiseDate',
  'CompromiseOccurrenceDate',
  'RevocationReason',
  'ArchiveDate',
  'Link',
  'UsageLimits',
  'ActivationDate',
  'ProcessStartDate',
  'ProtectStopDate',
  'DeactivationDate',
]);

/** Lifecycle dates, relative to the Activation Date when an Offset is given. */
const DATES: ReadonlyArray<[string, number]> = [
  ['ActivationDate', Tag.ActivationDate],
  ['ProcessStartDate', Tag.ProcessStartDate],
  ['ProtectStopDate', Tag.ProtectStopDate],
  ['DeactivationDate', Tag.DeactivationDate],
];

function replacementDates(
  old: ManagedObject,
  now: bigint,
  offset: number | undefined,
): Attribute[] {
  const out: Attribute[] = [];
  const activation = dateOf(attr(old, 'ActivationDate'));
  const newActivation = offset === undefined ? undefined : now + BigInt(offset);
  for (const [name, tag] of DATES) {
    const was = dateOf(attr(old, name));
    let value: bigint | undefined;
    if (newActivation === undefined) value = was;
    else if (name === 'ActivationDate') value = newActivation;
    else if (was !== undefined && activation !== undefined) {
      value = newActivation + (was - activation);
    }
    if (value !== undefined) out.push({ name, value: item.date(tag, value) });
  }
  return out;
}

export function linkTo(type: number, uid: string): Attribute {
  return {
    name: 'Link',
    value: item.struct(Tag.Link, [
      item.enum(Tag.LinkType, type),
      item.text(Tag.LinkedObjectIdentifier, uid),
    ]),
  };
}

function linkTypeOf(a: Attribute): number | undefined {
  return a.name === 'Link' ? numberOf(childOf(a.value, Tag.LinkType)) : undefined;
}

/** The object a Link of this type on `mo` points at. */
export function linkedUid(mo: ManagedObject, type: number): string | undefined {
  const link = mo.attributes.find((a) => linkTypeOf(a) === type);
  return textOf(childOf(link?.value, Tag.LinkedObjectIdentifier));
}

/** Refuses keys that cannot be replaced: archived, destroyed, or of another object type. */
export function requireReplaceable(ctx: OperationContext, mo: ManagedObject, type: number): void {
  requireOnline(mo);
  if (DESTROYED_STATES.includes(mo.state)) {
    throw wrongState(ctx.version, 'a destroyed key cannot be replaced');
  }
  if (mo.objectType !== type) {
    throw new KmipError(
      versionReason(ctx.version, ResultReason.InvalidObjectType, ResultReason.InvalidField),
      `object ${mo.uid} is no ${enumName(Tag.ObjectType, type) ?? 'key'} to replace`,
    );
  }
}

/**
 * The replacement of `old` holding `spec.object`: old attributes as the table above sets them,
 * then the request's. Client names must be unique (KMIP 2.x) apart from the moving ones.
 */
export async function replacementOf(
  ctx: OperationContext,
  old: ManagedObject,
  requested: readonly Attribute[],
  offset: number | undefined,
  spec: Omit<NewObjectSpec, 'given'>,
): Promise<ManagedObject> {
  let given: Attribute[] = [
    ...old.attributes.filter((a) => !NOT_COPIED.has(a.name)),
    ...replacementDates(old, ctx.now, offset),
  ];
  const total = childOf(attr(old, 'UsageLimits'), Tag.UsageLimitsTotal);
  if (total !== undefined) {
    const unit = childOf(attr(old, 'UsageLimits'), Tag.UsageLimitsUnit);
    given.push({
      name: 'UsageLimits',
      value: item.struct(Tag.UsageLimits, [
        total,
        { ...total, tag: Tag.UsageLimitsCount },
        ...(unit === undefined ? [] : [unit]),
      ]),
    });
  }
  for (const a of requested) {
    if (!isMultiInstance(a.name)) given = given.filter((g) => g.name !== a.name);
    given.push(a);
  }
  const mo = newManagedObject(ctx, { ...spec, given });
  for (const a of requested) await requireUniqueName(ctx, mo.uid, a);
  // Deactivation Date is server-maintained for new objects; a replacement inherits it.
  const deactivation = given.find((a) => a.name === 'DeactivationDate');
  if (deactivation !== undefined) {
    setAttr(mo, deactivation.value);
    const at = dateOf(deactivation.value);
    if (at !== undefined && at <= ctx.now) {
      mo.state = State.Deactivated;
      setAttr(mo, item.enum(Tag.State, State.Deactivated));
    }
  }
  mo.attributes.push(linkTo(LinkType.ReplacedObjectLink, old.uid));
  return mo;
}

/** The existing key after replacement: its names gone, linked to its replacement. */
export function retire(ctx: OperationContext, old: ManagedObject, replacementUid: string): void {
  old.attributes = old.attributes.filter(
    (a) => a.name !== 'Name' && linkTypeOf(a) !== LinkType.ReplacementObjectLink,
  );
  old.attributes.push(linkTo(LinkType.ReplacementObjectLink, replacementUid));
  setAttr(old, item.date(Tag.LastChangeDate, ctx.now));
}

export const reKey = operation({
  request: ReKeyRequest,
  response: UidResult,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const old = await loadObject(ctx, uid);
    requireReplaceable(ctx, old, ObjectType.SymmetricKey);
    const algorithm = requiredNumber(old.attributes, 'CryptographicAlgorithm');
    const length = requiredNumber(old.attributes, 'CryptographicLength');
    const name = enumName(Tag.CryptographicAlgorithm, algorithm) ?? `0x${algorithm.toString(16)}`;
    const requested = givenAttributes(req);
    const generator = generatorFor(requested, ctx.version);
    const material = generateSymmetricKey(name, length, generator.random);
    const mo = await replacementOf(ctx, old, requested, req.offset, {
      objectType: ObjectType.SymmetricKey,
      object: item.struct(Tag.SymmetricKey, [
        keyBlock(KeyFormatType.Raw, item.bytes(Tag.KeyMaterial, material), algorithm, length),
      ]),
      derived: [
        { name: 'CryptographicAlgorithm', value: item.enum(Tag.CryptographicAlgorithm, algorithm) },
        { name: 'CryptographicLength', value: item.int(Tag.CryptographicLength, length) },
      ],
      digestOf: { bytes: material, keyFormatType: KeyFormatType.Raw },
      generator,
    });
    retire(ctx, old, mo.uid);
    await insertObject(ctx, mo);
    await saveObject(ctx, old);
    material.fill(0);
    return { uniqueIdentifier: mo.uid };
  },
});
