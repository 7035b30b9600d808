// Digest (KMIP 2.1 §4.13, KMIP 1.4 §3.17): SHA-256 over the Key Material of a key or Secret
// Data — a Byte String as it is, a structure (Transparent keys) as its TTLV encoding — over the
// Certificate Value of a certificate, and over the Opaque Data Value of an Opaque Object.
//
// The mandatory instance is taken in the default Key Format Type for the object type and
// algorithm (the KMIP 2.x table of default Key Format Types); a key registered in another
// format gets a second instance in that format (TC-DIGESTS-1-21: a Transparent Symmetric Key has
// a Raw and a Transparent Symmetric Key digest). When the server cannot read the key in the
// default format (a DSA key, a Secret Data in Opaque format) the registered format stands alone.
//
// Key Format Type is required in a Digest of a key or Secret Data and optional otherwise. A
// certificate's names Raw, the Certificate Value digested as it is, as the test cases show
// (TC-CERTATTR-1-14, TC-CERTATTR-1-20, TC-IMPEXP-5-20); an opaque object's names Raw the same
// way, since PyKMIP 0.10 cannot decode a Digest without one (kmip/core/attributes.py Digest.read
// reads all three fields).
//
// A key stored wrapped or a meta-data-only object has no digest: the server never sees the key.

import { createHash } from 'node:crypto';
import { KmipError } from '../errors.js';
import { bytesOf, childOf, item, numberOf } from '../kmip/items.js';
import { encodeTtlv } from '../ttlv/binary.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import {
  CryptographicAlgorithm,
  HashingAlgorithm,
  KeyFormatType,
  ObjectType,
  Tag,
} from '../ttlv/spec/generated.js';
import { convertKeyFormat } from './key-format.js';

/** What one Digest instance is taken over, and the format it names. */
export interface DigestSource {
  bytes: Uint8Array;
  keyFormatType?: number;
}

/**
 * The Key Format Type a certificate is kept in, for its Digest and (KMIP 2.x) its Key Format
 * Type attribute: Raw, the Certificate Value as registered (TC-CERTATTR-1-20, TC-IMPEXP-5-20).
 */
export const CERTIFICATE_FORMAT = KeyFormatType.Raw;

const A = CryptographicAlgorithm;
const F = KeyFormatType;
const EC_FAMILY: ReadonlySet<number> = new Set([A.EC, A.ECDSA, A.ECDH, A.ECMQV]);

/** The default Key Format Type of a key, by object type and algorithm (KMIP 2.x). */
export function defaultKeyFormat(objectType: number, algorithm?: number): number | undefined {
  switch (objectType) {
    case ObjectType.SymmetricKey:
    case ObjectType.SecretData:
    case ObjectType.SplitKey:
    case ObjectType.PGPKey:
      return F.Raw;
    case ObjectType.PrivateKey:
      if (algorithm === A.RSA) return F.PKCS_1;
      if (algorithm === A.DSA) return F.TransparentDSAPrivateKey;
      if (algorithm !== undefined && EC_FAMILY.has(algorithm)) return F.TransparentECPrivateKey;
      return undefined;
    case ObjectType.PublicKey:
      if (algorithm === A.RSA) return F.PKCS_1;
      if (algorithm === A.DSA) return F.TransparentDSAPublicKey;
      if (algorithm !== undefined && EC_FAMILY.has(algorithm)) return F.TransparentECPublicKey;
      return undefined;
    default:
      return undefined;
  }
}

/** The bytes a Key Material is digested over: a Byte String, or a structure's TTLV encoding. */
function materialBytes(material: TtlvItem): Uint8Array | undefined {
  if (material.type === ItemType.Structure) return encodeTtlv(material);
  return bytesOf(material);
}

function keyMaterialOf(object: StructureItem): TtlvItem | undefined {
  return childOf(childOf(childOf(object, Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
}

/**
 * What the Digest instances of a new object are taken over. `algorithm` is the key's
 * Cryptographic Algorithm when its Key Block does not name one.
 */
export function digestSources(
  objectType: number,
  object: StructureItem,
  algorithm?: number,
): DigestSource[] {
  if (object.tag === Tag.Certificate) {
    const value = bytesOf(childOf(object, Tag.CertificateValue));
    return value === undefined ? [] : [{ bytes: value, keyFormatType: CERTIFICATE_FORMAT }];
  }
  if (object.tag === Tag.OpaqueObject) {
    const value = bytesOf(childOf(object, Tag.OpaqueDataValue));
    return value === undefined ? [] : [{ bytes: value, keyFormatType: F.Raw }];
  }
  const block = childOf(object, Tag.KeyBlock);
  const format = numberOf(childOf(block, Tag.KeyFormatType));
  const material = keyMaterialOf(object);
  if (format === undefined || material === undefined || childOf(block, Tag.KeyWrappingData)) {
    return [];
  }
  const registered = materialBytes(material);
  if (registered === undefined) return [];
  const own: DigestSource = { bytes: registered, keyFormatType: format };
  const fallback = defaultKeyFormat(
    objectType,
    numberOf(childOf(block, Tag.CryptographicAlgorithm)) ?? algorithm,
  );
  if (fallback === undefined || fallback === format) return [own];
  const inDefault = convertedMaterial(object, fallback);
  return inDefault === undefined ? [own] : [{ bytes: inDefault, keyFormatType: fallback }, own];
}

/** The Key Material in another format, or undefined when this server cannot convert it. */
function convertedMaterial(object: StructureItem, format: number): Uint8Array | undefined {
  try {
    const material = keyMaterialOf(convertKeyFormat(object, format));
    return material === undefined ? undefined : materialBytes(material);
  } catch (err) {
    if (err instanceof KmipError) return undefined;
    throw err;
  }
}

export function digestItem(source: DigestSource): TtlvItem {
  return item.struct(Tag.Digest, [
    item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
    item.bytes(Tag.DigestValue, createHash('sha256').update(source.bytes).digest()),
    ...(source.keyFormatType === undefined
      ? []
      : [item.enum(Tag.KeyFormatType, source.keyFormatType)]),
  ]);
}
