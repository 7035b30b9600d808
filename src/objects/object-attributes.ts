// Attributes the server reads from a registered object itself.
//
// Keys (KMIP 2.1 §4.7 Cryptographic Algorithm, §4.9 Cryptographic Length; KMIP 1.4 §3.4, §3.5:
// "SHALL be set by the server" for keys): from the Key Block when it names them, otherwise from
// the key — Raw and Transparent Symmetric Key bytes × 8, DER keys (PKCS#1, PKCS#8, X.509, SEC1)
// through inspectKeyDer, Transparent RSA/DSA/EC structures from their modulus or curve. Key
// material in a DER format that is no key, or a key of the wrong class, is refused with Invalid
// Field at Register.
//
// Certificates (KMIP 1.4 §3.8–3.16, KMIP 2.1 §4.2–4.4, §4.14, §4.64–4.66; all "set by the
// server" from the certificate): Certificate Type, Certificate Length, X.509 Certificate
// Identifier, Subject and Issuer, the deprecated KMIP 1.0 Certificate Identifier, Subject and
// Issuer, Digital Signature Algorithm, and the certified key's Cryptographic Algorithm and
// Length. All are stored; Get Attributes shows each version only the tags it defines.
//
// Recommended Curve is not derived: it is no attribute of its own in any KMIP version, only a
// field of Cryptographic Domain Parameters, which is optional and which PyKMIP 0.10 cannot parse.

import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import { encodeDer } from '../crypto/der.js';
import { inspectKeyDer, type KeyDerInfo } from '../crypto/key-formats.js';
import type { KeyAlgorithmName } from '../crypto/oids.js';
import { type CertificateInfo, parseCertificate } from '../crypto/x509.js';
import { invalidField, KmipError } from '../errors.js';
import type { Attribute } from '../kmip/attributes.js';
import { bytesOf, childOf, item, numberOf } from '../kmip/items.js';
import { bigIntegerToBigint } from '../ttlv/big-integer.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import {
  CertificateType,
  CryptographicAlgorithm,
  KeyFormatType,
  Tag,
} from '../ttlv/spec/generated.js';
import {
  enumDefForTag,
  enumName,
  enumValue,
  tagDef,
  tagDefByName,
  tagName,
} from '../ttlv/spec/index.js';
import { attr } from './managed-object.js';

export function derivedAttributes(
  _objectType: number,
  object: StructureItem,
  given: readonly Attribute[],
): Attribute[] {
  const has = (name: string) => attr({ attributes: [...given] }, name) !== undefined;
  const found =
    object.tag === Tag.Certificate ? certificateAttributes(object) : keyAttributes(object);
  const out: Attribute[] = [];
  if (found.algorithm !== undefined && !has('CryptographicAlgorithm')) {
    out.push({
      name: 'CryptographicAlgorithm',
      value: item.enum(Tag.CryptographicAlgorithm, found.algorithm),
    });
  }
  if (found.length !== undefined && !has('CryptographicLength')) {
    out.push({
      name: 'CryptographicLength',
      value: item.int(Tag.CryptographicLength, found.length),
    });
  }
  for (const value of found.always) out.push({ name: tagName(value.tag), value });
  return out;
}

interface Found {
  algorithm?: number;
  length?: number;
  /** Attributes the server sets whatever the client sent. */
  always: TtlvItem[];
}

// ---------------------------------------------------------------------------------------------
// Keys

const DER_FORMATS: ReadonlySet<number> = new Set([
  KeyFormatType.PKCS_1,
  KeyFormatType.PKCS_8,
  KeyFormatType.X_509,
  KeyFormatType.ECPrivateKey,
]);

const KEY_CLASS = new Map<number, 'private' | 'public'>([
  [Tag.PrivateKey, 'private'],
  [Tag.PublicKey, 'public'],
]);

type SizeField = 'modulus' | 'p' | 'curve';
const A = CryptographicAlgorithm;
const K = KeyFormatType;

