// Managed objects in and out: the object structure a Register request carries (KMIP 2.1 §2.2),
// built from bytes and a few typed fields, and the plain view of the object a Get returns.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { bytesOf, childOf, item, numberOf } from '../kmip/items.js';
import { OBJECT_KEYS, type ObjectKey, objectKeyForTag } from '../kmip/object-fields.js';
import type { get } from '../operations/get.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import {
  CertificateType,
  CryptographicAlgorithm,
  KeyFormatType,
  ObjectType,
  SecretDataType,
  Tag,
} from '../ttlv/spec/generated.js';
import type { AttributeInput } from './attributes.js';
import { type EnumInput, enumArg, enumText, plainValue } from './attributes.js';

export interface RegisterInput {
  /** 'SymmetricKey', 'PrivateKey', 'PublicKey', 'Certificate', 'SecretData', 'OpaqueObject'. */
  objectType: EnumInput;
  /** Key material, certificate (DER), secret or opaque bytes. */
  value: Uint8Array;
  /** Default: Raw (symmetric), PKCS_8 (private), X_509 (public), Opaque (secret data). */
  keyFormatType?: EnumInput;
  /** Symmetric keys: required. Asymmetric keys: read from the DER when absent. */
  cryptographicAlgorithm?: EnumInput;
  /** Default: bits of the key material (symmetric) or of the key (asymmetric). */
  cryptographicLength?: number;
  /** Secret Data Type; default Password. */
  secretDataType?: EnumInput;
  attributes?: AttributeInput;
}

/** Opaque Data Type has no standard values; PyKMIP and others use this extension value. */
const OPAQUE_DATA_TYPE_NONE = 0x80000000;

const OBJECT_TAG = new Map<number, number>([
  [ObjectType.SymmetricKey, Tag.SymmetricKey],
  [ObjectType.PrivateKey, Tag.PrivateKey],
  [ObjectType.PublicKey, Tag.PublicKey],
  [ObjectType.Certificate, Tag.Certificate],
  [ObjectType.SecretData, Tag.SecretData],
  [ObjectType.OpaqueObject, Tag.OpaqueObject],
]);

const DEFAULT_FORMAT = new Map<number, number>([
  [ObjectType.SymmetricKey, KeyFormatType.Raw],
  [ObjectType.PrivateKey, KeyFormatType.PKCS_8],
  [ObjectType.PublicKey, KeyFormatType.X_509],
  [ObjectType.SecretData, KeyFormatType.Opaque],
]);

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

/** Algorithm and size of a DER key, so servers that require them in the Key Block get them. */
function inspectDer(
  objectType: number,
  format: number,
  der: Uint8Array,
): { algorithm?: number; length?: number } {
  let key: KeyObject;
  try {
    const b = Buffer.from(der);
    if (objectType === ObjectType.PrivateKey) {
      const type =
        format === KeyFormatType.PKCS_1
          ? 'pkcs1'
          : format === KeyFormatType.ECPrivateKey
            ? 'sec1'
            : 'pkcs8';
      key = createPrivateKey({ key: b, format: 'der', type });
    } else {
      const type = format === KeyFormatType.PKCS_1 ? 'pkcs1' : 'spki';
      key = createPublicKey({ key: b, format: 'der', type });
    }
  } catch {
    return {};
  }
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithm: CryptographicAlgorithm.RSA, length: d.modulusLength };
    case 'dsa':
      return { algorithm: CryptographicAlgorithm.DSA, length: d.modulusLength };
    case 'ec':
      return {
        algorithm: CryptographicAlgorithm.EC,
        length: CURVE_BITS[d.namedCurve ?? ''],
      };
    case 'ed25519':
      return { algorithm: CryptographicAlgorithm.Ed25519, length: 256 };
    default:
      return {};
  }
}

function keyBlock(
  format: number,
  material: Uint8Array,
  algorithm: number | undefined,
  length: number | undefined,
): StructureItem {
  const children: TtlvItem[] = [
    item.enum(Tag.KeyFormatType, format),
    item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, material)]),
  ];
  if (algorithm !== undefined) children.push(item.enum(Tag.CryptographicAlgorithm, algorithm));
  if (length !== undefined) children.push(item.int(Tag.CryptographicLength, length));
  return item.struct(Tag.KeyBlock, children);
}

