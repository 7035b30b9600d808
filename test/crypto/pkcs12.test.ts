// PKCS #12 (RFC 7292) writing and reading (src/crypto/pkcs12.ts). Independent checks: the KDF
// vectors OpenSSL and Bouncy Castle test with, the container of TC-PKCS12-2-14 (written by
// another implementation), and the openssl command line when it is installed.

import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { rsaPrivateToPkcs8 } from '../../src/crypto/key-formats.js';
import { buildPkcs12, pkcs12Kdf, readPkcs12 } from '../../src/crypto/pkcs12.js';
import { KmipError } from '../../src/errors.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';

const TC_DIR = 'fixtures/conformance/kmip-testcases-v1.4-cnprd01';
const hex = (s: string) => Buffer.from(s, 'hex');
const bmp = (s: string) => Buffer.from(`${s}\u0000`, 'utf16le').swap16();

/** Every value="…" of an element in a test case file, in order. */
function valuesOf(file: string, element: string): string[] {
  const xml = readFileSync(join(TC_DIR, file), 'utf8');
  return [...xml.matchAll(new RegExp(`<${element} type="\\w+" value="([0-9a-f]+)"`, 'g'))].map(
    (m) => m[1]!,
  );
}

/** The RSA key and the EE, Inter and CATop certificates that TC-PKCS12-1-14 registers. */
function tcPkcs12One() {
  const big = (element: string) => BigInt(`0x${valuesOf('TC-PKCS12-1-14.xml', element)[0]}`);
  const privateKey = rsaPrivateToPkcs8({
    n: big('Modulus'),
    e: big('PublicExponent'),
    d: big('PrivateExponent'),
    p: big('P'),
    q: big('Q'),
    dp: big('PrimeExponentP'),
    dq: big('PrimeExponentQ'),
    qinv: big('CRTCoefficient'),
  });
  const certificates = valuesOf('TC-PKCS12-1-14.xml', 'CertificateValue').map(hex);
  return { privateKey, certificates };
}

function reasonOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof KmipError) return err.reason;
    throw err;
  }
  return undefined;
}

/** The children of a DER SEQUENCE, and of the OCTET STRING inside a [0] EXPLICIT. */
const children = (der: Uint8Array) =>
  (asn1js.fromBER(der).result as asn1js.Sequence).valueBlock.value;
const explicitOctets = (node: asn1js.AsnType) =>
  Buffer.from(
    ((node as asn1js.Constructed).valueBlock.value[0] as asn1js.OctetString).valueBlock
      .valueHexView,
  );
const oidOf = (node: asn1js.AsnType) => (node as asn1js.ObjectIdentifier).valueBlock.toString();

describe('RFC 7292 Appendix B key derivation', () => {
  it.each([
    // OpenSSL test/pkcs12_format_test and Bouncy Castle PKCS12Test (SHA-1)
    ['smeg', '0A58CF64530D823F', 1, 1, 24, '8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3'],
    ['smeg', '0A58CF64530D823F', 2, 1, 8, '79993dfe048d3b76'],
    ['smeg', '3D83C0E4546AC140', 3, 1, 20, '8d967d88f6caa9d714800ab3d48051d63f73a312'],
    ['queeg', '1682C0FC5B3F7EC5', 1, 1000, 24, '483dd6e919d7de2e8e648ba8f862f3fbfbdc2bcb2c02957f'],
  ] as const)(
    '%s, salt %s, ID %i, %i iterations',
    (password, salt, id, iterations, length, out) => {
      expect(
        pkcs12Kdf('sha1', 64, bmp(password), hex(salt), id, iterations, length).toString('hex'),
      ).toBe(out);
    },
  );
});

describe('reading a PFX another implementation wrote (TC-PKCS12-2-14)', () => {
  const pfx = hex(valuesOf('TC-PKCS12-2-14.xml', 'KeyValue')[0]!);

  it('checks the SHA-1 MAC and decrypts both 3DES-protected parts with "password"', () => {
    const contents = readPkcs12(pfx, Buffer.from('password'));
    // The same test case registers this key as PKCS#8 Key Material too.
    const pkcs8 = valuesOf('TC-PKCS12-2-14.xml', 'KeyMaterial').find((v) => v.length > 1000);
    expect(contents.privateKey?.toString('hex')).toBe(pkcs8);
    expect(contents.certificates.map((c) => new X509Certificate(c).subject)).toEqual([
      'CN=localhost',
    ]);
  });

  it('refuses another password with Cryptographic Failure', () => {
    expect(reasonOf(() => readPkcs12(pfx, Buffer.from('Password')))).toBe(
      ResultReason.CryptographicFailure,
    );
  });
});

