// A managed object as the operations see it: its attributes and, in clear and in memory only,
// its object structure (Symmetric Key{Key Block}, Certificate{...}, ...). The repository wraps
// the structure with the KeyWrapper before it reaches any store.

import { KmipError } from '../errors.js';
import type { Attribute } from '../kmip/attributes.js';
import type { StructureItem, TtlvItem } from '../ttlv/item.js';
import { ObjectType, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { type KmipVersion, tagDefByName, tagName, versionAtLeast } from '../ttlv/spec/index.js';

export interface ManagedObject {
  uid: string;
  owner: string;
  objectType: number;
  state: number;
  attributes: Attribute[];
  /** The object structure in clear; null once destroyed. Loaded on demand. */
  object: StructureItem | null;
  revision: number;
  createdAt: number;
}

/** Object Type enumeration ↔ the tag of its object structure (KMIP 2.1 §2.2). */
const OBJECT_TAGS: ReadonlyArray<[number, number]> = [
  [ObjectType.Certificate, Tag.Certificate],
  [ObjectType.SymmetricKey, Tag.SymmetricKey],
  [ObjectType.PublicKey, Tag.PublicKey],
  [ObjectType.PrivateKey, Tag.PrivateKey],
  [ObjectType.SplitKey, Tag.SplitKey],
  [ObjectType.Template, Tag.Template],
  [ObjectType.SecretData, Tag.SecretData],
  [ObjectType.OpaqueObject, Tag.OpaqueObject],
  [ObjectType.PGPKey, Tag.PGPKey],
];
const TAG_BY_TYPE = new Map(OBJECT_TAGS);
const TYPE_BY_TAG = new Map(OBJECT_TAGS.map(([t, g]) => [g, t]));

export function objectTagFor(objectType: number): number | undefined {
  return TAG_BY_TYPE.get(objectType);
}
export function objectTypeForTag(tag: number): number | undefined {
  return TYPE_BY_TAG.get(tag);
}

export function attr(mo: { attributes: Attribute[] }, name: string): TtlvItem | undefined {
  return mo.attributes.find((a) => a.name === name)?.value;
}

export function attrs(mo: { attributes: Attribute[] }, name: string): TtlvItem[] {
  return mo.attributes.filter((a) => a.name === name).map((a) => a.value);
}

/** Replaces every instance of the attribute named by its tag with one value. */
export function setAttr(mo: { attributes: Attribute[] }, value: TtlvItem): void {
  const name = tagName(value.tag);
  const at = mo.attributes.findIndex((a) => a.name === name);
  const rest = mo.attributes.filter((a) => a.name !== name);
  rest.splice(at === -1 ? rest.length : at, 0, { name, value });
  mo.attributes = rest;
}

export function isAttributeName(name: string): boolean {
  return tagDefByName(name) !== undefined;
}

/**
 * The reason for an operation refused in the object's current state: KMIP 1.x answers
 * Permission Denied, KMIP 2.x has Wrong Key Lifecycle State (KMIP 2.1 §11.1).
 */
export function wrongState(version: KmipVersion, message: string): KmipError {
  return new KmipError(
    versionAtLeast(version, '2.0')
      ? ResultReason.WrongKeyLifecycleState
      : ResultReason.PermissionDenied,
    message,
  );
}