/** The Register payload's Object Type and object structure. */
export function objectToRegister(input: RegisterInput): {
  objectType: number;
  object: { key: ObjectKey; item: StructureItem };
} {
  const objectType = enumArg(Tag.ObjectType, input.objectType);
  const tag = OBJECT_TAG.get(objectType);
  if (tag === undefined) {
    throw new TypeError(`cannot register a ${enumText(Tag.ObjectType, objectType)}`);
  }
  const key = objectKeyForTag(tag)!;
  const value = input.value;
  let children: TtlvItem[];
  if (objectType === ObjectType.Certificate) {
    children = [
      item.enum(Tag.CertificateType, CertificateType.X_509),
      item.bytes(Tag.CertificateValue, value),
    ];
  } else if (objectType === ObjectType.OpaqueObject) {
    children = [
      item.enum(Tag.OpaqueDataType, OPAQUE_DATA_TYPE_NONE),
      item.bytes(Tag.OpaqueDataValue, value),
    ];
  } else {
    const format =
      input.keyFormatType === undefined
        ? DEFAULT_FORMAT.get(objectType)!
        : enumArg(Tag.KeyFormatType, input.keyFormatType);
    let algorithm =
      input.cryptographicAlgorithm === undefined
        ? undefined
        : enumArg(Tag.CryptographicAlgorithm, input.cryptographicAlgorithm);
    let length = input.cryptographicLength;
    if (objectType === ObjectType.SymmetricKey) {
      if (algorithm === undefined) throw new TypeError('a symmetric key needs its algorithm');
      length ??= value.length * 8;
    } else if (objectType !== ObjectType.SecretData) {
      const found = inspectDer(objectType, format, value);
      algorithm ??= found.algorithm;
      length ??= found.length;
    }
    const block = keyBlock(format, value, algorithm, length);
    children =
      objectType === ObjectType.SecretData
        ? [
            item.enum(
              Tag.SecretDataType,
              enumArg(Tag.SecretDataType, input.secretDataType ?? SecretDataType.Password),
            ),
            block,
          ]
        : [block];
  }
  return { objectType, object: { key, item: item.struct(tag, children) } };
}

type GetResponse = ReturnType<typeof get.response.read>;

export interface ObjectValue {
  uid: string;
  objectType: string;
  keyFormatType?: string;
  cryptographicAlgorithm?: string;
  cryptographicLength?: number;
  /** Key material (Raw, PKCS#8, X.509 …), certificate DER, secret or opaque bytes. */
  value?: Buffer;
  /** Transparent key material, field by field. */
  keyMaterial?: Record<string, unknown>;
  /** The object structure as received. */
  object?: TtlvItem;
}

export function objectFromResponse(r: GetResponse): ObjectValue {
  const object = OBJECT_KEYS.map((k) => r[k]).find((o) => o !== undefined);
  const out: ObjectValue = {
    uid: r.uniqueIdentifier,
    objectType: enumText(Tag.ObjectType, r.objectType),
    object,
  };
  if (object === undefined) return out;
  const certificate = bytesOf(childOf(object, Tag.CertificateValue));
  const opaque = bytesOf(childOf(object, Tag.OpaqueDataValue));
  if (certificate !== undefined || opaque !== undefined) {
    out.value = Buffer.from((certificate ?? opaque)!);
    return out;
  }
  const block = childOf(object, Tag.KeyBlock);
  const format = numberOf(childOf(block, Tag.KeyFormatType));
  const algorithm = numberOf(childOf(block, Tag.CryptographicAlgorithm));
  if (format !== undefined) out.keyFormatType = enumText(Tag.KeyFormatType, format);
  if (algorithm !== undefined) {
    out.cryptographicAlgorithm = enumText(Tag.CryptographicAlgorithm, algorithm);
  }
  out.cryptographicLength = numberOf(childOf(block, Tag.CryptographicLength));
  const keyValue = childOf(block, Tag.KeyValue);
  // A wrapped key travels as a Byte String Key Value.
  const material =
    keyValue?.type === ItemType.ByteString ? keyValue : childOf(keyValue, Tag.KeyMaterial);
  if (material?.type === ItemType.ByteString) out.value = Buffer.from(material.value);
  else if (material?.type === ItemType.Structure) {
    out.keyMaterial = plainValue(material) as Record<string, unknown>;
  }
  return out;
}
