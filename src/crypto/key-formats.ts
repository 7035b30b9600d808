// Key encodings behind the KMIP Key Format Types (KMIP 1.4 §9.1.3.2.3; KMIP 2.1 §11.26): PKCS#1
// (RFC 8017 Appendix A.1), PKCS#8 (RFC 5208, RFC 5958), SubjectPublicKeyInfo (RFC 5280 §4.1.2.7),
// SEC1 ECPrivateKey (RFC 5915) and the Transparent key components (KMIP 1.4 §2.1.7).
// Structures are read and built with asn1js; node:crypto is the final judge of validity.
// One file because the RSA and EC encodings share the PKCS#8 and SPKI envelope code.

import { createECDH, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { invalidField } from '../errors.js';
import {
  type Asn1,
  algorithmIdentifier,
  bigintToBytes,
  bitStringOctets,
  bytesToBigint,
  decodeDer,
  encodeAlgorithmIdentifier,
  encodeDer,
  encodeUnsigned,
  explicitTagged,
  guardDer,
  objectIdentifier,
  octetString,
  sequence,
  smallInteger,
  unsignedInteger,
} from './der.js';
import {
  type CurveInfo,
  type CurveName,
  curveByName,
  curveByOid,
  type KeyAlgorithmName,
  KeyAlgorithmOid,
  keyAlgorithmName,
} from './oids.js';
import { modInverse, rsaRecoverPrimes } from './rsa-math.js';

export type KeyDerFormat = 'PKCS1' | 'PKCS8' | 'SPKI' | 'SEC1';

export interface KeyDerInfo {
  format: KeyDerFormat;
  keyClass: 'private' | 'public';
  algorithm: KeyAlgorithmName;
  /** Modulus bits (RSA, DSA), field bits (EC), 256 for Ed25519 and X25519. */
  lengthBits?: number;
  curve?: CurveName;
}

/** RSAPrivateKey components (RFC 8017 §3.2, second representation). */
export interface RsaPrivateComponents {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qinv: bigint;
}
/** A Transparent RSA Private Key may carry only n and d (KMIP 1.4 §2.1.7.6); e is then required here. */
export type RsaPrivateInput = Pick<RsaPrivateComponents, 'n' | 'e' | 'd'> &
  Partial<RsaPrivateComponents>;

export interface RsaPublicComponents {
  n: bigint;
  e: bigint;
}

export interface EcPrivateComponents {
  curve: CurveName;
  d: bigint;
  /** Public point as SEC1 §2.3.3 octets; computed from d when absent. */
  q?: Buffer;
}

export interface EcPublicComponents {
  curve: CurveName;
  q: Buffer;
}

const ASN1_NULL = () => new asn1js.Null();

// ---------------------------------------------------------------------------------------------
// Detection

/** Identifies the encoding and algorithm of DER key bytes and checks node:crypto accepts them. */
export function inspectKeyDer(der: Uint8Array): KeyDerInfo {
  return guardDer('key', () => {
    const fields = sequence(decodeDer(der, 'key'), 'key');
    const shape = detectShape(fields);
    const key = loadKeyObject(der, shape);
    const algorithm = shape.algorithm;
    const info: KeyDerInfo = { format: shape.format, keyClass: shape.keyClass, algorithm };
    const details = key.asymmetricKeyDetails;
    if (details?.modulusLength !== undefined) info.lengthBits = details.modulusLength;
    if (algorithm === 'EC') {
      const curve = details?.namedCurve ? curveByName(details.namedCurve) : undefined;
      if (curve) {
        info.curve = curve.name;
        info.lengthBits = curve.bits;
      }
    }
    if (algorithm === 'Ed25519' || algorithm === 'X25519') info.lengthBits = 256;
    if (algorithm === 'Ed448') info.lengthBits = 456;
    if (algorithm === 'X448') info.lengthBits = 448;
    return info;
  });
}

interface Shape {
  format: KeyDerFormat;
  keyClass: 'private' | 'public';
  algorithm: KeyAlgorithmName;
}

function detectShape(fields: Asn1[]): Shape {
  const [first, second] = fields;
  if (first instanceof asn1js.Sequence && second instanceof asn1js.OctetString) {
    // EncryptedPrivateKeyInfo (RFC 5208 §6) is { AlgorithmIdentifier, OCTET STRING }; no
    // KMIP field carries the password it was encrypted under, so it cannot be read.
    throw invalidField(
      'encrypted PKCS#8 (EncryptedPrivateKeyInfo) needs a password KMIP cannot carry',
    );
  }
  if (first instanceof asn1js.Sequence && fields.length === 2) {
    return { format: 'SPKI', keyClass: 'public', algorithm: spkiAlgorithm(fields) };
  }
  if (first instanceof asn1js.Integer && second instanceof asn1js.Sequence) {
    const { oid } = algorithmIdentifier(second, 'PKCS#8 algorithm');
    const algorithm = keyAlgorithmName(oid);
    if (!algorithm) throw invalidField(`PKCS#8 key algorithm ${oid} is not supported`);
    return { format: 'PKCS8', keyClass: 'private', algorithm };
  }
  if (first instanceof asn1js.Integer && second instanceof asn1js.OctetString) {
    return { format: 'SEC1', keyClass: 'private', algorithm: 'EC' };
  }
  if (fields.length === 2 && fields.every((f) => f instanceof asn1js.Integer)) {
    return { format: 'PKCS1', keyClass: 'public', algorithm: 'RSA' };
  }
  if (fields.length >= 9 && fields.slice(0, 9).every((f) => f instanceof asn1js.Integer)) {
    return { format: 'PKCS1', keyClass: 'private', algorithm: 'RSA' };
  }
  throw invalidField('key DER is not PKCS#1, PKCS#8, SubjectPublicKeyInfo or SEC1');
}

function spkiAlgorithm(fields: Asn1[]): KeyAlgorithmName {
  const { oid } = algorithmIdentifier(fields[0], 'SubjectPublicKeyInfo algorithm');
  bitStringOctets(fields[1], 'SubjectPublicKeyInfo key');
  const algorithm = keyAlgorithmName(oid);
  if (!algorithm) throw invalidField(`public key algorithm ${oid} is not supported`);
  return algorithm;
}

function loadKeyObject(der: Uint8Array, shape: Shape): KeyObject {
  const key = Buffer.from(der);
  const type = shape.format.toLowerCase() as 'pkcs1' | 'pkcs8' | 'spki' | 'sec1';
  try {
    if (shape.keyClass === 'public') {
      return createPublicKey({ key, format: 'der', type: type as 'pkcs1' | 'spki' });
    }
    return createPrivateKey({ key, format: 'der', type: type as 'pkcs1' | 'pkcs8' | 'sec1' });
  } catch {
    throw invalidField(`${shape.format} ${shape.algorithm} ${shape.keyClass} key is not valid`);
  }
}

// ---------------------------------------------------------------------------------------------
// PKCS#8 and SubjectPublicKeyInfo envelopes

interface Pkcs8Parts {
  algorithmOid: string;
  parameters: Asn1 | undefined;
  privateKey: Buffer;
}

function parsePkcs8(der: Uint8Array): Pkcs8Parts {
  const fields = sequence(decodeDer(der, 'PKCS#8'), 'PKCS#8');
  if (fields.length < 3 || fields.length > 5) throw invalidField('PKCS#8: wrong field count');
  const version = smallInteger(fields[0], 'PKCS#8 version');
  if (version > 1) throw invalidField(`PKCS#8 version ${version} is not supported`);
  const { oid, parameters } = algorithmIdentifier(fields[1], 'PKCS#8 algorithm');
  return { algorithmOid: oid, parameters, privateKey: octetString(fields[2], 'PKCS#8 key') };
}

function buildPkcs8(algorithm: asn1js.Sequence, privateKey: Buffer): Buffer {
  return encodeDer(
    new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 0 }),
        algorithm,
        new asn1js.OctetString({ valueHex: privateKey }),
      ],
    }),
  );
}

