// Which attributes a client may add, change or delete, and how many instances each may have
// (KMIP 2.1 §4 attribute tables, "Modifiable by client" and "Single instance"; KMIP 1.4 §3).
// Failures carry the 2.x reasons, or their 1.x equivalents for 1.x requests.

import { KmipError } from '../errors.js';
import type { Attribute } from '../kmip/attributes.js';
import { dateOf } from '../kmip/items.js';
import type { OperationContext } from '../operations/context.js';
import { ResultReason, State } from '../ttlv/spec/generated.js';
import { type KmipVersion, versionAtLeast } from '../ttlv/spec/index.js';
import { wrongState } from './managed-object.js';
import { indexEntries } from './repository.js';

/** Set by the server only; a client request to change them is refused. */
const READ_ONLY = new Set([
  'UniqueIdentifier',
  'ObjectType',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'CryptographicDomainParameters',
  'CertificateType',
  'CertificateLength',
  'CertificateIdentifier',
  'CertificateSubject',
  'CertificateIssuer',
  'X_509CertificateIdentifier',
  'X_509CertificateSubject',
  'X_509CertificateIssuer',
  'DigitalSignatureAlgorithm',
  'Digest',
  'State',
  'InitialDate',
  'LastChangeDate',
  'OriginalCreationDate',
  'DestroyDate',
  'CompromiseDate',
  'CompromiseOccurrenceDate',
  'RevocationReason',
  'ArchiveDate',
  'Fresh',
  'KeyValuePresent',
  'LeaseTime',
  'AlwaysSensitive',
  'NeverExtractable',
  'ShortUniqueIdentifier',
]);

/** Attributes that may have several instances; every other standard attribute has one. */
const MULTI_INSTANCE = new Set([
  'Name',
  'Link',
  'ObjectGroup',
  'AlternativeName',
  'KeyValueLocation',
  'ApplicationSpecificInformation',
  'CryptographicParameters',
  'Digest',
]);

export function isCustom(a: Attribute): boolean {
  return a.name.includes('-');
}

export function isMultiInstance(name: string): boolean {
  return MULTI_INSTANCE.has(name) || name.includes('-');
}

function byVersion(version: KmipVersion, v2: number, v1: number, message: string): KmipError {
  return new KmipError(versionAtLeast(version, '2.0') ? v2 : v1, message);
}

export function requireWritable(version: KmipVersion, name: string): void {
  if (READ_ONLY.has(name)) {
    throw byVersion(
      version,
      ResultReason.AttributeReadOnly,
      ResultReason.PermissionDenied,
      `${name} is set by the server and cannot be changed by a client`,
    );
  }
}

export function requireNotPresent(
  version: KmipVersion,
  list: readonly Attribute[],
  name: string,
): void {
  if (!isMultiInstance(name) && list.some((a) => a.name === name)) {
    throw byVersion(
      version,
      ResultReason.AttributeSingleValued,
      ResultReason.IndexOutOfBounds,
      `${name} has a single instance and is already set`,
    );
  }
}

export function attributeNotFound(version: KmipVersion, name: string): KmipError {
  return byVersion(
    version,
    ResultReason.AttributeNotFound,
    ResultReason.ItemNotFound,
    `the object has no ${name} attribute`,
  );
}

/**
 * Lifecycle dates may only move forward with the lifecycle (KMIP 2.1 §4.1 Activation Date,
 * §4.17 Deactivation Date): the Activation Date can be set only while Pre-Active, the
 * Deactivation Date only before the object is Deactivated.
 */
export function requireDateChangeAllowed(ctx: OperationContext, state: number, a: Attribute): void {
  if (a.name === 'ActivationDate' && state !== State.PreActive) {
    throw wrongState(ctx.version, 'the Activation Date can only be set while Pre-Active');
  }
  if (a.name === 'DeactivationDate' && state !== State.PreActive && state !== State.Active) {
    throw wrongState(ctx.version, 'the Deactivation Date can no longer be changed');
  }
  if (
    (a.name === 'ActivationDate' || a.name === 'DeactivationDate') &&
    dateOf(a.value) === undefined
  ) {
    throw new KmipError(ResultReason.InvalidField, `${a.name} must be a Date-Time`);
  }
}

/** KMIP 2.x: Name values are unique among the caller's objects. */
export async function requireUniqueName(
  ctx: OperationContext,
  uid: string,
  a: Attribute,
): Promise<void> {
  if (a.name !== 'Name' || !versionAtLeast(ctx.version, '2.0')) return;
  const [entry] = indexEntries([a]);
  if (entry === undefined) return;
  const hits = await ctx.store.locate({
    owner: ctx.isAdmin ? undefined : ctx.identity,
    filters: [{ name: 'Name', op: 'eq', value: entry.value }],
    limit: 2,
  });
  if (hits.length > 0) {
    throw new KmipError(
      ResultReason.NonUniqueNameAttribute,
      hits.includes(uid) ? 'the object already has this Name' : 'another object has this Name',
    );
  }
}
