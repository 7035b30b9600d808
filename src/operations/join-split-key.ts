// KMIP 2.1 §6.1.30 Join Split Key (KMIP 1.4 §4.39): the key or secret that Split Key objects
// were split from, registered as a new object of the requested type. The parts must agree on
// Split Key Parts, Threshold and Method; fewer parts than the threshold (or, for XOR, than all
// parts) fail with Cryptographic Failure, as in TC-SJ-1-14 to TC-SJ-4-14. Algorithm and length
// come from the request's attributes, else from the parts' Key Blocks.

import { symmetricKeyBytes } from '../crypto/keygen.js';
import { joinGf256, joinXor, type Share } from '../crypto/split-key.js';
import { KmipError } from '../errors.js';
import { attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { childOf, item, numberOf } from '../kmip/items.js';
import { enumeration, many, opt, struct, text } from '../kmip/schema.js';
import { DESTROYED_STATES } from '../objects/lifecycle.js';
import { attr, wrongState } from '../objects/managed-object.js';
import { keyBlock, newManagedObject } from '../objects/new-object.js';
import { insertObject, loadObject } from '../objects/repository.js';
import type { StructureItem } from '../ttlv/item.js';
import {
  KeyFormatType,
  ObjectType,
  ResultReason,
  SplitKeyMethod,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import { requireOnline } from './archive.js';
import { type OperationContext, operation } from './context.js';
import { givenAttributes } from './create.js';
import { keyBytes, SPLITTABLE } from './create-split-key.js';
import { versionReason } from './crypto-usage.js';
import { UidResult } from './uid-payload.js';

const JoinSplitKeyRequest = struct({
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifiers: many(text(Tag.UniqueIdentifier)),
  secretDataType: opt(enumeration(Tag.SecretDataType)),
  templateAttribute: opt(templateAttribute(Tag.TemplateAttribute)),
  attributes: opt(attributeSet(Tag.Attributes)),
});

interface Part extends Share {
  parts: number | undefined;
  threshold: number | undefined;
  method: number | undefined;
  algorithm: number | undefined;
  length: number | undefined;
}

function failure(message: string): KmipError {
  return new KmipError(ResultReason.CryptographicFailure, message);
}

async function loadPart(ctx: OperationContext, uid: string): Promise<Part> {
  const mo = await loadObject(ctx, uid, { material: true });
  requireOnline(mo);
  if (DESTROYED_STATES.includes(mo.state) || mo.object === null) {
    throw wrongState(ctx.version, `split key ${uid} has been destroyed`);
  }
  if (mo.objectType !== ObjectType.SplitKey) {
    throw new KmipError(
      versionReason(ctx.version, ResultReason.InvalidObjectType, ResultReason.InvalidField),
      `object ${uid} is no Split Key`,
    );
  }
  const o = mo.object;
  const block = childOf(o, Tag.KeyBlock);
  const value = keyBytes(block);
  const id = numberOf(childOf(o, Tag.KeyPartIdentifier));
  if (value === undefined || id === undefined) {
    throw failure(`split key ${uid} has no usable key part`);
  }
  return {
    id,
    value,
    parts: numberOf(childOf(o, Tag.SplitKeyParts)),
    threshold: numberOf(childOf(o, Tag.SplitKeyThreshold)),
    method: numberOf(childOf(o, Tag.SplitKeyMethod)),
    algorithm:
      numberOf(childOf(block, Tag.CryptographicAlgorithm)) ??
      numberOf(attr(mo, 'CryptographicAlgorithm')),
    length:
      numberOf(childOf(block, Tag.CryptographicLength)) ??
      numberOf(attr(mo, 'CryptographicLength')),
  };
}

function join(parts: Part[]): Uint8Array {
  const [first] = parts;
  if (first === undefined) throw new KmipError(ResultReason.InvalidField, 'no split keys given');
  const { parts: n, threshold, method } = first;
  if (
    parts.some((p) => p.parts !== n || p.threshold !== threshold || p.method !== method) ||
    threshold === undefined ||
    n === undefined
  ) {
    throw failure('the split keys do not come from one split');
  }
  if (new Set(parts.map((p) => p.id)).size !== parts.length) {
    throw failure('a key part was given twice');
  }
  if (parts.some((p) => p.value.length !== first.value.length)) {
    throw failure('the key parts differ in length');
  }
  if (parts.length < threshold) {
    throw failure(`${parts.length} key parts given, ${threshold} needed`);
  }
  switch (method) {
    case SplitKeyMethod.XOR:
      if (parts.length !== n) throw failure(`XOR needs all ${n} key parts`);
      return joinXor(parts);
    case SplitKeyMethod.PolynomialSharingGF2_8:
      return joinGf256(parts);
    default:
      throw new KmipError(
        ResultReason.FeatureNotSupported,
        `Split Key Method ${method === undefined ? 'none' : (enumName(Tag.SplitKeyMethod, method) ?? method)} is not supported`,
      );
  }
}

function pick(given: Attribute[], name: string, fallback: number | undefined) {
  return numberOf(attr({ attributes: given }, name)) ?? fallback;
}

export const joinSplitKey = operation({
  request: JoinSplitKeyRequest,
  response: UidResult,
  async run(req, ctx) {
    if (!SPLITTABLE.includes(req.objectType)) {
      throw new KmipError(
        ResultReason.FeatureNotSupported,
        'Join Split Key makes symmetric keys and secret data',
      );
    }
    if (new Set(req.uniqueIdentifiers).size !== req.uniqueIdentifiers.length) {
      throw new KmipError(ResultReason.InvalidField, 'a split key was named twice');
    }
    const parts: Part[] = [];
    for (const uid of req.uniqueIdentifiers) parts.push(await loadPart(ctx, uid));
    const secret = join(parts);
    const given = givenAttributes(req);
    const algorithm = pick(given, 'CryptographicAlgorithm', parts[0]?.algorithm);
    const length = pick(given, 'CryptographicLength', parts[0]?.length);
    let object: StructureItem;
    const derived: Attribute[] = [];
    if (req.objectType === ObjectType.SymmetricKey) {
      if (algorithm === undefined || length === undefined) {
        throw new KmipError(
          ResultReason.InvalidField,
          'Cryptographic Algorithm and Length are needed for the joined key',
        );
      }
      const name = enumName(Tag.CryptographicAlgorithm, algorithm) ?? String(algorithm);
      if (symmetricKeyBytes(name, length) !== secret.length) {
        throw failure('the joined key does not have the Cryptographic Length given');
      }
      object = item.struct(Tag.SymmetricKey, [
        keyBlock(KeyFormatType.Raw, item.bytes(Tag.KeyMaterial, secret), algorithm, length),
      ]);
      derived.push(
        { name: 'CryptographicAlgorithm', value: item.enum(Tag.CryptographicAlgorithm, algorithm) },
        { name: 'CryptographicLength', value: item.int(Tag.CryptographicLength, length) },
      );
    } else {
      if (req.secretDataType === undefined) {
        throw new KmipError(ResultReason.InvalidField, 'Secret Data Type is required');
      }
      object = item.struct(Tag.SecretData, [
        item.enum(Tag.SecretDataType, req.secretDataType),
        keyBlock(KeyFormatType.Opaque, item.bytes(Tag.KeyMaterial, secret)),
      ]);
    }
    const format =
      req.objectType === ObjectType.SymmetricKey ? KeyFormatType.Raw : KeyFormatType.Opaque;
    const mo = newManagedObject(ctx, {
      objectType: req.objectType,
      object,
      given,
      derived,
      digestOf: { bytes: secret, keyFormatType: format },
    });
    await insertObject(ctx, mo);
    secret.fill(0);
    return { uniqueIdentifier: mo.uid };
  },
});
