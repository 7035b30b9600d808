// KMIP 2.1 §6.1.7 Certify and §6.1.43 Re-certify: certificates signed by the development PKI's
// CA for a managed public key or a PKCS #10 request, checked with node:crypto (verify against
// the CA key, checkIssued, the certified key); the Certificate/Public Key Links, Replaced and
// Replacement Object Links; Feature Not Supported without a CA; a request whose signature
// does not verify is refused. The test's CSR encoder is its own, built from RFC 2986.

import { generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateAuthority, readCertificateAuthority } from '../../src/crypto/ca.js';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import { initPki } from '../../src/pki/dev-pki.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CertificateRequestType,
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';
import { call, createKeyPair, get, getAttributes } from '../objects/server-calls.js';

let dir: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-certify-'));
  await initPki({ dir, clients: ['admin'] });
  ca = (await readCertificateAuthority(join(dir, 'ca.crt'), join(dir, 'ca.key')))!;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** PKCS #10 CertificationRequest (RFC 2986 §4.1) for CN=`cn`, signed with SHA-256. */
function csr(cn: string, key: { publicKey: KeyObject; privateKey: KeyObject }): Buffer {
  const spki = key.publicKey.export({ type: 'spki', format: 'der' });
  const name = new asn1js.Sequence({
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
  });
  const info = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      name,
      asn1js.fromBER(spki).result,
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [] }),
    ],
  });
  const infoDer = Buffer.from(info.toBER());
  const rsa = key.privateKey.asymmetricKeyType === 'rsa';
  const alg = new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: rsa ? '1.2.840.113549.1.1.11' : '1.2.840.10045.4.3.2' }),
      ...(rsa ? [new asn1js.Null()] : []),
    ],
  });
  const signature = sign('sha256', infoDer, key.privateKey);
  return Buffer.from(
    new asn1js.Sequence({
      value: [info, alg, new asn1js.BitString({ valueHex: signature })],
    }).toBER(),
  );
}

function links(attrs: TtlvItem[], type: number): string[] {
  return attrs
    .filter((a) => a.tag === Tag.Link && numberOf(childOf(a, Tag.LinkType)) === type)
    .map((a) => textOf(childOf(a, Tag.LinkedObjectIdentifier))!);
}

async function certificateOf(s: ReturnType<typeof testServer>, uid: string) {
  const { object } = await get(s, uid);
  return new X509Certificate(bytesOf(childOf(object, Tag.CertificateValue))!);
}

async function certifyOk(s: ReturnType<typeof testServer>, payload: TtlvItem[]) {
  const res = await call(s, Operation.Certify, payload);
  expect(res.resultMessage).toBeUndefined();
  expect(res.resultStatus).toBe(ResultStatus.Success);
  return textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
}

