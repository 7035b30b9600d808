// One declaration per operation the client speaks: its Operation value, the payload schemas
// (the server's own, from src/operations), how typed arguments become the request payload and
// how the response payload becomes a typed result. Version differences stay in the schemas:
// fields a version does not define are not written, so the same payload serves 1.x and 2.x,
// except where one field name serves both forms (noted below). The cryptographic services are
// in crypto-operations.ts.

import type { Attribute } from '../kmip/attributes.js';
import type { StructSchema } from '../kmip/schema.js';
import { activate } from '../operations/activate.js';
import { addAttribute } from '../operations/add-attribute.js';
import { archive } from '../operations/archive.js';
import { create } from '../operations/create.js';
import { createKeyPair } from '../operations/create-key-pair.js';
import { deleteAttribute } from '../operations/delete-attribute.js';
import { destroy } from '../operations/destroy.js';
import { discoverVersions } from '../operations/discover-versions.js';
import { get } from '../operations/get.js';
import { getAttributeList } from '../operations/get-attribute-list.js';
import { getAttributes } from '../operations/get-attributes.js';
import { locate } from '../operations/locate.js';
import { modifyAttribute } from '../operations/modify-attribute.js';
import { obtainLease } from '../operations/obtain-lease.js';
import { query } from '../operations/query.js';
import { recover } from '../operations/recover.js';
import { register } from '../operations/register.js';
import { reKey } from '../operations/rekey.js';
import { reKeyKeyPair } from '../operations/rekey-key-pair.js';
import { revoke } from '../operations/revoke.js';
import { setAttribute } from '../operations/set-attribute.js';
import { Operation, Tag } from '../ttlv/spec/generated.js';
import { type KmipVersion, versionAtLeast } from '../ttlv/spec/index.js';
import {
  type AttributeInput,
  attributeNameArg,
  attributeRecord,
  type EnumInput,
  enumArg,
  enumText,
  toAttributes,
} from './attributes.js';
import {
  type ObjectValue,
  objectFromResponse,
  objectToRegister,
  type RegisterInput,
} from './objects.js';

export interface OpSpec<A, Req, Res, R> {
  readonly operation: number;
  readonly schemas: { request: StructSchema<Req>; response: StructSchema<Res> };
  payload(args: A, version: KmipVersion): Req;
  result(res: Res, version: KmipVersion): R;
}

export function op<A, Req, Res, R>(spec: OpSpec<A, Req, Res, R>): OpSpec<A, Req, Res, R> {
  return spec;
}

const is2x = (v: KmipVersion) => versionAtLeast(v, '2.0');

/** A target object: its Unique Identifier, or (in a batch) the ID Placeholder when absent. */
export interface Target {
  uid?: string;
}

export interface UidResult {
  uid: string;
}

const uidOnly = <A extends Target>(operation: number, handler: typeof activate) =>
  op({
    operation,
    schemas: handler,
    payload: (a: A) => ({ uniqueIdentifier: a.uid }),
    result: (r): UidResult => ({ uid: r.uniqueIdentifier }),
  });

// ---------------------------------------------------------------------------------------------
// Server information

export interface VersionsArgs {
  versions?: readonly KmipVersion[];
}

export const discoverVersionsOp = op({
  operation: Operation.DiscoverVersions,
  schemas: discoverVersions,
  payload: (a: VersionsArgs) => ({
    versions: (a.versions ?? []).map((v) => {
      const [major, minor] = v.split('.').map(Number) as [number, number];
      return { major, minor };
    }),
  }),
  result: (r): string[] => (r.versions ?? []).map((v) => `${v.major}.${v.minor}`),
});

export interface QueryArgs {
  /** Query Function names; default Query Operations, Objects and Server Information. */
  functions?: readonly EnumInput[];
}

export interface QueryResult {
  operations: string[];
  objectTypes: string[];
  vendorIdentification?: string;
  capabilities: Record<string, unknown>[];
}

