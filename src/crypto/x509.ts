// X.509 certificate parsing (RFC 5280 §4.1) for the KMIP certificate attributes: X.509
// Certificate Identifier, Subject and Issuer (KMIP 1.4 §3.9–3.14), Certificate Type, Digital
// Signature Algorithm (KMIP 1.4 §3.16) and the Cryptographic Algorithm and Length of the
// certified key (KMIP 1.4 §3.4, §3.5).

import { isIP } from 'node:net';
import * as asn1js from 'asn1js';
import { invalidField } from '../errors.js';
import {
  type Asn1,
  algorithmIdentifier,
  bitStringOctets,
  decodeDer,
  explicitTagged,
  guardDer,
  integer,
  objectIdentifier,
  octetString,
  rawDer,
  sequence,
  smallInteger,
} from './der.js';
import { inspectKeyDer } from './key-formats.js';
import {
  DN_ATTRIBUTE_NAMES,
  ExtensionOid,
  type KeyAlgorithmName,
  keyAlgorithmName,
  SIGNATURE_ALGORITHMS,
} from './oids.js';

export type GeneralNameType = 'email' | 'dns' | 'uri' | 'ip' | 'directory' | 'other';

export interface GeneralName {
  type: GeneralNameType;
  /** Text for email, DNS and URI; dotted or RFC 5952 text for IP; RFC 4514 text for directory names; hex otherwise. */
  value: string;
}

export interface CertificateInfo {
  certificateType: 'X.509';
  /** 1, 2 or 3. */
  version: number;
  der: Buffer;
  /** The serial number's INTEGER content octets (tag and length stripped). */
  serialNumber: Buffer;
  /** The serial number as lower-case hex of its content octets. */
  serialNumberHex: string;
  issuerDer: Buffer;
  issuer: string;
  subjectDer: Buffer;
  subject: string;
  /** KMIP 1.4 §3.13 X.509 Certificate Identifier. */
  identifier: { issuerDer: Buffer; serialNumber: Buffer };
  /** DER GeneralNames of the subjectAltName extension, as KMIP Subject Alternative Name carries it. */
  subjectAltNameDer?: Buffer;
  subjectAltNames: GeneralName[];
  issuerAltNameDer?: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER. */
  publicKeyDer: Buffer;
  /** Key algorithm name, or the OID when the algorithm is unknown. */
  publicKeyAlgorithm: KeyAlgorithmName | string;
  /** RSA and DSA modulus bits, EC field bits; absent when node:crypto cannot load the key. */
  publicKeyLengthBits?: number;
  curve?: string;
  signatureAlgorithmOid: string;
  /** KMIP Digital Signature Algorithm name (e.g. SHA_256WithRSAEncryption), or the OID when unknown. */
  signatureAlgorithm: string;
  /** keyUsage bit names (RFC 5280 §4.2.1.3); absent when the extension is. */
  keyUsage?: string[];
  /** extKeyUsage OIDs (RFC 5280 §4.2.1.12); absent when the extension is. */
  extendedKeyUsage?: string[];
  isCA: boolean;
}

const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

export function parseCertificate(der: Uint8Array): CertificateInfo {
  return guardDer('X.509 certificate', () => parse(Buffer.from(der)));
}