/** Transparent structures (KMIP 2.1 §2.1.7) → the algorithm they imply and their size field. */
const TRANSPARENT = new Map<number, { algorithm: number; size: SizeField }>(
  (
    [
      [K.TransparentRSAPrivateKey, A.RSA, 'modulus'],
      [K.TransparentRSAPublicKey, A.RSA, 'modulus'],
      [K.TransparentDSAPrivateKey, A.DSA, 'p'],
      [K.TransparentDSAPublicKey, A.DSA, 'p'],
      [K.TransparentECPrivateKey, A.EC, 'curve'],
      [K.TransparentECPublicKey, A.EC, 'curve'],
      [K.TransparentECDSAPrivateKey, A.ECDSA, 'curve'],
      [K.TransparentECDSAPublicKey, A.ECDSA, 'curve'],
      [K.TransparentECDHPrivateKey, A.ECDH, 'curve'],
      [K.TransparentECDHPublicKey, A.ECDH, 'curve'],
      [K.TransparentECMQVPrivateKey, A.ECMQV, 'curve'],
      [K.TransparentECMQVPublicKey, A.ECMQV, 'curve'],
    ] as const
  ).map(([format, algorithm, size]) => [format, { algorithm, size }]),
);

function keyAttributes(object: StructureItem): Found {
  const block = childOf(object, Tag.KeyBlock);
  if (block === undefined) return { always: [] };
  const fromBlock: Found = {
    algorithm: numberOf(childOf(block, Tag.CryptographicAlgorithm)),
    length: numberOf(childOf(block, Tag.CryptographicLength)),
    always: [],
  };
  const format = numberOf(childOf(block, Tag.KeyFormatType));
  const material = childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial);
  // A wrapped key's Key Value is ciphertext: only the Key Block can speak for it.
  if (format === undefined || material === undefined || childOf(block, Tag.KeyWrappingData)) {
    return fromBlock;
  }
  const fromKey = keyFacts(object.tag, format, material);
  return {
    algorithm: fromBlock.algorithm ?? fromKey.algorithm,
    length: fromBlock.length ?? fromKey.length,
    always: [],
  };
}

function keyFacts(objectTag: number, format: number, material: TtlvItem): Omit<Found, 'always'> {
  const symmetric = objectTag === Tag.SymmetricKey;
  if (symmetric && format === KeyFormatType.Raw) {
    const key = bytesOf(material);
    return key === undefined ? {} : { length: key.length * 8 };
  }
  if (symmetric && format === KeyFormatType.TransparentSymmetricKey) {
    const key = bytesOf(childOf(material, Tag.Key));
    return key === undefined ? {} : { length: key.length * 8 };
  }
  if (DER_FORMATS.has(format)) return derFacts(objectTag, format, material);
  const transparent = TRANSPARENT.get(format);
  if (transparent !== undefined) return transparentFacts(format, transparent, material);
  return {};
}

/**
 * DER keys are read as what they are, not as their label: real clients mislabel them (PyKMIP's
 * own demos register a PKCS#1 key as PKCS#8 and another as X.509). Bytes that are no key at
 * all, or a key of the wrong class for the object, are refused.
 */
function derFacts(objectTag: number, format: number, material: TtlvItem): Omit<Found, 'always'> {
  const what = formatSpecName(format);
  const der = bytesOf(material);
  if (der === undefined) throw invalidField(`${what} Key Material is not a Byte String`);
  let info: KeyDerInfo;
  try {
    info = inspectKeyDer(der);
  } catch (err) {
    if (!(err instanceof KmipError)) throw err;
    throw invalidField(`${what} Key Material is not a valid key (${err.message})`);
  }
  const keyClass = KEY_CLASS.get(objectTag);
  if (keyClass !== undefined && keyClass !== info.keyClass) {
    const object = tagDef(objectTag)?.specName ?? tagName(objectTag);
    throw invalidField(`${what} Key Material of a ${object} holds a ${info.keyClass} key`);
  }
  return { algorithm: algorithmValue(info.algorithm), length: info.lengthBits };
}

/** 'PKCS#8', 'Transparent RSA Public Key': the spec's spelling, for messages. */
function formatSpecName(format: number): string {
  const value = enumDefForTag(Tag.KeyFormatType)?.values.find((v) => v.value === format);
  return value?.specName ?? `Key Format Type ${format}`;
}