export const queryOp = op({
  operation: Operation.Query,
  schemas: query,
  payload: (a: QueryArgs) => ({
    queryFunctions: (
      a.functions ?? ['QueryOperations', 'QueryObjects', 'QueryServerInformation']
    ).map((f) => enumArg(Tag.QueryFunction, f)),
  }),
  result: (r): QueryResult => ({
    operations: r.operations.map((o) => enumText(Tag.Operation, o)),
    objectTypes: r.objectTypes.map((o) => enumText(Tag.ObjectType, o)),
    vendorIdentification: r.vendorIdentification,
    capabilities: r.capabilityInformation.map((c) => ({ ...c })),
  }),
});

// ---------------------------------------------------------------------------------------------
// Objects

export interface CreateArgs extends AttributeInput {}

export interface CreateResult {
  uid: string;
  objectType: string;
}

export const createOp = op({
  operation: Operation.Create,
  schemas: create,
  payload: (a: CreateArgs) => {
    const { objectType, ...rest } = a;
    const list = toAttributes(rest);
    return {
      objectType: enumArg(Tag.ObjectType, (objectType as EnumInput) ?? 'SymmetricKey'),
      templateAttribute: list,
      attributes: list,
    };
  },
  result: (r): CreateResult => ({
    uid: r.uniqueIdentifier,
    objectType: enumText(Tag.ObjectType, r.objectType),
  }),
});

export interface CreateKeyPairArgs {
  /** Attributes of both keys (algorithm, length, curve, names…). */
  common?: AttributeInput;
  privateKey?: AttributeInput;
  publicKey?: AttributeInput;
}

export interface KeyPairResult {
  privateKeyUid: string;
  publicKeyUid: string;
}

export const createKeyPairOp = op({
  operation: Operation.CreateKeyPair,
  schemas: createKeyPair,
  payload: (a: CreateKeyPairArgs) => {
    const common = toAttributes(a.common);
    const priv = toAttributes(a.privateKey);
    const pub = toAttributes(a.publicKey);
    return {
      commonTemplateAttribute: common,
      privateKeyTemplateAttribute: priv,
      publicKeyTemplateAttribute: pub,
      commonAttributes: common,
      privateKeyAttributes: priv,
      publicKeyAttributes: pub,
    };
  },
  result: (r): KeyPairResult => ({
    privateKeyUid: r.privateKeyUniqueIdentifier,
    publicKeyUid: r.publicKeyUniqueIdentifier,
  }),
});

export const registerOp = op({
  operation: Operation.Register,
  schemas: register,
  payload: (a: RegisterInput) => {
    const { objectType, object } = objectToRegister(a);
    const list = toAttributes(a.attributes);
    return {
      objectType,
      templateAttribute: list,
      attributes: list,
      [object.key]: object.item,
    };
  },
  result: (r): UidResult => ({ uid: r.uniqueIdentifier }),
});

export interface GetArgs extends Target {
  /** Key Format Type to return the key in: 'Raw', 'PKCS_8', 'PKCS_1', 'X_509', 'TransparentSymmetricKey', … */
  keyFormatType?: EnumInput;
}

export const getOp = op({
  operation: Operation.Get,
  schemas: get,
  payload: (a: GetArgs) => ({
    uniqueIdentifier: a.uid,
    keyFormatType:
      a.keyFormatType === undefined ? undefined : enumArg(Tag.KeyFormatType, a.keyFormatType),
  }),
  result: (r): ObjectValue => objectFromResponse(r),
});

export interface GetAttributesArgs extends Target {
  /** Attribute names in any spelling; none: every attribute. */
  names?: readonly string[];
}

export interface AttributesResult {
  uid: string;
  /** The attributes in internal form (name + tagged item). */
  list: Attribute[];
  /** The same as plain values keyed by camelCase name. */
  values: Record<string, unknown>;
}

export const getAttributesOp = op({
  operation: Operation.GetAttributes,
  schemas: getAttributes,
  payload: (a: GetAttributesArgs) => {
    const names = (a.names ?? []).map(attributeNameArg);
    return { uniqueIdentifier: a.uid, attributeNames: names, attributeReferences: names };
  },
  result: (r): AttributesResult => {
    const list = [...r.attributeList.map((a) => a.attribute), ...(r.attributes ?? [])];
    return { uid: r.uniqueIdentifier, list, values: attributeRecord(list) };
  },
});