function parseSpki(der: Uint8Array): { algorithmOid: string; parameters?: Asn1; key: Buffer } {
  const fields = sequence(decodeDer(der, 'SubjectPublicKeyInfo'), 'SubjectPublicKeyInfo');
  if (fields.length !== 2) throw invalidField('SubjectPublicKeyInfo: wrong field count');
  const { oid, parameters } = algorithmIdentifier(fields[0], 'SubjectPublicKeyInfo algorithm');
  return {
    algorithmOid: oid,
    parameters,
    key: bitStringOctets(fields[1], 'SubjectPublicKeyInfo key'),
  };
}

function buildSpki(algorithm: asn1js.Sequence, key: Buffer): Buffer {
  return encodeDer(
    new asn1js.Sequence({
      value: [algorithm, new asn1js.BitString({ valueHex: key, unusedBits: 0 })],
    }),
  );
}

function expectAlgorithm(oid: string, wanted: string, what: string): void {
  if (oid !== wanted) throw invalidField(`${what}: key algorithm ${oid} is not ${wanted}`);
}

// ---------------------------------------------------------------------------------------------
// RSA

export function rsaPrivateFromPkcs1(der: Uint8Array): RsaPrivateComponents {
  return guardDer('PKCS#1 RSA private key', () => {
    const fields = sequence(decodeDer(der, 'PKCS#1'), 'PKCS#1 RSA private key');
    const version = smallInteger(fields[0], 'PKCS#1 version');
    if (version !== 0 || fields.length !== 9) {
      throw invalidField('PKCS#1: only two-prime RSA private keys (version 0) are supported');
    }
    const [n, e, d, p, q, dp, dq, qinv] = fields
      .slice(1)
      .map((f, i) => unsignedInteger(f, `PKCS#1 field ${i + 1}`));
    return { n: n!, e: e!, d: d!, p: p!, q: q!, dp: dp!, dq: dq!, qinv: qinv! };
  });
}

