// Key Format Type conversion on Get (KMIP 2.1 §6.1.23, Key Format Type §11.17, Transparent key
// structures §2.1.7). A stored key is read into its components, then written in the requested
// format; the Key Block's other fields (Cryptographic Algorithm and Length, Key Value
// attributes) stay as stored. Supported:
//   symmetric    Raw ↔ Transparent Symmetric Key
//   RSA private  PKCS#1 ↔ PKCS#8 ↔ Transparent RSA Private Key
//   RSA public   PKCS#1 ↔ X.509 (SubjectPublicKeyInfo) ↔ Transparent RSA Public Key
//   EC private   PKCS#8 ↔ EC Private Key (SEC1) ↔ Transparent EC Private Key
//   EC public    X.509 ↔ Transparent EC Public Key, and → Raw (the SEC1 point)
// The KMIP 1.x Transparent ECDSA/ECDH/ECMQV structures have the EC shape and are read and
// written the same way. A key stored wrapped (Key Wrapping Data) is never converted.

import {
  type EcPrivateComponents,
  type EcPublicComponents,
  ecPrivateFromPkcs8,
  ecPrivateFromSec1,
  ecPrivateToPkcs8,
  ecPrivateToSec1,
  ecPublicFromSpki,
  ecPublicToSpki,
  inspectKeyDer,
  type RsaPrivateComponents,
  type RsaPrivateInput,
  type RsaPublicComponents,
  rsaPrivateFromPkcs1,
  rsaPrivateFromPkcs8,
  rsaPrivateToPkcs1,
  rsaPrivateToPkcs8,
  rsaPublicFromPkcs1,
  rsaPublicFromSpki,
  rsaPublicToPkcs1,
  rsaPublicToSpki,
} from '../crypto/key-formats.js';
import { type CurveName, curveByName } from '../crypto/oids.js';
import { modInverse } from '../crypto/rsa-math.js';
import { invalidField, KmipError } from '../errors.js';
import { bytesOf, childOf, item, numberOf } from '../kmip/items.js';
import { bigIntegerToBigint, bigintToBigInteger } from '../ttlv/big-integer.js';
import type { StructureItem, TtlvItem } from '../ttlv/item.js';
import { ItemType } from '../ttlv/item.js';
import { KeyFormatType, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { enumName, enumValue } from '../ttlv/spec/index.js';

/** A key read out of its stored format. */
export type KeyComponents =
  | { kind: 'symmetric'; key: Uint8Array }
  | { kind: 'rsa-private'; key: RsaPrivateComponents }
  | { kind: 'rsa-public'; key: RsaPublicComponents }
  | { kind: 'ec-private'; key: EcPrivateComponents }
  | { kind: 'ec-public'; key: EcPublicComponents };

const EC_PRIVATE_FORMATS: ReadonlySet<number> = new Set([
  KeyFormatType.TransparentECPrivateKey,
  KeyFormatType.TransparentECDSAPrivateKey,
  KeyFormatType.TransparentECDHPrivateKey,
  KeyFormatType.TransparentECMQVPrivateKey,
]);
const EC_PUBLIC_FORMATS: ReadonlySet<number> = new Set([
  KeyFormatType.TransparentECPublicKey,
  KeyFormatType.TransparentECDSAPublicKey,
  KeyFormatType.TransparentECDHPublicKey,
  KeyFormatType.TransparentECMQVPublicKey,
]);

const formatName = (v: number) => enumName(Tag.KeyFormatType, v) ?? `0x${v.toString(16)}`;

function notSupported(from: number, to: number, why = ''): KmipError {
  return new KmipError(
    ResultReason.KeyFormatTypeNotSupported,
    `cannot convert ${formatName(from)} to ${formatName(to)}${why}`,
  );
}

/** Returns the object structure with its Key Block in the requested format. */
export function convertKeyFormat(object: StructureItem, to: number): StructureItem {
  const block = childOf(object, Tag.KeyBlock);
  if (block === undefined || block.type !== ItemType.Structure) {
    throw new KmipError(ResultReason.KeyFormatTypeNotSupported, 'object has no Key Block');
  }
  const from = numberOf(childOf(block, Tag.KeyFormatType));
  if (from === undefined)
    throw new KmipError(ResultReason.GeneralFailure, 'Key Block has no format');
  if (from === to) return object;
  if (childOf(block, Tag.KeyWrappingData) !== undefined) {
    throw notSupported(from, to, ': the key is stored wrapped');
  }
  const material = childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial);
  if (material === undefined) throw notSupported(from, to);
  const key = readKey(object.tag, from, material);
  const converted = key === undefined ? undefined : writeKey(key, to);
  if (converted === undefined) throw notSupported(from, to);
  const newBlock = item.struct(
    Tag.KeyBlock,
    block.value.map((c) => {
      if (c.tag === Tag.KeyFormatType) return item.enum(Tag.KeyFormatType, to);
      if (c.tag === Tag.KeyValue && c.type === ItemType.Structure) {
        return item.struct(
          Tag.KeyValue,
          c.value.map((m) => (m.tag === Tag.KeyMaterial ? converted : m)),
        );
      }
      return c;
    }),
  );
  return item.struct(
    object.tag,
    object.value.map((c) => (c.tag === Tag.KeyBlock ? newBlock : c)),
  );
}