export const getAttributeListOp = op({
  operation: Operation.GetAttributeList,
  schemas: getAttributeList,
  payload: (a: Target) => ({ uniqueIdentifier: a.uid }),
  result: (r): { uid: string; names: string[] } => ({
    uid: r.uniqueIdentifier,
    names: [...new Set([...r.attributeNames, ...r.attributeReferences])],
  }),
});

/** Exactly one attribute, from typed input (`{ objectGroup: 'g' }`) or internal form. */
function single(input: AttributeInput | Attribute): Attribute {
  if (
    typeof input.name === 'string' &&
    typeof input.value === 'object' &&
    input.value !== null &&
    'tag' in input.value
  ) {
    return input as Attribute;
  }
  const list = toAttributes(input as AttributeInput);
  if (list.length !== 1) throw new TypeError('exactly one attribute expected');
  return list[0]!;
}

export interface AttributeEditArgs extends Target {
  attribute: AttributeInput | Attribute;
}

export const addAttributeOp = op({
  operation: Operation.AddAttribute,
  schemas: addAttribute,
  payload: (a: AttributeEditArgs, v) => {
    const attribute = single(a.attribute);
    // `attribute` (1.x Attribute) has no version range in the schema: write one form only.
    return is2x(v)
      ? { uniqueIdentifier: a.uid, newAttribute: attribute }
      : { uniqueIdentifier: a.uid, attribute };
  },
  result: (r): UidResult => ({ uid: r.uniqueIdentifier }),
});

export const setAttributeOp = op({
  operation: Operation.SetAttribute,
  schemas: setAttribute,
  payload: (a: AttributeEditArgs) => ({
    uniqueIdentifier: a.uid,
    newAttribute: single(a.attribute),
  }),
  result: (r): UidResult => ({ uid: r.uniqueIdentifier }),
});

export interface ModifyAttributeArgs extends AttributeEditArgs {
  /** 2.x: the instance to replace (by value). */
  current?: AttributeInput | Attribute;
  /** 1.x: the Attribute Index of the instance to replace; default 0. */
  index?: number;
}

export const modifyAttributeOp = op({
  operation: Operation.ModifyAttribute,
  schemas: modifyAttribute,
  payload: (a: ModifyAttributeArgs) => ({
    uniqueIdentifier: a.uid,
    attribute: { attribute: single(a.attribute), index: a.index ?? 0 },
    currentAttribute: a.current === undefined ? undefined : single(a.current),
    newAttribute: single(a.attribute),
  }),
  result: (r): UidResult => ({ uid: r.uniqueIdentifier }),
});

export interface DeleteAttributeArgs extends Target {
  /** Attribute name in any spelling, or a custom 'x-name'. */
  name: string;
  /** 1.x: which instance; default 0. */
  index?: number;
  /** 2.x: delete the instance with this value rather than by name. */
  current?: AttributeInput | Attribute;
}

export const deleteAttributeOp = op({
  operation: Operation.DeleteAttribute,
  schemas: deleteAttribute,
  payload: (a: DeleteAttributeArgs, v) => {
    const name = attributeNameArg(a.name);
    if (is2x(v) && a.current !== undefined) {
      return { uniqueIdentifier: a.uid, currentAttribute: single(a.current) };
    }
    return {
      uniqueIdentifier: a.uid,
      attributeName: name,
      // Attribute Index has no version range in the schema; 2.x deletes by reference.
      attributeIndex: is2x(v) ? undefined : a.index,
      attributeReference: name,
    };
  },
  result: (r): UidResult => ({ uid: r.uniqueIdentifier }),
});

export interface LocateArgs {
  name?: string;
  objectType?: EnumInput;
  state?: EnumInput;
  objectGroup?: string;
  cryptographicAlgorithm?: EnumInput;
  /** Further criteria. */
  attributes?: AttributeInput;
  maximumItems?: number;
  offsetItems?: number;
}

