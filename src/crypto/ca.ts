// The certificate authority behind Certify and Re-certify (KMIP 2.1 §6.1.7, §6.1.43): a CA
// certificate and its private key, loaded from PEM (the development PKI's DATA/pki/ca.crt and
// ca.key by default). It signs X.509 v3 certificates (RFC 5280 §4.1) for a public key and a
// subject, taken from a managed public key or from a PKCS #10 request (RFC 2986) whose
// signature it checks first. The CA key never leaves this module and is never logged.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
  X509Certificate,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as asn1js from 'asn1js';
import { invalidField, KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import {
  algorithmIdentifier,
  bitStringOctets,
  decodeDer,
  encodeAlgorithmIdentifier,
  encodeDer,
  guardDer,
  rawDer,
  sequence,
} from './der.js';
import { parseCertificate } from './x509.js';

/** Validity of a new certificate: bounds how long a leaked private key stays trusted. */
export const DEFAULT_CERTIFICATE_DAYS = 365;
/** Largest certificate request read: stops ASN.1 and signature work on oversized blobs. */
export const MAX_CERTIFICATE_REQUEST_BYTES = 64 * 1024;

export interface CertificateAuthority {
  readonly certificate: X509Certificate;
  readonly subjectDer: Buffer;
  readonly key: KeyObject;
}

/** Loads a CA from PEM; refuses a key that does not match the certificate. */
export function loadCertificateAuthority(certPem: string | Buffer, keyPem: string | Buffer) {
  const certificate = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  if (!certificate.checkPrivateKey(key)) {
    throw new Error('the CA key does not match the CA certificate');
  }
  const subjectDer = parseCertificate(certificate.raw).subjectDer;
  return { certificate, subjectDer, key } satisfies CertificateAuthority;
}

export interface CertificateSpec {
  /** DER Name of the subject. */
  subjectDer: Uint8Array;
  /** DER SubjectPublicKeyInfo of the certified key. */
  spkiDer: Uint8Array;
  notBefore: Date;
  /** Default DEFAULT_CERTIFICATE_DAYS after notBefore; never after the CA's own notAfter. */
  notAfter?: Date;
}

/** Signature algorithm for the CA key: OID and node:crypto digest (null for EdDSA). */
function signatureAlgorithm(key: KeyObject): {
  oid: string;
  digest: string | null;
  nullParams: boolean;
} {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { oid: '1.2.840.113549.1.1.11', digest: 'sha256', nullParams: true };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1')
        return { oid: '1.2.840.10045.4.3.3', digest: 'sha384', nullParams: false };
      if (curve === 'secp521r1')
        return { oid: '1.2.840.10045.4.3.4', digest: 'sha512', nullParams: false };
      return { oid: '1.2.840.10045.4.3.2', digest: 'sha256', nullParams: false };
    }
    case 'ed25519':
      return { oid: '1.3.101.112', digest: null, nullParams: false };
    case 'ed448':
      return { oid: '1.3.101.113', digest: null, nullParams: false };
    default:
      throw new KmipError(
        ResultReason.FeatureNotSupported,
        `the CA key type ${key.asymmetricKeyType ?? 'unknown'} cannot sign certificates here`,
      );
  }
}

function time(date: Date): asn1js.AsnType {
  const valueDate = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const year = valueDate.getUTCFullYear();
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return year < 2050
    ? new asn1js.UTCTime({ valueDate })
    : new asn1js.GeneralizedTime({ valueDate });
}

function extension(oid: string, critical: boolean, value: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: oid }),
      ...(critical ? [new asn1js.Boolean({ value: true })] : []),
      new asn1js.OctetString({ valueHex: encodeDer(value) }),
    ],
  });
}