/**
 * Reads Key Material stored in `format` inside an object tagged `objectTag`; undefined when the
 * format or key algorithm is not one this server converts. Malformed material → Invalid Field.
 */
export function readKey(
  objectTag: number,
  format: number,
  material: TtlvItem,
): KeyComponents | undefined {
  const der = bytesOf(material);
  switch (format) {
    case KeyFormatType.Raw:
      return objectTag === Tag.SymmetricKey && der !== undefined
        ? { kind: 'symmetric', key: der }
        : undefined;
    case KeyFormatType.TransparentSymmetricKey: {
      const key = bytesOf(childOf(material, Tag.Key));
      if (key === undefined) throw invalidField('Transparent Symmetric Key has no Key');
      return { kind: 'symmetric', key };
    }
    case KeyFormatType.PKCS_1:
    case KeyFormatType.PKCS_8:
    case KeyFormatType.X_509:
    case KeyFormatType.ECPrivateKey:
      return der === undefined ? undefined : readDer(der);
    case KeyFormatType.TransparentRSAPrivateKey:
      return { kind: 'rsa-private', key: transparentRsaPrivate(material) };
    case KeyFormatType.TransparentRSAPublicKey: {
      const n = big(material, Tag.Modulus);
      const e = big(material, Tag.PublicExponent);
      if (n === undefined || e === undefined) {
        throw invalidField('Transparent RSA Public Key needs Modulus and Public Exponent');
      }
      return { kind: 'rsa-public', key: { n, e } };
    }
  }
  if (EC_PRIVATE_FORMATS.has(format)) {
    const d = big(material, Tag.D);
    if (d === undefined) throw invalidField(`${formatName(format)} has no D`);
    const key: EcPrivateComponents = { curve: transparentCurve(material, format), d };
    // Written once through SEC1 so that an invalid D is refused here, not on output.
    return { kind: 'ec-private', key: ecPrivateFromSec1(ecPrivateToSec1(key)) };
  }
  if (EC_PUBLIC_FORMATS.has(format)) {
    const q = bytesOf(childOf(material, Tag.QString));
    if (q === undefined) throw invalidField(`${formatName(format)} has no Q String`);
    const key = { curve: transparentCurve(material, format), q: Buffer.from(q) };
    return { kind: 'ec-public', key: ecPublicFromSpki(ecPublicToSpki(key)) };
  }
  return undefined;
}

/** Writes Key Material in `format`; undefined when the key cannot take that format. */
export function writeKey(key: KeyComponents, format: number): TtlvItem | undefined {
  const bytes = (b: Uint8Array) => item.bytes(Tag.KeyMaterial, b);
  switch (key.kind) {
    case 'symmetric':
      if (format === KeyFormatType.Raw) return bytes(key.key);
      if (format === KeyFormatType.TransparentSymmetricKey) {
        return item.struct(Tag.KeyMaterial, [item.bytes(Tag.Key, key.key)]);
      }
      return undefined;
    case 'rsa-private': {
      const k = key.key;
      if (format === KeyFormatType.PKCS_1) return bytes(rsaPrivateToPkcs1(k));
      if (format === KeyFormatType.PKCS_8) return bytes(rsaPrivateToPkcs8(k));
      if (format === KeyFormatType.TransparentRSAPrivateKey) {
        return item.struct(Tag.KeyMaterial, [
          bigItem(Tag.Modulus, k.n),
          bigItem(Tag.PrivateExponent, k.d),
          bigItem(Tag.PublicExponent, k.e),
          bigItem(Tag.P, k.p),
          bigItem(Tag.Q, k.q),
          bigItem(Tag.PrimeExponentP, k.dp),
          bigItem(Tag.PrimeExponentQ, k.dq),
          bigItem(Tag.CRTCoefficient, k.qinv),
        ]);
      }
      return undefined;
    }
    case 'rsa-public':
      if (format === KeyFormatType.PKCS_1) return bytes(rsaPublicToPkcs1(key.key));
      if (format === KeyFormatType.X_509) return bytes(rsaPublicToSpki(key.key));
      if (format === KeyFormatType.TransparentRSAPublicKey) {
        return item.struct(Tag.KeyMaterial, [
          bigItem(Tag.Modulus, key.key.n),
          bigItem(Tag.PublicExponent, key.key.e),
        ]);
      }
      return undefined;
    case 'ec-private':
      if (format === KeyFormatType.PKCS_8) return bytes(ecPrivateToPkcs8(key.key));
      if (format === KeyFormatType.ECPrivateKey) return bytes(ecPrivateToSec1(key.key));
      if (EC_PRIVATE_FORMATS.has(format)) {
        return item.struct(Tag.KeyMaterial, [
          item.enum(Tag.RecommendedCurve, curveValue(key.key.curve)),
          bigItem(Tag.D, key.key.d),
        ]);
      }
      return undefined;
    case 'ec-public':
      if (format === KeyFormatType.X_509) return bytes(ecPublicToSpki(key.key));
      if (format === KeyFormatType.Raw) return bytes(key.key.q);
      if (EC_PUBLIC_FORMATS.has(format)) {
        return item.struct(Tag.KeyMaterial, [
          item.enum(Tag.RecommendedCurve, curveValue(key.key.curve)),
          item.bytes(Tag.QString, key.key.q),
        ]);
      }
      return undefined;
  }
}