describe('Certify (KMIP 2.1 §6.1.7)', () => {
  it('certifies a managed public key with the CA and links key and certificate', async () => {
    const s = testServer({ ca });
    const { publicUid } = await createKeyPair(s, 'RSA');
    const certUid = await certifyOk(s, [item.text(Tag.UniqueIdentifier, publicUid)]);
    const cert = await certificateOf(s, certUid);
    expect(cert.verify(ca.certificate.publicKey)).toBe(true);
    expect(cert.checkIssued(ca.certificate)).toBe(true);
    expect(cert.subject).toBe(`CN=${publicUid}`);
    expect(cert.ca).toBe(false);
    const { object } = await get(s, publicUid, KeyFormatType.X_509);
    const spki = bytesOf(
      childOf(childOf(childOf(object, Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial),
    );
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(Buffer.from(spki!));
    expect(links(await getAttributes(s, certUid), LinkType.PublicKeyLink)).toEqual([publicUid]);
    expect(links(await getAttributes(s, publicUid), LinkType.CertificateLink)).toEqual([certUid]);
    const attrs = await getAttributes(s, certUid);
    expect(numberOf(find(attrs, Tag.ObjectType))).toBe(ObjectType.Certificate);
  });

  it('certifies the key the ID Placeholder names (Create Key Pair, then Certify)', async () => {
    const s = testServer({ ca });
    const { publicUid } = await createKeyPair(s, 'EC');
    const res = await s.send('2.1', [
      { operation: Operation.GetAttributes, payload: [item.text(Tag.UniqueIdentifier, publicUid)] },
      { operation: Operation.Certify, payload: [] },
    ]);
    expect(res.batchItems[1]!.resultStatus).toBe(ResultStatus.Success);
  });

  it('certifies a PKCS #10 request (DER and PEM) for its subject and key', async () => {
    const s = testServer({ ca });
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = csr('csr-client', key);
    const uid = await certifyOk(s, [
      item.enum(Tag.CertificateRequestType, CertificateRequestType.PKCS_10),
      item.bytes(Tag.CertificateRequestValue, der),
    ]);
    const cert = await certificateOf(s, uid);
    expect(cert.subject).toBe('CN=csr-client');
    expect(cert.verify(ca.certificate.publicKey)).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      key.publicKey.export({ type: 'spki', format: 'der' }),
    );
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const fromPem = await certifyOk(s, [
      item.enum(Tag.CertificateRequestType, CertificateRequestType.PEM),
      item.bytes(Tag.CertificateRequestValue, Buffer.from(pem)),
    ]);
    expect((await certificateOf(s, fromPem)).subject).toBe('CN=csr-client');
  });

  it('takes the KMIP 1.4 Certificate Request field', async () => {
    const s = testServer({ ca });
    const der = csr('v14', generateKeyPairSync('rsa', { modulusLength: 2048 }));
    const res = await call(
      s,
      Operation.Certify,
      [
        item.enum(Tag.CertificateRequestType, CertificateRequestType.PKCS_10),
        item.bytes(Tag.CertificateRequest, der),
      ],
      '1.4',
    );
    expect(res.resultStatus).toBe(ResultStatus.Success);
  });

  it('refuses a request whose signature does not verify, or for another key', async () => {
    const s = testServer({ ca });
    const der = csr('tampered', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    der[der.length - 5] = der.at(-5)! ^ 0xff;
    const res = await call(s, Operation.Certify, [item.bytes(Tag.CertificateRequestValue, der)]);
    expect(res.resultReason).toBe(ResultReason.InvalidField);
    const { publicUid } = await createKeyPair(s, 'EC');
    const other = csr('other', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    const mismatch = await call(s, Operation.Certify, [
      item.text(Tag.UniqueIdentifier, publicUid),
      item.bytes(Tag.CertificateRequestValue, other),
    ]);
    expect(mismatch.resultReason).toBe(ResultReason.InvalidField);
  });

  it('answers Feature Not Supported without a CA, and refuses a key that is not public', async () => {
    const s = testServer();
    const { publicUid, privateUid } = await createKeyPair(s, 'EC');
    const res = await call(s, Operation.Certify, [item.text(Tag.UniqueIdentifier, publicUid)]);
    expect(res.resultReason).toBe(ResultReason.FeatureNotSupported);
    const withCa = testServer({ ca, store: s.store });
    const priv = await call(withCa, Operation.Certify, [
      item.text(Tag.UniqueIdentifier, privateUid),
    ]);
    expect(priv.resultReason).toBe(ResultReason.InvalidObjectType);
  });
});

describe('Re-certify (KMIP 2.1 §6.1.43)', () => {
  it('makes a new certificate for the same key, linked as replacement', async () => {
    const s = testServer({ ca });
    const { publicUid } = await createKeyPair(s, 'RSA');
    const oldUid = await certifyOk(s, [item.text(Tag.UniqueIdentifier, publicUid)]);
    const res = await call(s, Operation.ReCertify, [
      item.text(Tag.UniqueIdentifier, oldUid),
      item.interval(Tag.Offset, 3600),
    ]);
    expect(res.resultMessage).toBeUndefined();
    const newUid = textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
    expect(newUid).not.toBe(oldUid);
    const [before, after] = [await certificateOf(s, oldUid), await certificateOf(s, newUid)];
    expect(after.verify(ca.certificate.publicKey)).toBe(true);
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.subject).toBe(before.subject);
    expect(after.publicKey.equals(before.publicKey)).toBe(true);
    expect(Date.parse(after.validFrom)).toBeGreaterThan(Date.parse(before.validFrom));
    const newAttrs = await getAttributes(s, newUid);
    expect(links(newAttrs, LinkType.ReplacedObjectLink)).toEqual([oldUid]);
    expect(links(newAttrs, LinkType.PublicKeyLink)).toEqual([publicUid]);
    expect(links(await getAttributes(s, oldUid), LinkType.ReplacementObjectLink)).toEqual([newUid]);
    expect(links(await getAttributes(s, publicUid), LinkType.CertificateLink)).toEqual([
      oldUid,
      newUid,
    ]);
  });

  it('refuses an object that is not a certificate', async () => {
    const s = testServer({ ca });
    const { publicUid } = await createKeyPair(s, 'EC');
    const res = await call(s, Operation.ReCertify, [item.text(Tag.UniqueIdentifier, publicUid)]);
    expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
  });
});