function transparentFacts(
  format: number,
  shape: { algorithm: number; size: SizeField },
  material: TtlvItem,
): Omit<Found, 'always'> {
  const what = formatSpecName(format);
  if (material.type !== ItemType.Structure) throw invalidField(`${what} is not a Structure`);
  if (shape.size === 'curve') {
    const curve = numberOf(childOf(material, Tag.RecommendedCurve));
    if (curve === undefined) throw invalidField(`${what} has no Recommended Curve`);
    return { algorithm: shape.algorithm, length: curveBits(curve) };
  }
  const field = childOf(material, shape.size === 'modulus' ? Tag.Modulus : Tag.P);
  if (field?.type !== ItemType.BigInteger) {
    throw invalidField(`${what} has no ${shape.size === 'modulus' ? 'Modulus' : 'P'}`);
  }
  const n = bigIntegerToBigint(field.value);
  if (n <= 0n) throw invalidField(`${what}: the ${shape.size} is not positive`);
  return { algorithm: shape.algorithm, length: n.toString(2).length };
}

/** Field size of a Recommended Curve from its name: P-256 → 256, SECT571K1 → 571, ... */
function curveBits(curve: number): number | undefined {
  const digits = enumName(Tag.RecommendedCurve, curve)?.match(/(\d{3})/)?.[1];
  return digits === undefined ? undefined : Number(digits);
}

/** KMIP Cryptographic Algorithm for a key algorithm; X25519/X448 and RSA-PSS have none. */
function algorithmValue(name: KeyAlgorithmName | string): number | undefined {
  return enumValue(Tag.CryptographicAlgorithm, name);
}

// ---------------------------------------------------------------------------------------------
// Certificates

function certificateAttributes(object: StructureItem): Found {
  const type = numberOf(childOf(object, Tag.CertificateType));
  const value = bytesOf(childOf(object, Tag.CertificateValue));
  if (type === undefined || value === undefined) {
    throw invalidField('Certificate needs Certificate Type and Certificate Value');
  }
  const always: TtlvItem[] = [
    item.enum(Tag.CertificateType, type),
    item.int(Tag.CertificateLength, value.length),
  ];
  if (type !== CertificateType.X_509) return { always };
  let cert: CertificateInfo;
  try {
    cert = parseCertificate(value);
  } catch (err) {
    if (!(err instanceof KmipError)) throw err;
    throw invalidField(`Certificate Value is not a valid X.509 certificate (${err.message})`);
  }
  always.push(...x509Attributes(cert), ...x509Attributes1x(cert), ...nameComponents(cert));
  const signature = enumValue(Tag.DigitalSignatureAlgorithm, cert.signatureAlgorithm);
  if (signature !== undefined) always.push(item.enum(Tag.DigitalSignatureAlgorithm, signature));
  return {
    algorithm: algorithmValue(cert.publicKeyAlgorithm),
    length: cert.publicKeyLengthBits,
    always,
  };
}

/**
 * KMIP 1.4+ Certificate Subject/Issuer CN, O, OU, Email, C, ST, L, UID, Serial Number, Title,
 * DC and DN Qualifier (KMIP 2.1 §4.8-4.9): one text attribute per name component.
 */
const NAME_COMPONENTS: ReadonlyArray<[string, string]> = [
  ['CN', 'CN'],
  ['O', 'O'],
  ['OU', 'OU'],
  ['emailAddress', 'Email'],
  ['C', 'C'],
  ['ST', 'ST'],
  ['L', 'L'],
  ['UID', 'UID'],
  ['serialNumber', 'SerialNumber'],
  ['title', 'Title'],
  ['DC', 'DC'],
  ['dnQualifier', 'DNQualifier'],
];