/** Builds PKCS#1 RSAPrivateKey; p, q and the CRT values are derived when the input lacks them. */
export function rsaPrivateToPkcs1(input: RsaPrivateInput): Buffer {
  const c = completeRsaPrivate(input);
  const values = [0n, c.n, c.e, c.d, c.p, c.q, c.dp, c.dq, c.qinv];
  return encodeDer(new asn1js.Sequence({ value: values.map(encodeUnsigned) }));
}

export function rsaPrivatePkcs1ToPkcs8(der: Uint8Array): Buffer {
  rsaPrivateFromPkcs1(der);
  return buildPkcs8(encodeAlgorithmIdentifier(KeyAlgorithmOid.RSA, ASN1_NULL()), Buffer.from(der));
}

export function rsaPrivatePkcs8ToPkcs1(der: Uint8Array): Buffer {
  return guardDer('PKCS#8 RSA private key', () => {
    const parts = parsePkcs8(der);
    expectAlgorithm(parts.algorithmOid, KeyAlgorithmOid.RSA, 'PKCS#8');
    rsaPrivateFromPkcs1(parts.privateKey);
    return parts.privateKey;
  });
}

export function rsaPrivateFromPkcs8(der: Uint8Array): RsaPrivateComponents {
  return rsaPrivateFromPkcs1(rsaPrivatePkcs8ToPkcs1(der));
}

export function rsaPrivateToPkcs8(input: RsaPrivateInput): Buffer {
  return rsaPrivatePkcs1ToPkcs8(rsaPrivateToPkcs1(input));
}

export function rsaPublicFromPkcs1(der: Uint8Array): RsaPublicComponents {
  return guardDer('PKCS#1 RSA public key', () => {
    const fields = sequence(decodeDer(der, 'PKCS#1'), 'PKCS#1 RSA public key');
    if (fields.length !== 2) throw invalidField('PKCS#1 RSA public key: wrong field count');
    const n = unsignedInteger(fields[0], 'PKCS#1 modulus');
    const e = unsignedInteger(fields[1], 'PKCS#1 public exponent');
    if (n === 0n || e === 0n) throw invalidField('PKCS#1 RSA public key: zero modulus or exponent');
    return { n, e };
  });
}

export function rsaPublicToPkcs1(key: RsaPublicComponents): Buffer {
  if (key.n <= 0n || key.e <= 0n) throw invalidField('RSA modulus and exponent must be positive');
  return encodeDer(new asn1js.Sequence({ value: [encodeUnsigned(key.n), encodeUnsigned(key.e)] }));
}

