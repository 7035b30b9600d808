import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../src/crypto/der.js';
import { parseCertificate } from '../../src/crypto/x509.js';
import { KmipError } from '../../src/errors.js';
import { initPki, type PkiFiles } from '../../src/pki/dev-pki.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';

const run = promisify(execFile);
let root: string;
let pki: PkiFiles;

const certDer = async (path: string) => pemToDer(await readFile(path, 'utf8'), 'CERTIFICATE');

/** Self-signed certificate from the openssl command line, as an independent encoder. */
async function opensslCert(name: string, args: string[]): Promise<Buffer> {
  const out = join(root, `${name}.crt`);
  await run('openssl', [
    'req',
    '-x509',
    '-nodes',
    '-days',
    '30',
    '-keyout',
    join(root, `${name}.key`),
    '-out',
    out,
    '-outform',
    'DER',
    ...args,
  ]);
  return readFile(out);
}

function expectInvalidField(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(KmipError);
  expect((caught as KmipError).reason).toBe(ResultReason.InvalidField);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kmipd-x509-'));
  pki = await initPki({ dir: join(root, 'pki'), clients: ['admin'] });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('parseCertificate on the development PKI', () => {
  it('reads the server certificate as node:crypto does', async () => {
    const der = await certDer(pki.server.cert);
    const node = new X509Certificate(der);
    const info = parseCertificate(der);
    expect(info).toMatchObject({
      certificateType: 'X.509',
      version: 3,
      subject: 'CN=localhost',
      issuer: 'CN=kmipd development CA',
      subjectAltNames: [
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ],
      publicKeyAlgorithm: 'RSA',
      publicKeyLengthBits: 2048,
      signatureAlgorithm: 'SHA_256WithRSAEncryption',
      signatureAlgorithmOid: '1.2.840.113549.1.1.11',
      extendedKeyUsage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      isCA: false,
    });
    // node:crypto drops leading zero digits (C005…); the DER bytes keep a whole octet (0C005…).
    const digits = (hex: string) => hex.toUpperCase().replace(/^0+/, '');
    expect(digits(info.serialNumberHex)).toBe(digits(node.serialNumber));
    expect(info.notBefore).toEqual(new Date(node.validFrom));
    expect(info.notAfter).toEqual(new Date(node.validTo));
    expect(info.publicKeyDer.equals(node.publicKey.export({ type: 'spki', format: 'der' }))).toBe(
      true,
    );
    expect(info.identifier).toEqual({ issuerDer: info.issuerDer, serialNumber: info.serialNumber });
    expect(info.der.equals(der)).toBe(true);
  });

  it('links issuer and subject DER between leaf and CA', async () => {
    const ca = parseCertificate(await certDer(pki.ca.cert));
    const admin = parseCertificate(await certDer(pki.clients.admin!.cert));
    expect(ca.isCA).toBe(true);
    expect(ca.keyUsage).toEqual(['keyCertSign', 'cRLSign']);
    expect(ca.subjectDer.equals(ca.issuerDer)).toBe(true);
    expect(admin.issuerDer.equals(ca.subjectDer)).toBe(true);
    expect(admin.subject).toBe('CN=admin');
    expect(admin.subjectAltNames).toEqual([]);
    expect(admin.subjectAltNameDer).toBeUndefined();
    expect(admin.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });
});

describe('parseCertificate on openssl certificates', () => {
  it('EC P-384, SHA-384, multi-part subject with escaping and four SAN kinds', async () => {
    const der = await opensslCert('ec', [
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-384',
      '-sha384',
      '-set_serial',
      '1234567',
      '-subj',
      '/C=US/O=Example, Inc./CN=kmip test',
      '-addext',
      'subjectAltName=DNS:kmip.example,IP:2001:db8::1,email:ops@example.com,URI:https://kmip.example/',
    ]);
    const info = parseCertificate(der);
    expect(info).toMatchObject({
      subject: 'CN=kmip test,O=Example\\, Inc.,C=US',
      issuer: 'CN=kmip test,O=Example\\, Inc.,C=US',
      serialNumberHex: '12d687',
      publicKeyAlgorithm: 'EC',
      curve: 'P_384',
      publicKeyLengthBits: 384,
      signatureAlgorithm: 'ECDSAWithSHA384',
      subjectAltNames: [
        { type: 'dns', value: 'kmip.example' },
        { type: 'ip', value: '2001:db8::1' },
        { type: 'email', value: 'ops@example.com' },
        { type: 'uri', value: 'https://kmip.example/' },
      ],
    });
    const node = new X509Certificate(der);
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(30 * 86_400_000);
    expect(info.notBefore).toEqual(new Date(node.validFrom));
  });

  it('RSA 3072 with SHA-512', async () => {
    const info = parseCertificate(
      await opensslCert('rsa', ['-newkey', 'rsa:3072', '-sha512', '-subj', '/CN=rsa']),
    );
    expect(info).toMatchObject({
      publicKeyAlgorithm: 'RSA',
      publicKeyLengthBits: 3072,
      signatureAlgorithm: 'SHA_512WithRSAEncryption',
      subject: 'CN=rsa',
    });
  });

  it('Ed25519', async () => {
    const info = parseCertificate(
      await opensslCert('ed', ['-newkey', 'ed25519', '-subj', '/CN=ed/OU=a+OU=b']),
    );
    expect(info).toMatchObject({
      publicKeyAlgorithm: 'Ed25519',
      publicKeyLengthBits: 256,
      signatureAlgorithm: 'Ed25519',
      subject: 'OU=a+OU=b,CN=ed',
    });
  });
});

describe('parseCertificate on bad input', () => {
  let der: Buffer;
  beforeAll(async () => {
    der = await certDer(pki.server.cert);
  });

  it('gives Invalid Field for every truncation', () => {
    for (let length = 0; length < der.length; length += 7) {
      expectInvalidField(() => parseCertificate(der.subarray(0, length)));
    }
  });

  it('gives Invalid Field for trailing bytes and for a key where a certificate belongs', () => {
    expectInvalidField(() => parseCertificate(Buffer.concat([der, Buffer.of(0)])));
    const info = parseCertificate(der);
    expectInvalidField(() => parseCertificate(info.publicKeyDer));
  });

  it('gives Invalid Field when the two signature algorithm fields disagree', () => {
    const sha256WithRsa = Buffer.from('2a864886f70d01010b', 'hex');
    const sha384WithRsa = Buffer.from('2a864886f70d01010c', 'hex');
    const last = der.lastIndexOf(sha256WithRsa);
    const changed = Buffer.from(der);
    sha384WithRsa.copy(changed, last);
    expectInvalidField(() => parseCertificate(changed));
  });

  it('never throws anything but a KmipError on corrupted or random input', () => {
    const corrupted = fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
      const copy = Buffer.from(der);
      const index = at % copy.length;
      copy[index] = (copy[index] ?? 0) ^ xor;
      return copy;
    });
    fc.assert(
      fc.property(fc.oneof(corrupted, fc.uint8Array({ maxLength: 300 })), (bytes) => {
        try {
          parseCertificate(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(KmipError);
          expect((err as KmipError).reason).toBe(ResultReason.InvalidField);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