/** DER keys are read as what they are, not as labelled: PyKMIP's demos mislabel PKCS#1 keys. */
function readDer(der: Uint8Array): KeyComponents | undefined {
  const info = inspectKeyDer(der);
  const id = `${info.algorithm} ${info.format} ${info.keyClass}`;
  switch (id) {
    case 'RSA PKCS1 private':
      return { kind: 'rsa-private', key: rsaPrivateFromPkcs1(der) };
    case 'RSA PKCS8 private':
      return { kind: 'rsa-private', key: rsaPrivateFromPkcs8(der) };
    case 'RSA PKCS1 public':
      return { kind: 'rsa-public', key: rsaPublicFromPkcs1(der) };
    case 'RSA SPKI public':
      return { kind: 'rsa-public', key: rsaPublicFromSpki(der) };
    case 'EC PKCS8 private':
      return { kind: 'ec-private', key: ecPrivateFromPkcs8(der) };
    case 'EC SEC1 private':
      return { kind: 'ec-private', key: ecPrivateFromSec1(der) };
    case 'EC SPKI public':
      return { kind: 'ec-public', key: ecPublicFromSpki(der) };
  }
  return undefined;
}

function big(material: TtlvItem, tag: number): bigint | undefined {
  const found = childOf(material, tag);
  return found?.type === ItemType.BigInteger ? bigIntegerToBigint(found.value) : undefined;
}

function bigItem(tag: number, value: bigint): TtlvItem {
  return { tag, type: ItemType.BigInteger, value: bigintToBigInteger(value) };
}

/**
 * Transparent RSA Private Key (KMIP 2.1 §2.1.7.4): only Modulus is required. The DER forms need
 * e, d and the primes; a missing e is recomputed from d and the primes, the rest from n, e, d.
 */
function transparentRsaPrivate(material: TtlvItem): RsaPrivateComponents {
  const n = big(material, Tag.Modulus);
  const d = big(material, Tag.PrivateExponent);
  const p = big(material, Tag.P);
  const q = big(material, Tag.Q);
  let e = big(material, Tag.PublicExponent);
  if (n === undefined || d === undefined) {
    throw invalidField('Transparent RSA Private Key needs Modulus and Private Exponent');
  }
  if (e === undefined && p !== undefined && q !== undefined && p > 1n && q > 1n) {
    e = modInverse(d, lcm(p - 1n, q - 1n));
  }
  if (e === undefined) {
    throw invalidField('Transparent RSA Private Key needs Public Exponent or P and Q');
  }
  const input: RsaPrivateInput = { n, e, d };
  if (p !== undefined && q !== undefined) Object.assign(input, { p, q });
  const dp = big(material, Tag.PrimeExponentP);
  const dq = big(material, Tag.PrimeExponentQ);
  const qinv = big(material, Tag.CRTCoefficient);
  if (dp !== undefined && dq !== undefined && qinv !== undefined && p !== undefined) {
    Object.assign(input, { dp, dq, qinv });
  }
  // The PKCS#1 round trip completes the missing values and checks them (p·q = n).
  return rsaPrivateFromPkcs1(rsaPrivateToPkcs1(input));
}

function lcm(a: bigint, b: bigint): bigint {
  let [x, y] = [a, b];
  while (y !== 0n) [x, y] = [y, x % y];
  return (a / x) * b;
}

function transparentCurve(material: TtlvItem, format: number): CurveName {
  const value = numberOf(childOf(material, Tag.RecommendedCurve));
  const name = value === undefined ? undefined : enumName(Tag.RecommendedCurve, value);
  const curve = name === undefined ? undefined : curveByName(name);
  if (curve === undefined) {
    throw invalidField(`${formatName(format)}: Recommended Curve missing or not supported`);
  }
  return curve.name;
}

export function curveValue(curve: CurveName): number {
  const value = enumValue(Tag.RecommendedCurve, curve);
  if (value === undefined) throw new KmipError(ResultReason.GeneralFailure, `no curve ${curve}`);
  return value;
}