export function rsaPublicPkcs1ToSpki(der: Uint8Array): Buffer {
  rsaPublicFromPkcs1(der);
  return buildSpki(encodeAlgorithmIdentifier(KeyAlgorithmOid.RSA, ASN1_NULL()), Buffer.from(der));
}

export function rsaPublicSpkiToPkcs1(der: Uint8Array): Buffer {
  return guardDer('SubjectPublicKeyInfo RSA key', () => {
    const spki = parseSpki(der);
    expectAlgorithm(spki.algorithmOid, KeyAlgorithmOid.RSA, 'SubjectPublicKeyInfo');
    rsaPublicFromPkcs1(spki.key);
    return spki.key;
  });
}

export function rsaPublicFromSpki(der: Uint8Array): RsaPublicComponents {
  return rsaPublicFromPkcs1(rsaPublicSpkiToPkcs1(der));
}

export function rsaPublicToSpki(key: RsaPublicComponents): Buffer {
  return rsaPublicPkcs1ToSpki(rsaPublicToPkcs1(key));
}

function completeRsaPrivate(input: RsaPrivateInput): RsaPrivateComponents {
  const { n, e, d } = input;
  if (n <= 0n || e <= 0n || d <= 0n) throw invalidField('RSA n, e and d must be positive');
  let { p, q } = input;
  if (p === undefined || q === undefined) {
    [p, q] = rsaRecoverPrimes(n, e, d);
  } else if (p * q !== n) {
    throw invalidField('RSA primes do not multiply to the modulus');
  }
  return {
    n,
    e,
    d,
    p,
    q,
    dp: input.dp ?? d % (p - 1n),
    dq: input.dq ?? d % (q - 1n),
    qinv: input.qinv ?? modInverse(q, p),
  };
}

// ---------------------------------------------------------------------------------------------
// EC

function curveInfo(name: string): CurveInfo {
  const info = curveByName(name);
  if (!info) throw invalidField(`curve ${name} is not supported`);
  return info;
}

function curveFromParameters(parameters: Asn1 | undefined, what: string): CurveInfo {
  const oid = objectIdentifier(parameters, `${what} named curve`);
  const info = curveByOid(oid);
  if (!info) throw invalidField(`${what}: curve ${oid} is not supported`);
  return info;
}

/** Checks a public point is SEC1 §2.3.3 encoded for the curve's field size. */
function checkPoint(q: Buffer, info: CurveInfo): Buffer {
  const size = Math.ceil(info.bits / 8);
  const prefix = q[0];
  const ok =
    (prefix === 0x04 && q.length === 1 + 2 * size) ||
    ((prefix === 0x02 || prefix === 0x03) && q.length === 1 + size);
  if (!ok) throw invalidField(`EC point is not a valid ${info.name} encoding`);
  return q;
}

/** Reads RFC 5915 ECPrivateKey; `curve` names the curve when [0] parameters are absent (PKCS#8 inner key). */
export function ecPrivateFromSec1(der: Uint8Array, curve?: CurveName): EcPrivateComponents {
  return guardDer('SEC1 EC private key', () => {
    const fields = sequence(decodeDer(der, 'SEC1'), 'SEC1 EC private key');
    if (fields.length < 2 || fields.length > 4) throw invalidField('SEC1: wrong field count');
    if (smallInteger(fields[0], 'SEC1 version') !== 1) throw invalidField('SEC1 version is not 1');
    const d = octetString(fields[1], 'SEC1 private key');
    let info: CurveInfo | undefined = curve ? curveInfo(curve) : undefined;
    let q: Buffer | undefined;
    for (const field of fields.slice(2)) {
      const params = explicitTagged(field, 0);
      const publicKey = explicitTagged(field, 1);
      if (params) {
        const named = curveFromParameters(params[0], 'SEC1');
        if (info && info.name !== named.name) throw invalidField('SEC1: curve mismatch');
        info = named;
      } else if (publicKey) {
        q = bitStringOctets(publicKey[0], 'SEC1 public key');
      } else {
        throw invalidField('SEC1: unexpected field');
      }
    }
    if (!info) throw invalidField('SEC1 EC private key names no curve');
    if (d.length !== Math.ceil(info.bits / 8)) throw invalidField('SEC1: private key length');
    const result: EcPrivateComponents = { curve: info.name, d: bytesToBigint(d) };
    if (q) result.q = checkPoint(q, info);
    return result;
  });
}

