// Object identifiers for keys, curves and certificate signatures, with the KMIP names they map
// to. Names follow the KMIP XML normalisation (KMIP Profiles 2.1 §5.4.1.1), so they match the
// generated enumeration names: 'SHA-256 with RSA Encryption' → SHA_256WithRSAEncryption.

/** Public key algorithm OIDs (RFC 3279, RFC 4055, RFC 5480, RFC 8410). */
export const KeyAlgorithmOid = {
  RSA: '1.2.840.113549.1.1.1',
  RSA_PSS: '1.2.840.113549.1.1.10',
  DSA: '1.2.840.10040.4.1',
  EC: '1.2.840.10045.2.1',
  X25519: '1.3.101.110',
  X448: '1.3.101.111',
  Ed25519: '1.3.101.112',
  Ed448: '1.3.101.113',
} as const;
export type KeyAlgorithmName = keyof typeof KeyAlgorithmOid;

export function keyAlgorithmName(oid: string): KeyAlgorithmName | undefined {
  for (const [name, value] of Object.entries(KeyAlgorithmOid)) {
    if (value === oid) return name as KeyAlgorithmName;
  }
  return undefined;
}

/** Named curves (RFC 5480 §2.1.1.1, SEC 2) with KMIP Recommended Curve names and field sizes. */
export const CURVES = [
  { name: 'P_192', oid: '1.2.840.10045.3.1.1', bits: 192, nodeName: 'prime192v1' },
  { name: 'P_224', oid: '1.3.132.0.33', bits: 224, nodeName: 'secp224r1' },
  { name: 'P_256', oid: '1.2.840.10045.3.1.7', bits: 256, nodeName: 'prime256v1' },
  { name: 'P_384', oid: '1.3.132.0.34', bits: 384, nodeName: 'secp384r1' },
  { name: 'P_521', oid: '1.3.132.0.35', bits: 521, nodeName: 'secp521r1' },
  { name: 'SECP256K1', oid: '1.3.132.0.10', bits: 256, nodeName: 'secp256k1' },
] as const;
export type CurveName = (typeof CURVES)[number]['name'];
export type CurveInfo = (typeof CURVES)[number];

export function curveByOid(oid: string): CurveInfo | undefined {
  return CURVES.find((c) => c.oid === oid);
}

/** Accepts the KMIP name ('P_256'), the NIST spelling ('P-256') or OpenSSL's ('prime256v1'). */
export function curveByName(name: string): CurveInfo | undefined {
  const normal = name.replace(/-/g, '_').toUpperCase();
  return CURVES.find((c) => c.name === normal || c.nodeName === name);
}

/** Certificate signature algorithms (RFC 3279, RFC 4055, RFC 5758) → KMIP Digital Signature Algorithm names. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.2': 'MD2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'MD5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'SHA_1WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'SHA_224WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'SHA_256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'SHA_384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'SHA_512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA_PSS',
  '1.2.840.10040.4.3': 'DSAWithSHA_1',
  '2.16.840.1.101.3.4.3.1': 'DSAWithSHA224',
  '2.16.840.1.101.3.4.3.2': 'DSAWithSHA256',
  '1.2.840.10045.4.1': 'ECDSAWithSHA_1',
  '1.2.840.10045.4.3.1': 'ECDSAWithSHA224',
  '1.2.840.10045.4.3.2': 'ECDSAWithSHA256',
  '1.2.840.10045.4.3.3': 'ECDSAWithSHA384',
  '1.2.840.10045.4.3.4': 'ECDSAWithSHA512',
  '2.16.840.1.101.3.4.3.14': 'SHA3_256WithRSAEncryption',
  '2.16.840.1.101.3.4.3.15': 'SHA3_384WithRSAEncryption',
  '2.16.840.1.101.3.4.3.16': 'SHA3_512WithRSAEncryption',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

/** Distinguished name attribute types (RFC 4514 §3, RFC 5280 Appendix A). */
export const DN_ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** Certificate extensions read by x509.ts (RFC 5280 §4.2). */
export const ExtensionOid = {
  SubjectAltName: '2.5.29.17',
  IssuerAltName: '2.5.29.18',
  KeyUsage: '2.5.29.15',
  ExtendedKeyUsage: '2.5.29.37',
  BasicConstraints: '2.5.29.19',
} as const;