export interface LocateResult {
  uids: string[];
  /** Total matches, when the server says (1.3+). */
  locatedItems?: number;
}

export const locateOp = op({
  operation: Operation.Locate,
  schemas: locate,
  payload: (a: LocateArgs, v) => {
    const list = toAttributes({
      objectType: a.objectType,
      name: a.name,
      state: a.state,
      objectGroup: a.objectGroup,
      cryptographicAlgorithm: a.cryptographicAlgorithm,
      ...a.attributes,
    });
    return {
      maximumItems: a.maximumItems,
      offsetItems: a.offsetItems,
      // The 1.x `Attribute` list has no version range in the schema: write one form only.
      attributeList: is2x(v) ? [] : list,
      attributes: is2x(v) ? list : undefined,
    };
  },
  result: (r): LocateResult => ({ uids: r.uniqueIdentifiers, locatedItems: r.locatedItems }),
});

export const activateOp = uidOnly<Target>(Operation.Activate, activate);
export const destroyOp = uidOnly<Target>(Operation.Destroy, destroy);
export const archiveOp = uidOnly<Target>(Operation.Archive, archive);
export const recoverOp = uidOnly<Target>(Operation.Recover, recover);

export interface LeaseResult extends UidResult {
  /** Seconds. */
  leaseTime?: number;
  lastChangeDate?: Date;
}

export const obtainLeaseOp = op({
  operation: Operation.ObtainLease,
  schemas: obtainLease,
  payload: (a: Target) => ({ uniqueIdentifier: a.uid }),
  result: (r): LeaseResult => ({
    uid: r.uniqueIdentifier,
    leaseTime: r.leaseTime,
    lastChangeDate:
      r.lastChangeDate === undefined ? undefined : new Date(Number(r.lastChangeDate) * 1000),
  }),
});

export interface ReKeyArgs extends Target {
  /** Seconds between the new key's Initialization Date and its Activation Date. */
  offset?: number;
  attributes?: AttributeInput;
}

export const reKeyOp = op({
  operation: Operation.ReKey,
  schemas: reKey,
  payload: (a: ReKeyArgs) => {
    const list = toAttributes(a.attributes);
    return {
      uniqueIdentifier: a.uid,
      offset: a.offset,
      templateAttribute: list.length > 0 ? list : undefined,
      attributes: list.length > 0 ? list : undefined,
    };
  },
  result: (r): UidResult => ({ uid: r.uniqueIdentifier }),
});

export interface ReKeyKeyPairArgs extends CreateKeyPairArgs {
  /** The private key to replace; in a batch, absent means the ID Placeholder. */
  privateKeyUid?: string;
  offset?: number;
}

export const reKeyKeyPairOp = op({
  operation: Operation.ReKeyKeyPair,
  schemas: reKeyKeyPair,
  payload: (a: ReKeyKeyPairArgs, v) => ({
    ...createKeyPairOp.payload(a, v),
    privateKeyUniqueIdentifier: a.privateKeyUid,
    offset: a.offset,
  }),
  result: (r): KeyPairResult => ({
    privateKeyUid: r.privateKeyUniqueIdentifier,
    publicKeyUid: r.publicKeyUniqueIdentifier,
  }),
});

export interface RevokeArgs extends Target {
  /** Revocation Reason Code; default 'CessationOfOperation'. */
  reason?: EnumInput;
  message?: string;
  /** For a compromise reason: when the compromise happened. */
  compromiseOccurrenceDate?: Date;
}

export const revokeOp = op({
  operation: Operation.Revoke,
  schemas: revoke,
  payload: (a: RevokeArgs) => ({
    uniqueIdentifier: a.uid,
    revocationReason: {
      code: enumArg(Tag.RevocationReasonCode, a.reason ?? 'CessationOfOperation'),
      message: a.message,
    },
    compromiseOccurrenceDate:
      a.compromiseOccurrenceDate === undefined
        ? undefined
        : BigInt(Math.floor(a.compromiseOccurrenceDate.getTime() / 1000)),
  }),
  result: (r): UidResult => ({ uid: r.uniqueIdentifier }),
});