function parse(der: Buffer): CertificateInfo {
  const certificate = sequence(decodeDer(der, 'X.509 certificate'), 'Certificate');
  if (certificate.length !== 3) throw invalidField('Certificate: wrong field count');
  const tbs = sequence(certificate[0], 'TBSCertificate');
  const outerSignature = algorithmIdentifier(certificate[1], 'Certificate signatureAlgorithm');
  bitStringOctets(certificate[2], 'Certificate signatureValue');

  let index = 0;
  let version = 1;
  const versionField = explicitTagged(tbs[0], 0);
  if (versionField) {
    version = smallInteger(versionField[0], 'TBSCertificate version') + 1;
    if (version > 3) throw invalidField(`X.509 version ${version} is not defined`);
    index++;
  }
  const serial = integer(tbs[index++], 'TBSCertificate serialNumber');
  const innerSignature = algorithmIdentifier(tbs[index++], 'TBSCertificate signature');
  if (innerSignature.oid !== outerSignature.oid) {
    throw invalidField('Certificate signature algorithms disagree');
  }
  const issuerNode = tbs[index++];
  const issuer = distinguishedName(issuerNode, 'issuer');
  const validity = sequence(tbs[index++], 'TBSCertificate validity');
  if (validity.length !== 2) throw invalidField('Validity: wrong field count');
  const notBefore = time(validity[0], 'notBefore');
  const notAfter = time(validity[1], 'notAfter');
  const subjectNode = tbs[index++];
  const subject = distinguishedName(subjectNode, 'subject');
  const spkiNode = tbs[index++];
  const spki = sequence(spkiNode, 'SubjectPublicKeyInfo');
  if (spki.length !== 2) throw invalidField('SubjectPublicKeyInfo: wrong field count');
  const { oid: keyOid } = algorithmIdentifier(spki[0], 'SubjectPublicKeyInfo algorithm');

  const serialNumber = Buffer.from(serial.valueBlock.valueHexView);
  const info: CertificateInfo = {
    certificateType: 'X.509',
    version,
    der,
    serialNumber,
    serialNumberHex: serialNumber.toString('hex'),
    issuerDer: rawDer(issuerNode!),
    issuer,
    subjectDer: rawDer(subjectNode!),
    subject,
    identifier: { issuerDer: rawDer(issuerNode!), serialNumber },
    subjectAltNames: [],
    notBefore,
    notAfter,
    publicKeyDer: rawDer(spkiNode!),
    publicKeyAlgorithm: keyAlgorithmName(keyOid) ?? keyOid,
    signatureAlgorithmOid: outerSignature.oid,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[outerSignature.oid] ?? outerSignature.oid,
    isCA: false,
  };
  describeKey(info);

  for (const node of tbs.slice(index)) {
    const extensions = explicitTagged(node, 3);
    if (extensions) {
      if (version !== 3) throw invalidField('extensions in a certificate before version 3');
      readExtensions(sequence(extensions[0], 'Extensions'), info);
    } else if (!isImplicitUniqueId(node)) {
      throw invalidField('TBSCertificate: unexpected field');
    }
  }
  return info;
}

function describeKey(info: CertificateInfo): void {
  try {
    const key = inspectKeyDer(info.publicKeyDer);
    info.publicKeyAlgorithm = key.algorithm;
    if (key.lengthBits !== undefined) info.publicKeyLengthBits = key.lengthBits;
    if (key.curve !== undefined) info.curve = key.curve;
  } catch {
    // A key node:crypto cannot load still leaves the rest of the certificate readable.
  }
}

/** issuerUniqueID [1] and subjectUniqueID [2] (RFC 5280 §4.1.2.8). */
function isImplicitUniqueId(node: Asn1): boolean {
  const id = node.idBlock;
  return id.tagClass === 3 && (id.tagNumber === 1 || id.tagNumber === 2);
}

function time(node: Asn1 | undefined, what: string): Date {
  if (!(node instanceof asn1js.UTCTime)) throw invalidField(`${what}: expected a Time`);
  const date = node.toDate();
  if (Number.isNaN(date.getTime())) throw invalidField(`${what}: invalid time`);
  return date;
}