/** Signs an end-entity X.509 v3 certificate; returns its DER. */
export function issueCertificate(ca: CertificateAuthority, spec: CertificateSpec): Buffer {
  const alg = signatureAlgorithm(ca.key);
  const algId = () =>
    encodeAlgorithmIdentifier(alg.oid, alg.nullParams ? new asn1js.Null() : undefined);
  const caNotAfter = new Date(ca.certificate.validTo);
  const wanted =
    spec.notAfter ??
    new Date(spec.notBefore.getTime() + DEFAULT_CERTIFICATE_DAYS * 24 * 3600 * 1000);
  const notAfter = wanted > caNotAfter ? caNotAfter : wanted;
  if (notAfter <= spec.notBefore) {
    throw new KmipError(ResultReason.GeneralFailure, 'the CA certificate has expired');
  }
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const spki = decodeDer(spec.spkiDer, 'SubjectPublicKeyInfo');
  const keyBits = bitStringOctets(sequence(spki, 'SubjectPublicKeyInfo')[1], 'subjectPublicKey');
  const tbs = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [new asn1js.Integer({ value: 2 })],
      }),
      new asn1js.Integer({ valueHex: serial }),
      algId(),
      decodeDer(ca.subjectDer, 'CA subject'),
      new asn1js.Sequence({ value: [time(spec.notBefore), time(notAfter)] }),
      decodeDer(spec.subjectDer, 'subject'),
      spki,
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 3 },
        value: [
          new asn1js.Sequence({
            value: [
              // basicConstraints: not a CA (RFC 5280 §4.2.1.9).
              extension('2.5.29.19', true, new asn1js.Sequence({ value: [] })),
              // subjectKeyIdentifier, method (1) of RFC 5280 §4.2.1.2.
              extension(
                '2.5.29.14',
                false,
                new asn1js.OctetString({
                  valueHex: createHash('sha1').update(keyBits).digest(),
                }),
              ),
            ],
          }),
        ],
      }),
    ],
  });
  const tbsDer = encodeDer(tbs);
  const signature = sign(alg.digest, tbsDer, ca.key);
  return encodeDer(
    new asn1js.Sequence({
      value: [
        decodeDer(tbsDer, 'TBSCertificate'),
        algId(),
        new asn1js.BitString({ valueHex: signature }),
      ],
    }),
  );
}

/** Digest of a PKCS #10 signature algorithm; null for EdDSA. */
const REQUEST_DIGESTS: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};

/**
 * Subject and key of a PKCS #10 CertificationRequest (RFC 2986 §4), after checking that the
 * request is signed by the key it names (proof of possession).
 */
export function readCertificationRequest(der: Uint8Array): { subjectDer: Buffer; spkiDer: Buffer } {
  if (der.byteLength > MAX_CERTIFICATE_REQUEST_BYTES) {
    throw invalidField(`certificate request over ${MAX_CERTIFICATE_REQUEST_BYTES} bytes`);
  }
  return guardDer('PKCS #10 request', () => {
    const request = sequence(decodeDer(der, 'PKCS #10 request'), 'CertificationRequest');
    if (request.length !== 3) throw invalidField('CertificationRequest: wrong field count');
    const info = sequence(request[0], 'CertificationRequestInfo');
    if (info.length < 3) throw invalidField('CertificationRequestInfo: wrong field count');
    const { oid } = algorithmIdentifier(request[1], 'CertificationRequest signatureAlgorithm');
    const signature = bitStringOctets(request[2], 'CertificationRequest signature');
    const subjectDer = rawDer(info[1]!);
    const spkiDer = rawDer(info[2]!);
    if (!(oid in REQUEST_DIGESTS)) {
      throw new KmipError(
        ResultReason.FeatureNotSupported,
        `certificate request signature algorithm ${oid} is not supported`,
      );
    }
    const key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
    if (!verify(REQUEST_DIGESTS[oid] ?? null, rawDer(request[0]!), key, signature)) {
      throw invalidField('the certificate request signature does not verify');
    }
    return { subjectDer, spkiDer };
  });
}

/** DER Name with one commonName (RFC 5280 §4.1.2.4). */
export function commonNameDer(cn: string): Buffer {
  return encodeDer(
    new asn1js.Sequence({
      value: [
        new asn1js.Set({
          value: [
            new asn1js.Sequence({
              value: [
                new asn1js.ObjectIdentifier({ value: '2.5.4.3' }),
                new asn1js.Utf8String({ value: cn }),
              ],
            }),
          ],
        }),
      ],
    }),
  );
}

/** Reads a CA from PEM files; with `optional`, missing files mean no CA (undefined). */
export async function readCertificateAuthority(
  certFile: string,
  keyFile: string,
  optional = false,
): Promise<CertificateAuthority | undefined> {
  let files: [Buffer, Buffer];
  try {
    files = await Promise.all([readFile(certFile), readFile(keyFile)]);
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return loadCertificateAuthority(files[0], files[1]);
}