describe('buildPkcs12', () => {
  const { privateKey, certificates } = tcPkcs12One();
  const password = Buffer.from('password');
  const pfx = buildPkcs12({ privateKey, certificates }, password);

  it('reads back as the key and the chain in order', () => {
    const contents = readPkcs12(pfx, password);
    expect(contents.privateKey).toEqual(privateKey);
    expect(contents.certificates).toEqual(certificates);
    expect(contents.certificates.map((c) => new X509Certificate(c).subject)).toEqual([
      'C=AU\nO=Kmip Test\nCN=EE',
      'C=AU\nO=Kmip Test\nCN=Inter',
      'C=AU\nO=Kmip Test\nCN=CATop',
    ]);
  });

  it('has the RFC 7292 structure: v3, HMAC-SHA-256 MAC, PBES2 key bag, certBags, localKeyId', () => {
    const [version, authSafe, macData] = children(pfx);
    expect((version as asn1js.Integer).valueBlock.valueDec).toBe(3);
    const [digestInfo, macSalt, iterations] = (macData as asn1js.Sequence).valueBlock.value;
    const [digestAlgorithm] = (digestInfo as asn1js.Sequence).valueBlock.value;
    expect(oidOf((digestAlgorithm as asn1js.Sequence).valueBlock.value[0]!)).toBe(
      '2.16.840.1.101.3.4.2.1',
    );
    expect((macSalt as asn1js.OctetString).valueBlock.valueHexView.length).toBe(16);
    expect((iterations as asn1js.Integer).valueBlock.valueDec).toBe(10000);

    const [, content] = (authSafe as asn1js.Sequence).valueBlock.value;
    const [safe] = children(explicitOctets(content!));
    const [type, safeContent] = (safe as asn1js.Sequence).valueBlock.value;
    expect(oidOf(type!)).toBe('1.2.840.113549.1.7.1');
    const bags = children(explicitOctets(safeContent!)) as asn1js.Sequence[];
    expect(bags.map((b) => oidOf(b.valueBlock.value[0]!))).toEqual([
      '1.2.840.113549.1.12.10.1.2',
      '1.2.840.113549.1.12.10.1.3',
      '1.2.840.113549.1.12.10.1.3',
      '1.2.840.113549.1.12.10.1.3',
    ]);
    const shrouded = (bags[0]!.valueBlock.value[1] as asn1js.Constructed).valueBlock
      .value[0] as asn1js.Sequence;
    const pbes2 = shrouded.valueBlock.value[0] as asn1js.Sequence;
    const [kdf, scheme] = (pbes2.valueBlock.value[1] as asn1js.Sequence).valueBlock
      .value as asn1js.Sequence[];
    const [kdfOid, kdfParams] = kdf!.valueBlock.value;
    const [, count, keyLength, prf] = (kdfParams as asn1js.Sequence).valueBlock.value;
    expect([
      oidOf(pbes2.valueBlock.value[0]!),
      oidOf(kdfOid!),
      (count as asn1js.Integer).valueBlock.valueDec,
      (keyLength as asn1js.Integer).valueBlock.valueDec,
      oidOf((prf as asn1js.Sequence).valueBlock.value[0]!),
      oidOf(scheme!.valueBlock.value[0]!),
    ]).toEqual([
      '1.2.840.113549.1.5.13',
      '1.2.840.113549.1.5.12',
      10000,
      32,
      '1.2.840.113549.2.9',
      '2.16.840.1.101.3.4.1.42',
    ]);

    const localKeyIds = bags.map((b) => {
      const attributes = b.valueBlock.value[2] as asn1js.Set | undefined;
      const attribute = attributes?.valueBlock.value[0] as asn1js.Sequence | undefined;
      if (!attribute) return undefined;
      expect(oidOf(attribute.valueBlock.value[0]!)).toBe('1.2.840.113549.1.9.21');
      const values = attribute.valueBlock.value[1] as asn1js.Set;
      return Buffer.from(
        (values.valueBlock.value[0] as asn1js.OctetString).valueBlock.valueHexView,
      ).toString('hex');
    });
    const endEntityId = createHash('sha1').update(certificates[0]!).digest('hex');
    expect(localKeyIds).toEqual([endEntityId, endEntityId, undefined, undefined]);
  });

  it('salts each container afresh', () => {
    expect(buildPkcs12({ privateKey, certificates }, password)).not.toEqual(pfx);
  });

  it('refuses a password that is not UTF-8 text', () => {
    expect(reasonOf(() => buildPkcs12({ privateKey, certificates }, hex('ff')))).toBe(
      ResultReason.InvalidField,
    );
  });
});

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });

describe.skipIf(openssl.status !== 0)('openssl pkcs12 as a second implementation', () => {
  const { privateKey, certificates } = tcPkcs12One();

  it('reads what buildPkcs12 writes, with a non-ASCII password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmipd-p12-'));
    try {
      const file = join(dir, 'out.p12');
      writeFileSync(file, buildPkcs12({ privateKey, certificates }, Buffer.from('pässwörd')));
      const run = spawnSync(
        'openssl',
        ['pkcs12', '-info', '-in', file, '-passin', 'pass:pässwörd', '-nodes'],
        { encoding: 'utf8' },
      );
      expect(run.status).toBe(0);
      expect(run.stderr).toContain('MAC: sha256, Iteration 10000');
      expect(run.stderr).toContain(
        'Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256',
      );
      const key = /-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----/.exec(run.stdout);
      expect(
        createPrivateKey(key![0]).export({ type: 'pkcs8', format: 'der' }).equals(privateKey),
      ).toBe(true);
      expect(run.stdout.match(/subject=/g)).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('writes what readPkcs12 reads (OpenSSL 3 defaults: certificates in PBES2 encryptedData)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmipd-p12-'));
    try {
      const pem = certificates
        .map((c) => new X509Certificate(c).toString())
        .join('')
        .concat(
          createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' })
            .export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        );
      writeFileSync(join(dir, 'in.pem'), pem);
      const file = join(dir, 'in.p12');
      const run = spawnSync(
        'openssl',
        ['pkcs12', '-export', '-in', join(dir, 'in.pem'), '-out', file, '-passout', 'pass:secret'],
        { encoding: 'utf8' },
      );
      expect(run.status).toBe(0);
      const contents = readPkcs12(readFileSync(file), Buffer.from('secret'));
      expect(contents.privateKey).toEqual(privateKey);
      expect(contents.certificates).toHaveLength(3);
      expect(contents.certificates[0]).toEqual(certificates[0]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
