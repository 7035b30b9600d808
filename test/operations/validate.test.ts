// KMIP 2.1 §6.1.53 Validate: a chain of certificates given by value and/or Unique Identifier
// is Valid when it ends at a trust anchor (the server's CA, or a root the client names by
// Unique Identifier), Invalid when a certificate is outside its validity at the Validity Date,
// a signature does not verify or a certificate is off the chain, and Unknown when it ends at a
// root the server does not trust. Certificates come from the development PKI and from
// src/crypto/ca.ts; node:crypto (X509Certificate) confirms each before the server answers.

import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateAuthority,
  commonNameDer,
  issueCertificate,
  loadCertificateAuthority,
  readCertificateAuthority,
} from '../../src/crypto/ca.js';
import { item, numberOf, textOf } from '../../src/kmip/items.js';
import { MAX_CHAIN_CERTIFICATES } from '../../src/operations/validate.js';
import { initPki } from '../../src/pki/dev-pki.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CertificateType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
  ValidityIndicator,
} from '../../src/ttlv/spec/generated.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';
import { call } from '../objects/server-calls.js';

let dirs: string[] = [];
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;

async function devCa(): Promise<CertificateAuthority> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-validate-'));
  dirs.push(dir);
  await initPki({ dir, clients: ['admin'] });
  return (await readCertificateAuthority(join(dir, 'ca.crt'), join(dir, 'ca.key')))!;
}

/** A CA the server does not know, under another name than the development CA's. */
async function foreignCa(): Promise<CertificateAuthority> {
  const made = await generate([{ name: 'commonName', value: 'some other CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return loadCertificateAuthority(made.cert, made.private);
}

beforeAll(async () => {
  ca = await devCa();
  otherCa = await foreignCa();
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
});

const spki = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    type: 'spki',
    format: 'der',
  });

function leaf(by: CertificateAuthority, cn = 'leaf', notBefore = new Date()): Buffer {
  return issueCertificate(by, { subjectDer: commonNameDer(cn), spkiDer: spki(), notBefore });
}

const certificate = (der: Uint8Array): TtlvItem =>
  item.struct(Tag.Certificate, [
    item.enum(Tag.CertificateType, CertificateType.X_509),
    item.bytes(Tag.CertificateValue, der),
  ]);

async function validity(s: ReturnType<typeof testServer>, payload: TtlvItem[]) {
  const res = await call(s, Operation.Validate, payload);
  expect(res.resultMessage).toBeUndefined();
  expect(res.resultStatus).toBe(ResultStatus.Success);
  return numberOf(find(payloadOf(res), Tag.ValidityIndicator));
}

async function registerCertificate(s: ReturnType<typeof testServer>, der: Uint8Array) {
  const res = await call(s, Operation.Register, [
    item.enum(Tag.ObjectType, ObjectType.Certificate),
    item.struct(Tag.Attributes, []),
    certificate(der),
  ]);
  expect(res.resultStatus).toBe(ResultStatus.Success);
  return textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
}

describe('Validate (KMIP 2.1 §6.1.53)', () => {
  it('a leaf of the server CA is Valid, alone or with the CA, in any order', async () => {
    const s = testServer({ ca });
    const der = leaf(ca);
    expect(new X509Certificate(der).verify(ca.certificate.publicKey)).toBe(true);
    expect(await validity(s, [certificate(der)])).toBe(ValidityIndicator.Valid);
    const root = certificate(ca.certificate.raw);
    expect(await validity(s, [root, certificate(der)])).toBe(ValidityIndicator.Valid);
  });

  it('a leaf given by Unique Identifier is Valid', async () => {
    const s = testServer({ ca });
    const uid = await registerCertificate(s, leaf(ca));
    expect(await validity(s, [item.text(Tag.UniqueIdentifier, uid)])).toBe(ValidityIndicator.Valid);
  });

  it('Validity Date outside a certificate’s validity is Invalid', async () => {
    const s = testServer({ ca });
    const der = leaf(ca);
    const cert = new X509Certificate(der);
    const after = BigInt(Math.floor(Date.parse(cert.validTo) / 1000) + 86_400);
    const before = BigInt(Math.floor(Date.parse(cert.validFrom) / 1000) - 86_400);
    for (const at of [after, before]) {
      expect(await validity(s, [certificate(der), item.date(Tag.ValidityDate, at)])).toBe(
        ValidityIndicator.Invalid,
      );
    }
  });

  it('a chain ending at a root the server does not trust is Unknown', async () => {
    const s = testServer({ ca });
    const der = leaf(otherCa);
    expect(await validity(s, [certificate(der)])).toBe(ValidityIndicator.Unknown);
    expect(await validity(s, [certificate(der), certificate(otherCa.certificate.raw)])).toBe(
      ValidityIndicator.Unknown,
    );
  });

  it('a root the client names by Unique Identifier is its trust anchor', async () => {
    const s = testServer();
    const rootUid = await registerCertificate(s, otherCa.certificate.raw);
    expect(
      await validity(s, [certificate(leaf(otherCa)), item.text(Tag.UniqueIdentifier, rootUid)]),
    ).toBe(ValidityIndicator.Valid);
  });

  it('a bad signature under the same issuer name is Invalid', async () => {
    const s = testServer({ ca });
    // Same subject and key type as the server CA, another key: names match, signatures do not.
    const impostorKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const impostor: CertificateAuthority = { ...ca, key: impostorKey };
    const der = leaf(impostor);
    expect(new X509Certificate(der).checkIssued(ca.certificate)).toBe(true);
    expect(await validity(s, [certificate(der)])).toBe(ValidityIndicator.Invalid);
  });

  it('a certificate off the chain makes it Invalid', async () => {
    const s = testServer({ ca });
    expect(await validity(s, [certificate(leaf(ca, 'a')), certificate(leaf(otherCa, 'b'))])).toBe(
      ValidityIndicator.Invalid,
    );
  });

  it('refuses an empty chain, a chain over the limit and a value that is no certificate', async () => {
    const s = testServer({ ca });
    expect((await call(s, Operation.Validate, [])).resultReason).toBe(ResultReason.InvalidField);
    const many = Array.from({ length: MAX_CHAIN_CERTIFICATES + 1 }, () =>
      certificate(ca.certificate.raw),
    );
    expect((await call(s, Operation.Validate, many)).resultReason).toBe(ResultReason.InvalidField);
    const junk = await call(s, Operation.Validate, [certificate(Buffer.from('junk'))]);
    expect(junk.resultReason).toBe(ResultReason.InvalidField);
  });

  it('loads a CA only when its key matches its certificate', () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() =>
      loadCertificateAuthority(
        ca.certificate.toString(),
        key.export({ type: 'pkcs8', format: 'pem' }),
      ),
    ).toThrow(/does not match/);
  });
});
