// Attributes the server derives on Register (KMIP 2.1 §4.7 Cryptographic Algorithm, §4.9
// Cryptographic Length, §4.2–4.4 Certificate Type/Length, §4.64–4.66 X.509 Certificate
// Identifier/Subject/Issuer, §4.14 Digital Signature Algorithm; KMIP 1.4 §3.4–3.16, including the
// 1.0 Certificate Identifier/Subject/Issuer). Keys come from node:crypto and certificates from
// the openssl command, so expected values never come from the code under test.

import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import { ItemType } from '../../src/ttlv/item.js';
import {
  CertificateType,
  CryptographicAlgorithm,
  DigitalSignatureAlgorithm,
  KeyFormatType,
  ObjectType,
  RecommendedCurve,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { testServer } from '../helpers/kmip-test-client.js';
import { getAttributes, keyObject, names1x, register, registered } from './server-calls.js';

const F = KeyFormatType;
const s = testServer();

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const der = (key: typeof rsa.privateKey, type: string) =>
  key.export({ format: 'der', type } as never) as Buffer;

/** Derived values in a KMIP 2.1 Get Attributes answer. */
async function attributes2x(uid: string) {
  const list = await getAttributes(s, uid, '2.1');
  const one = (tag: number) => list.filter((a) => a.tag === tag);
  return {
    list,
    one,
    algorithm: numberOf(one(Tag.CryptographicAlgorithm)[0]),
    length: numberOf(one(Tag.CryptographicLength)[0]),
  };
}

async function registerKey(
  objectType: number,
  format: number,
  bytes: Uint8Array,
  attributes: TtlvItem[] = [],
) {
  return registered(
    s,
    objectType,
    keyObject(objectType, format, item.bytes(Tag.KeyMaterial, bytes)),
    attributes,
  );
}

/**
 * PyKMIP 0.10's AttributeValueFactory parses only these in a Get Attributes answer
 * (kmip/core/factories/attribute_values.py); anything else there crashes the client.
 */
const PYKMIP_KNOWN = new Set([
  'Unique Identifier',
  'Name',
  'Object Type',
  'Cryptographic Algorithm',
  'Cryptographic Length',
  'Cryptographic Parameters',
  'Certificate Type',
  'Certificate Length',
  'Digest',
  'Operation Policy Name',
  'Cryptographic Usage Mask',
  'Lease Time',
  'State',
  'Initial Date',
  'Activation Date',
  'Process Start Date',
  'Protect Stop Date',
  'Deactivation Date',
  'Destroy Date',
  'Compromise Occurrence Date',
  'Compromise Date',
  'Archive Date',
  'Object Group',
  'Fresh',
  'Application Specific Information',
  'Contact Information',
  'Last Change Date',
  'Sensitive',
]);

describe('Register derives Cryptographic Algorithm and Length from keys', () => {
  const cases: Array<[string, number, number, () => Uint8Array, number, number]> = [
    [
      'RSA private PKCS#8',
      ObjectType.PrivateKey,
      F.PKCS_8,
      () => der(rsa.privateKey, 'pkcs8'),
      CryptographicAlgorithm.RSA,
      2048,
    ],
    [
      'RSA private PKCS#1',
      ObjectType.PrivateKey,
      F.PKCS_1,
      () => der(rsa.privateKey, 'pkcs1'),
      CryptographicAlgorithm.RSA,
      2048,
    ],
    [
      'RSA public X.509',
      ObjectType.PublicKey,
      F.X_509,
      () => der(rsa.publicKey, 'spki'),
      CryptographicAlgorithm.RSA,
      2048,
    ],
    [
      'RSA public PKCS#1',
      ObjectType.PublicKey,
      F.PKCS_1,
      () => der(rsa.publicKey, 'pkcs1'),
      CryptographicAlgorithm.RSA,
      2048,
    ],
    [
      'EC private SEC1',
      ObjectType.PrivateKey,
      F.ECPrivateKey,
      () => der(ec.privateKey, 'sec1'),
      CryptographicAlgorithm.EC,
      384,
    ],
    [
      'EC private PKCS#8',
      ObjectType.PrivateKey,
      F.PKCS_8,
      () => der(ec.privateKey, 'pkcs8'),
      CryptographicAlgorithm.EC,
      384,
    ],
    [
      'EC public X.509',
      ObjectType.PublicKey,
      F.X_509,
      () => der(ec.publicKey, 'spki'),
      CryptographicAlgorithm.EC,
      384,
    ],
    // PyKMIP's demos label PKCS#1 keys PKCS#8 and X.509: the key is read as what it is.
    [
      'RSA private PKCS#1 labelled PKCS#8',
      ObjectType.PrivateKey,
      F.PKCS_8,
      () => der(rsa.privateKey, 'pkcs1'),
      CryptographicAlgorithm.RSA,
      2048,
    ],
    [
      'RSA public PKCS#1 labelled X.509',
      ObjectType.PublicKey,
      F.X_509,
      () => der(rsa.publicKey, 'pkcs1'),
      CryptographicAlgorithm.RSA,
      2048,
    ],
  ];
  for (const [name, objectType, format, bytes, algorithm, length] of cases) {
    it(name, async () => {
      const uid = await registerKey(objectType, format, bytes());
      const got = await attributes2x(uid);
      expect(got.algorithm).toBe(algorithm);
      expect(got.length).toBe(length);
    });
  }

  it('Ed25519 PKCS#8 → Ed25519, 256 bits', async () => {
    const ed = generateKeyPairSync('ed25519');
    const uid = await registerKey(ObjectType.PrivateKey, F.PKCS_8, der(ed.privateKey, 'pkcs8'));
    const got = await attributes2x(uid);
    expect(got.algorithm).toBe(CryptographicAlgorithm.Ed25519);
    expect(got.length).toBe(256);
  });

  it('Raw symmetric: length from the bytes, no algorithm invented', async () => {
    const uid = await registerKey(ObjectType.SymmetricKey, F.Raw, Buffer.alloc(24, 1));
    const got = await attributes2x(uid);
    expect(got.length).toBe(192);
    expect(got.one(Tag.CryptographicAlgorithm)).toEqual([]);
  });

  it('the Key Block names the algorithm; the bytes give the length', async () => {
    const object = keyObject(
      ObjectType.SymmetricKey,
      F.Raw,
      item.bytes(Tag.KeyMaterial, Buffer.alloc(16, 2)),
      [item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)],
    );
    const got = await attributes2x(await registered(s, ObjectType.SymmetricKey, object));
    expect(got.algorithm).toBe(CryptographicAlgorithm.AES);
    expect(got.length).toBe(128);
  });

  it("the client's own attributes win and are not repeated", async () => {
    const uid = await registerKey(ObjectType.PrivateKey, F.PKCS_8, der(rsa.privateKey, 'pkcs8'), [
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
      item.int(Tag.CryptographicLength, 2048),
    ]);
    const got = await attributes2x(uid);
    expect(got.one(Tag.CryptographicAlgorithm)).toHaveLength(1);
    expect(got.one(Tag.CryptographicLength)).toHaveLength(1);
  });

  it('Transparent RSA Public Key → RSA and the modulus bits', async () => {
    const jwk = rsa.publicKey.export({ format: 'jwk' });
    const bigInteger = (tag: number, b64: string): TtlvItem => {
      const bytes = Buffer.from(b64, 'base64url');
      const pad = (8 - ((bytes.length + 1) % 8)) % 8;
      return {
        tag,
        type: ItemType.BigInteger,
        value: Buffer.concat([Buffer.alloc(1 + pad), bytes]),
      };
    };
    const material = item.struct(Tag.KeyMaterial, [
      bigInteger(Tag.Modulus, jwk.n!),
      bigInteger(Tag.PublicExponent, jwk.e!),
    ]);
    const uid = await registered(
      s,
      ObjectType.PublicKey,
      keyObject(ObjectType.PublicKey, F.TransparentRSAPublicKey, material),
    );
    const got = await attributes2x(uid);
    expect(got.algorithm).toBe(CryptographicAlgorithm.RSA);
    expect(got.length).toBe(2048);
  });

  it('Transparent EC Private Key → EC and the curve bits', async () => {
    const d = Buffer.from(ec.privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const material = item.struct(Tag.KeyMaterial, [
      item.enum(Tag.RecommendedCurve, RecommendedCurve.P_384),
      { tag: Tag.D, type: ItemType.BigInteger, value: Buffer.concat([Buffer.alloc(8), d]) },
    ]);
    const uid = await registered(
      s,
      ObjectType.PrivateKey,
      keyObject(ObjectType.PrivateKey, F.TransparentECPrivateKey, material),
    );
    const got = await attributes2x(uid);
    expect(got.algorithm).toBe(CryptographicAlgorithm.EC);
    expect(got.length).toBe(384);
  });

  // KMIP 1.2 is PyKMIP's default and Barbican's version. From 1.3 on the server also shows
  // attributes PyKMIP 0.10 cannot parse (Original Creation Date, Random Number Generator).
  it('keys get only attributes PyKMIP 0.10 can parse at KMIP 1.2', async () => {
    for (const [type, format, bytes] of [
      [ObjectType.PrivateKey, F.PKCS_8, der(rsa.privateKey, 'pkcs8')],
      [ObjectType.PublicKey, F.X_509, der(ec.publicKey, 'spki')],
      [ObjectType.SymmetricKey, F.Raw, Buffer.alloc(32, 3)],
    ] as const) {
      const uid = await registerKey(type, format, bytes);
      for (const name of names1x(await getAttributes(s, uid, '1.2'))) {
        expect(PYKMIP_KNOWN, name).toContain(name);
      }
    }
  });
});

describe('Register refuses key material that is not what it claims (Invalid Field)', () => {
  const secret = Buffer.from('30820102deadbeefcafe0011223344556677', 'hex');
  const cases: Array<[string, number, number, Uint8Array]> = [
    ['garbage labelled PKCS#8', ObjectType.PrivateKey, F.PKCS_8, secret],
    ['garbage labelled PKCS#1', ObjectType.PublicKey, F.PKCS_1, secret],
    ['garbage labelled X.509', ObjectType.PublicKey, F.X_509, secret],
    ['garbage labelled EC Private Key', ObjectType.PrivateKey, F.ECPrivateKey, secret],
    [
      'a public key in a Private Key object',
      ObjectType.PrivateKey,
      F.X_509,
      der(rsa.publicKey, 'spki'),
    ],
    [
      'a private key in a Public Key object',
      ObjectType.PublicKey,
      F.PKCS_8,
      der(rsa.privateKey, 'pkcs8'),
    ],
  ];
  for (const [name, objectType, format, bytes] of cases) {
    it(name, async () => {
      const res = await register(
        s,
        objectType,
        keyObject(objectType, format, item.bytes(Tag.KeyMaterial, bytes)),
      );
      expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
      expect(res.resultReason).toBe(ResultReason.InvalidField);
      expect(res.resultMessage).toBeTruthy();
      const hex = Buffer.from(bytes).toString('hex');
      expect(res.resultMessage).not.toContain(hex.slice(8, 24));
    });
  }

  it('a Transparent RSA Public Key without a Modulus', async () => {
    const material = item.struct(Tag.KeyMaterial, [
      {
        tag: Tag.PublicExponent,
        type: ItemType.BigInteger,
        value: Buffer.from('0000000000010001', 'hex'),
      },
    ]);
    const res = await register(
      s,
      ObjectType.PublicKey,
      keyObject(ObjectType.PublicKey, F.TransparentRSAPublicKey, material),
    );
    expect(res.resultReason).toBe(ResultReason.InvalidField);
  });
});

describe('Register derives certificate attributes', () => {
  let dir: string;
  let leafDer: Buffer;
  let caDer: Buffer;
  let leaf: X509Certificate;
  let uid: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmipd-cert-'));
    const at = (f: string) => join(dir, f);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      at('ca.key'),
      '-out',
      at('ca.pem'),
      '-subj',
      '/CN=kmipd test CA',
      '-days',
      '2',
    );
    openssl(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      at('leaf.key'),
      '-out',
      at('leaf.csr'),
      '-subj',
      '/O=kmipd/CN=leaf',
    );
    writeFileSync(at('ext.cnf'), 'subjectAltName=DNS:kmip.test,IP:127.0.0.1\n');
    openssl(
      'x509',
      '-req',
      '-in',
      at('leaf.csr'),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-set_serial',
      '0x0123456789abcdef',
      '-days',
      '1',
      '-sha256',
      '-extfile',
      at('ext.cnf'),
      '-outform',
      'DER',
      '-out',
      at('leaf.der'),
    );
    leafDer = readFileSync(at('leaf.der'));
    caDer = Buffer.from(new X509Certificate(readFileSync(at('ca.pem'))).raw);
    leaf = new X509Certificate(leafDer);
    uid = await registered(
      s,
      ObjectType.Certificate,
      item.struct(Tag.Certificate, [
        item.enum(Tag.CertificateType, CertificateType.X_509),
        item.bytes(Tag.CertificateValue, leafDer),
      ]),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('KMIP 2.1: the subject and issuer name components, one attribute each', async () => {
    const got = await attributes2x(uid);
    const text = (tag: number) =>
      got.one(tag).map((i) => (i.type === ItemType.TextString ? i.value : ''));
    expect(text(Tag.CertificateSubjectCN)).toEqual(['leaf']);
    expect(text(Tag.CertificateSubjectO)).toEqual(['kmipd']);
    expect(text(Tag.CertificateIssuerCN)).toEqual(['kmipd test CA']);
    expect(text(Tag.CertificateIssuerO)).toEqual([]);
  });

  it('KMIP 2.1: type, length, X.509 identifier/subject/issuer, signature and key algorithm', async () => {
    const got = await attributes2x(uid);
    expect(numberOf(got.one(Tag.CertificateType)[0])).toBe(CertificateType.X_509);
    expect(numberOf(got.one(Tag.CertificateLength)[0])).toBe(leafDer.length);
    expect(numberOf(got.one(Tag.DigitalSignatureAlgorithm)[0])).toBe(
      DigitalSignatureAlgorithm.ECDSAWithSHA256,
    );
    expect(got.algorithm).toBe(CryptographicAlgorithm.RSA);
    expect(got.length).toBe(2048);

    const identifier = got.one(Tag.X_509CertificateIdentifier)[0];
    const issuerDn = Buffer.from(bytesOf(childOf(identifier, Tag.IssuerDistinguishedName))!);
    const serial = Buffer.from(bytesOf(childOf(identifier, Tag.CertificateSerialNumber))!);
    // The serial number's DER INTEGER, tag and length included, as the certificate holds it
    // (TC-CERTATTR-1-14: 0208 3132333435363738).
    expect(leaf.serialNumber.toLowerCase()).toBe('0123456789abcdef');
    expect(serial.toString('hex')).toBe('02080123456789abcdef');
    expect(leafDer.includes(serial)).toBe(true);
    // The issuer's DER Name is the CA's subject, found in both certificates.
    expect(leafDer.includes(issuerDn)).toBe(true);
    expect(caDer.includes(issuerDn)).toBe(true);
    expect(issuerDn.includes(Buffer.from('kmipd test CA'))).toBe(true);

    const subject = got.one(Tag.X_509CertificateSubject)[0];
    const subjectDn = Buffer.from(bytesOf(childOf(subject, Tag.SubjectDistinguishedName))!);
    expect(leafDer.includes(subjectDn)).toBe(true);
    expect(subjectDn.includes(Buffer.from('leaf'))).toBe(true);
    const san = Buffer.from(bytesOf(childOf(subject, Tag.SubjectAlternativeName))!);
    expect(san.includes(Buffer.from('kmip.test'))).toBe(true);
    expect(san.includes(Buffer.from([127, 0, 0, 1]))).toBe(true);

    const issuer = got.one(Tag.X_509CertificateIssuer)[0];
    expect(Buffer.from(bytesOf(childOf(issuer, Tag.IssuerDistinguishedName))!)).toEqual(issuerDn);

    // The KMIP 1.0 forms do not exist in 2.x.
    for (const tag of [Tag.CertificateIdentifier, Tag.CertificateSubject, Tag.CertificateIssuer]) {
      expect(got.one(tag)).toEqual([]);
    }
  });

  const value1x = (list: TtlvItem[], name: string) =>
    list.find((a) => textOf(childOf(a, Tag.AttributeName)) === name)
      ? childOf(
          list.find((a) => textOf(childOf(a, Tag.AttributeName)) === name),
          Tag.AttributeValue,
        )
      : undefined;

  it('KMIP 1.0: the Certificate Identifier, Subject and Issuer text forms only', async () => {
    const list = await getAttributes(s, uid, '1.0');
    const names = names1x(list);
    expect(names).toContain('Certificate Type');
    for (const absent of [
      'Certificate Length',
      'Digital Signature Algorithm',
      'X.509 Certificate Identifier',
    ]) {
      expect(names).not.toContain(absent);
    }
    const identifier = value1x(list, 'Certificate Identifier');
    expect(textOf(childOf(identifier, Tag.Issuer))).toBe('CN=kmipd test CA');
    expect(textOf(childOf(identifier, Tag.SerialNumber))).toBe('0123456789abcdef');
    const subject = value1x(list, 'Certificate Subject');
    expect(textOf(childOf(subject, Tag.CertificateSubjectDistinguishedName))).toBe(
      'CN=leaf,O=kmipd',
    );
    const alternatives =
      subject?.type === ItemType.Structure
        ? subject.value.filter((c) => c.tag === Tag.CertificateSubjectAlternativeName).map(textOf)
        : [];
    expect(alternatives).toEqual(['kmip.test', '127.0.0.1']);
    const issuer = value1x(list, 'Certificate Issuer');
    expect(textOf(childOf(issuer, Tag.CertificateIssuerDistinguishedName))).toBe(
      'CN=kmipd test CA',
    );
  });

  it('KMIP 1.4: both forms, and the certificate length', async () => {
    const names = names1x(await getAttributes(s, uid, '1.4'));
    for (const name of [
      'Certificate Type',
      'Certificate Length',
      'X.509 Certificate Identifier',
      'X.509 Certificate Subject',
      'X.509 Certificate Issuer',
      'Certificate Identifier',
      'Certificate Subject',
      'Certificate Issuer',
      'Digital Signature Algorithm',
      'Cryptographic Algorithm',
      'Cryptographic Length',
      'Digest',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('client values for server-set certificate attributes are replaced', async () => {
    const id = await registered(
      s,
      ObjectType.Certificate,
      item.struct(Tag.Certificate, [
        item.enum(Tag.CertificateType, CertificateType.X_509),
        item.bytes(Tag.CertificateValue, caDer),
      ]),
      [item.int(Tag.CertificateLength, 1)],
    );
    const got = await attributes2x(id);
    expect(got.one(Tag.CertificateLength).map(numberOf)).toEqual([caDer.length]);
    expect(got.algorithm).toBe(CryptographicAlgorithm.EC);
    expect(got.length).toBe(256);
  });

  it('invalid certificate DER is refused with Invalid Field', async () => {
    for (const bytes of [Buffer.from('3003020101', 'hex'), leafDer.subarray(0, 200)]) {
      const res = await register(
        s,
        ObjectType.Certificate,
        item.struct(Tag.Certificate, [
          item.enum(Tag.CertificateType, CertificateType.X_509),
          item.bytes(Tag.CertificateValue, bytes),
        ]),
      );
      expect(res.resultReason).toBe(ResultReason.InvalidField);
      expect(res.resultMessage).toMatch(/certificate|Certificate/);
    }
  });
});
