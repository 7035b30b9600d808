// KMIP 2.1 §6.1.10 Create Split Key (KMIP 1.4 §4.38): a symmetric key or secret, existing or
// generated from the request's Cryptographic Algorithm and Length, split into Split Key Parts
// objects (KMIP 2.1 §2.2.5) of which Split Key Threshold give it back (src/crypto/split-key.ts).
// Methods: XOR (threshold = parts) and Polynomial Sharing GF(2^8). Each part carries the
// original key's algorithm and length in its Key Block (TC-SJ-2-14). The response lists the
// parts in Key Part Identifier order; the ID Placeholder becomes part 1.

import { generateSymmetricKey } from '../crypto/keygen.js';
import { MAX_GF256_PARTS, type Share, splitGf256, splitXor } from '../crypto/split-key.js';
import { KmipError } from '../errors.js';
import { attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { bytesOf, childOf, item, numberOf } from '../kmip/items.js';
import { bigInteger, enumeration, int, many, opt, struct, text } from '../kmip/schema.js';
import { requireConstraints } from '../objects/constraints.js';
import { requireKeyValue } from '../objects/key-value.js';
import { DESTROYED_STATES } from '../objects/lifecycle.js';
import { attr, type ManagedObject, wrongState } from '../objects/managed-object.js';
import { keyBlock, newManagedObject } from '../objects/new-object.js';
import { insertObject, loadObject } from '../objects/repository.js';
import type { TtlvItem } from '../ttlv/item.js';
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
import { givenAttributes, requiredNumber } from './create.js';

const CreateSplitKeyRequest = struct({
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  splitKeyParts: int(Tag.SplitKeyParts),
  splitKeyThreshold: int(Tag.SplitKeyThreshold),
  splitKeyMethod: enumeration(Tag.SplitKeyMethod),
  primeFieldSize: opt(bigInteger(Tag.PrimeFieldSize)),
  templateAttribute: opt(templateAttribute(Tag.TemplateAttribute)),
  attributes: opt(attributeSet(Tag.Attributes)),
});

const CreateSplitKeyResponse = struct({ uniqueIdentifiers: many(text(Tag.UniqueIdentifier)) });

/** Objects whose key value can be split and joined. */
export const SPLITTABLE: readonly number[] = [ObjectType.SymmetricKey, ObjectType.SecretData];

/** The key bytes of a Key Block in Raw or Opaque form, or of a Transparent Symmetric Key. */
export function keyBytes(block: TtlvItem | undefined): Uint8Array | undefined {
  const material = childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial);
  return bytesOf(material) ?? bytesOf(childOf(material, Tag.Key));
}

interface Secret {
  bytes: Uint8Array;
  algorithm: number | undefined;
  length: number | undefined;
}

async function existingSecret(ctx: OperationContext, uid: string): Promise<Secret> {
  const mo: ManagedObject = await loadObject(ctx, uid, { material: true });
  requireOnline(mo);
  if (DESTROYED_STATES.includes(mo.state) || mo.object === null) {
    throw wrongState(ctx.version, `object ${uid} has been destroyed`);
  }
  if (!SPLITTABLE.includes(mo.objectType)) {
    throw new KmipError(ResultReason.InvalidField, 'only symmetric keys and secret data split');
  }
  requireKeyValue(ctx.version, uid, mo.object, 'split');
  const block = childOf(mo.object, Tag.KeyBlock);
  const bytes = keyBytes(block);
  if (bytes === undefined) {
    throw new KmipError(
      ResultReason.KeyFormatTypeNotSupported,
      `the key value of ${uid} is not in a format that can be split`,
    );
  }
  return {
    bytes,
    algorithm:
      numberOf(childOf(block, Tag.CryptographicAlgorithm)) ??
      numberOf(attr(mo, 'CryptographicAlgorithm')),
    length:
      numberOf(childOf(block, Tag.CryptographicLength)) ??
      numberOf(attr(mo, 'CryptographicLength')),
  };
}

function split(secret: Uint8Array, method: number, parts: number, threshold: number): Share[] {
  const invalid = (m: string) => new KmipError(ResultReason.InvalidField, m);
  if (parts < 2 || parts > MAX_GF256_PARTS) {
    throw invalid(`Split Key Parts must be 2 to ${MAX_GF256_PARTS}`);
  }
  switch (method) {
    case SplitKeyMethod.XOR:
      if (threshold !== parts) throw invalid('XOR splitting needs every part: threshold = parts');
      return splitXor(secret, parts);
    case SplitKeyMethod.PolynomialSharingGF2_8:
      if (threshold < 2 || threshold > parts) {
        throw invalid('Split Key Threshold must be 2 to Split Key Parts');
      }
      return splitGf256(secret, parts, threshold);
    default:
      throw new KmipError(
        ResultReason.FeatureNotSupported,
        `Split Key Method ${enumName(Tag.SplitKeyMethod, method) ?? method} is not supported`,
      );
  }
}

export const createSplitKey = operation({
  request: CreateSplitKeyRequest,
  response: CreateSplitKeyResponse,
  async run(req, ctx) {
    if (req.objectType !== ObjectType.SplitKey) {
      throw new KmipError(ResultReason.InvalidField, 'Create Split Key makes Split Key objects');
    }
    const given = givenAttributes(req);
    let secret: Secret;
    if (req.uniqueIdentifier !== undefined) {
      secret = await existingSecret(ctx, req.uniqueIdentifier);
    } else {
      const algorithm = requiredNumber(given, 'CryptographicAlgorithm');
      const length = requiredNumber(given, 'CryptographicLength');
      const name = enumName(Tag.CryptographicAlgorithm, algorithm) ?? String(algorithm);
      secret = { bytes: generateSymmetricKey(name, length), algorithm, length };
    }
    const { splitKeyParts: parts, splitKeyThreshold: threshold, splitKeyMethod: method } = req;
    const shares = split(secret.bytes, method, parts, threshold);
    secret.bytes.fill(0);
    const derived: Attribute[] = [];
    if (secret.algorithm !== undefined) {
      derived.push({
        name: 'CryptographicAlgorithm',
        value: item.enum(Tag.CryptographicAlgorithm, secret.algorithm),
      });
    }
    if (secret.length !== undefined) {
      derived.push({
        name: 'CryptographicLength',
        value: item.int(Tag.CryptographicLength, secret.length),
      });
    }
    const objects = shares.map((share) =>
      newManagedObject(ctx, {
        objectType: ObjectType.SplitKey,
        object: item.struct(Tag.SplitKey, [
          item.int(Tag.SplitKeyParts, parts),
          item.int(Tag.KeyPartIdentifier, share.id),
          item.int(Tag.SplitKeyThreshold, threshold),
          item.enum(Tag.SplitKeyMethod, method),
          keyBlock(
            KeyFormatType.Raw,
            item.bytes(Tag.KeyMaterial, share.value),
            secret.algorithm,
            secret.length,
          ),
        ]),
        given,
        derived,
        digestOf: { bytes: share.value, keyFormatType: KeyFormatType.Raw },
      }),
    );
    await requireConstraints(ctx, objects);
    for (const mo of objects) await insertObject(ctx, mo);
    for (const share of shares) share.value.fill(0);
    const uids = objects.map((mo) => mo.uid);
    ctx.placeholder = uids[0];
    return { uniqueIdentifiers: uids };
  },
});