function nameComponents(cert: CertificateInfo): TtlvItem[] {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert.der);
  } catch {
    // Fuzz regression 001: DER our reader accepts but OpenSSL's does not.
    throw invalidField('Certificate Value is not a valid X.509 certificate');
  }
  const out: TtlvItem[] = [];
  for (const [side, text] of [
    ['Subject', x509.subject],
    ['Issuer', x509.issuer],
  ] as const) {
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      const kind = NAME_COMPONENTS.find(([short]) => short === line.slice(0, eq));
      const tag = kind && tagDefByName(`Certificate${side}${kind[1]}`)?.tag;
      if (tag !== undefined) out.push(item.text(tag, line.slice(eq + 1)));
    }
  }
  return out;
}

/** KMIP 1.1+ X.509 Certificate Identifier, Subject and Issuer: DER names and serial number. */
function x509Attributes(cert: CertificateInfo): TtlvItem[] {
  const subject = [item.bytes(Tag.SubjectDistinguishedName, cert.subjectDer)];
  if (cert.subjectAltNameDer !== undefined) {
    subject.push(item.bytes(Tag.SubjectAlternativeName, cert.subjectAltNameDer));
  }
  const issuer = [item.bytes(Tag.IssuerDistinguishedName, cert.issuerDer)];
  if (cert.issuerAltNameDer !== undefined) {
    issuer.push(item.bytes(Tag.IssuerAlternativeName, cert.issuerAltNameDer));
  }
  return [
    item.struct(Tag.X_509CertificateIdentifier, [
      item.bytes(Tag.IssuerDistinguishedName, cert.issuerDer),
      item.bytes(Tag.CertificateSerialNumber, serialNumberDer(cert.serialNumber)),
    ]),
    item.struct(Tag.X_509CertificateSubject, subject),
    item.struct(Tag.X_509CertificateIssuer, issuer),
  ];
}

/**
 * Certificate Serial Number as the certificate holds it, a DER INTEGER with its tag and length,
 * like the DER names beside it (TC-CERTATTR-1-14/-20, TC-ECC-3-14/-20, TC-IMPEXP-5-20 show
 * 0208 3132333435363738 for serial 0x3132333435363738).
 */
function serialNumberDer(content: Uint8Array): Buffer {
  return encodeDer(new asn1js.Integer({ valueHex: content }));
}

/**
 * An X.509 Certificate Identifier with its serial number as a DER INTEGER, the form Locate
 * indexes whichever form the value has: a certificate taken from a PKCS#12 container shows the
 * content octets (TC-PKCS12-2-14/-20, src/operations/pkcs12-register.ts), and those test cases
 * locate it by the DER INTEGER. Serial numbers are at most 20 octets (RFC 5280 §4.1.2.2), so a
 * DER INTEGER here has a short-form length; content octets that read as one (a serial starting
 * 02 nn, nn the count of octets after it) are taken as that INTEGER.
 */
export function derSerialIdentifier(value: StructureItem): StructureItem {
  return {
    ...value,
    value: value.value.map((field) => {
      const serial = field.tag === Tag.CertificateSerialNumber ? bytesOf(field) : undefined;
      if (serial === undefined) return field;
      const isDer = serial.length >= 3 && serial[0] === 0x02 && serial[1] === serial.length - 2;
      return isDer ? field : item.bytes(Tag.CertificateSerialNumber, serialNumberDer(serial));
    }),
  };
}

/**
 * KMIP 1.0 Certificate Identifier, Subject and Issuer (deprecated in 1.1, gone in 2.0): the
 * names as RFC 4514 text, the serial number as hex, one text per subject alternative name.
 */
function x509Attributes1x(cert: CertificateInfo): TtlvItem[] {
  return [
    item.struct(Tag.CertificateIdentifier, [
      item.text(Tag.Issuer, cert.issuer),
      item.text(Tag.SerialNumber, cert.serialNumberHex),
    ]),
    item.struct(Tag.CertificateSubject, [
      item.text(Tag.CertificateSubjectDistinguishedName, cert.subject),
      ...cert.subjectAltNames.map((n) => item.text(Tag.CertificateSubjectAlternativeName, n.value)),
    ]),
    item.struct(Tag.CertificateIssuer, [
      item.text(Tag.CertificateIssuerDistinguishedName, cert.issuer),
    ]),
  ];
}