function readExtensions(extensions: Asn1[], info: CertificateInfo): void {
  const seen = new Set<string>();
  for (const extension of extensions) {
    const fields = sequence(extension, 'Extension');
    if (fields.length < 2 || fields.length > 3) throw invalidField('Extension: wrong field count');
    const oid = objectIdentifier(fields[0], 'Extension extnID');
    if (seen.has(oid)) throw invalidField(`extension ${oid} appears twice`);
    seen.add(oid);
    if (fields.length === 3 && !(fields[1] instanceof asn1js.Boolean)) {
      throw invalidField('Extension critical: expected BOOLEAN');
    }
    const value = octetString(fields[fields.length - 1], 'Extension extnValue');
    switch (oid) {
      case ExtensionOid.SubjectAltName:
        info.subjectAltNameDer = value;
        info.subjectAltNames = generalNames(value);
        break;
      case ExtensionOid.IssuerAltName:
        info.issuerAltNameDer = value;
        break;
      case ExtensionOid.KeyUsage: {
        const bits = decodeDer(value, 'keyUsage');
        if (!(bits instanceof asn1js.BitString))
          throw invalidField('keyUsage: expected BIT STRING');
        const bytes = bits.valueBlock.valueHexView;
        info.keyUsage = KEY_USAGE_BITS.filter(
          (_, i) => ((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1,
        );
        break;
      }
      case ExtensionOid.ExtendedKeyUsage:
        info.extendedKeyUsage = sequence(decodeDer(value, 'extKeyUsage'), 'extKeyUsage').map((p) =>
          objectIdentifier(p, 'extKeyUsage purpose'),
        );
        break;
      case ExtensionOid.BasicConstraints: {
        const [cA] = sequence(decodeDer(value, 'basicConstraints'), 'basicConstraints');
        info.isCA = cA instanceof asn1js.Boolean && cA.valueBlock.value;
        break;
      }
    }
  }
}

/** GeneralNames (RFC 5280 §4.2.1.6); IMPLICIT tags arrive from asn1js as untyped blocks. */
function generalNames(der: Buffer): GeneralName[] {
  return sequence(decodeDer(der, 'GeneralNames'), 'GeneralNames').map((node) => {
    const { tagClass, tagNumber } = node.idBlock;
    if (tagClass !== 3) throw invalidField('GeneralName: expected a context tag');
    if (tagNumber === 4) {
      const inner = explicitTagged(node, 4);
      return { type: 'directory', value: distinguishedName(inner?.[0], 'directoryName') };
    }
    const bytes = primitiveBytes(node);
    switch (tagNumber) {
      case 1:
        return { type: 'email', value: bytes.toString('latin1') };
      case 2:
        return { type: 'dns', value: bytes.toString('latin1') };
      case 6:
        return { type: 'uri', value: bytes.toString('latin1') };
      case 7:
        return { type: 'ip', value: ipText(bytes) };
      default:
        return { type: 'other', value: bytes.toString('hex') };
    }
  });
}

function primitiveBytes(node: Asn1): Buffer {
  if (node instanceof asn1js.Constructed) return rawDer(node);
  const view = (node.valueBlock as { valueHexView?: Uint8Array }).valueHexView;
  return Buffer.from(view ?? new Uint8Array());
}

function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    const text = groups.join(':');
    const zeros = /(?:^|:)0(?::0)+(?::|$)/g;
    let best = '';
    for (const match of text.matchAll(zeros)) if (match[0].length > best.length) best = match[0];
    const compressed = best ? text.replace(best, '::') : text;
    return isIP(compressed) === 6 ? compressed : text;
  }
  return bytes.toString('hex');
}

/** Name (RFC 5280 §4.1.2.4) as an RFC 4514 string: last RDN first, multi-valued RDNs joined by '+'. */
function distinguishedName(node: Asn1 | undefined, what: string): string {
  const rdns = sequence(node, `${what} Name`);
  const parts = rdns.map((rdn) => {
    if (!(rdn instanceof asn1js.Set)) throw invalidField(`${what}: expected RDN SET`);
    return rdn.valueBlock.value
      .map((attribute) => {
        const [type, value] = sequence(attribute, `${what} AttributeTypeAndValue`);
        const oid = objectIdentifier(type, `${what} attribute type`);
        if (value === undefined) throw invalidField(`${what}: attribute without value`);
        return `${DN_ATTRIBUTE_NAMES[oid] ?? oid}=${attributeValue(value)}`;
      })
      .join('+');
  });
  return parts.reverse().join(',');
}

function attributeValue(value: Asn1): string {
  if (value instanceof asn1js.BaseStringBlock) return escapeDnValue(value.getValue());
  return `#${rawDer(value).toString('hex')}`;
}

/** RFC 4514 §2.4 escaping. */
function escapeDnValue(text: string): string {
  return text
    .replace(/[\\,+"<>;=]/g, '\\$&')
    .replace(/\0/g, '\\00')
    .replace(/^[ #]/, '\\$&')
    .replace(/ $/, '\\ ');
}