/** Builds RFC 5915 ECPrivateKey with curve parameters and public key, the form OpenSSL writes. */
export function ecPrivateToSec1(key: EcPrivateComponents): Buffer {
  return encodeDer(ecPrivateKeyNode(key, true));
}

function ecPrivateKeyNode(key: EcPrivateComponents, withParameters: boolean): asn1js.Sequence {
  const info = curveInfo(key.curve);
  const size = Math.ceil(info.bits / 8);
  if (key.d <= 0n) throw invalidField('EC private value must be positive');
  const d = bigintToBytes(key.d, size);
  const q = key.q ? checkPoint(key.q, info) : ecPublicPoint(info, d);
  const value: Asn1[] = [new asn1js.Integer({ value: 1 }), new asn1js.OctetString({ valueHex: d })];
  if (withParameters) {
    value.push(
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [new asn1js.ObjectIdentifier({ value: info.oid })],
      }),
    );
  }
  value.push(
    new asn1js.Constructed({
      idBlock: { tagClass: 3, tagNumber: 1 },
      value: [new asn1js.BitString({ valueHex: q, unusedBits: 0 })],
    }),
  );
  return new asn1js.Sequence({ value });
}

function ecPublicPoint(info: CurveInfo, d: Buffer): Buffer {
  try {
    const ecdh = createECDH(info.nodeName);
    ecdh.setPrivateKey(d);
    return ecdh.getPublicKey();
  } catch {
    throw invalidField(`EC private value is not valid on ${info.name}`);
  }
}

export function ecPrivateSec1ToPkcs8(der: Uint8Array): Buffer {
  return ecPrivateToPkcs8(ecPrivateFromSec1(der));
}

export function ecPrivatePkcs8ToSec1(der: Uint8Array): Buffer {
  return ecPrivateToSec1(ecPrivateFromPkcs8(der));
}

export function ecPrivateFromPkcs8(der: Uint8Array): EcPrivateComponents {
  return guardDer('PKCS#8 EC private key', () => {
    const parts = parsePkcs8(der);
    expectAlgorithm(parts.algorithmOid, KeyAlgorithmOid.EC, 'PKCS#8');
    const info = curveFromParameters(parts.parameters, 'PKCS#8');
    return ecPrivateFromSec1(parts.privateKey, info.name);
  });
}

/** PKCS#8 with the curve in the AlgorithmIdentifier and none repeated inside (RFC 5915 §3). */
export function ecPrivateToPkcs8(key: EcPrivateComponents): Buffer {
  const info = curveInfo(key.curve);
  const algorithm = encodeAlgorithmIdentifier(
    KeyAlgorithmOid.EC,
    new asn1js.ObjectIdentifier({ value: info.oid }),
  );
  return buildPkcs8(algorithm, encodeDer(ecPrivateKeyNode(key, false)));
}

export function ecPublicFromSpki(der: Uint8Array): EcPublicComponents {
  return guardDer('SubjectPublicKeyInfo EC key', () => {
    const spki = parseSpki(der);
    expectAlgorithm(spki.algorithmOid, KeyAlgorithmOid.EC, 'SubjectPublicKeyInfo');
    const info = curveFromParameters(spki.parameters, 'SubjectPublicKeyInfo');
    return { curve: info.name, q: checkPoint(spki.key, info) };
  });
}

export function ecPublicToSpki(key: EcPublicComponents): Buffer {
  const info = curveInfo(key.curve);
  const algorithm = encodeAlgorithmIdentifier(
    KeyAlgorithmOid.EC,
    new asn1js.ObjectIdentifier({ value: info.oid }),
  );
  return buildSpki(algorithm, checkPoint(Buffer.from(key.q), info));
}
