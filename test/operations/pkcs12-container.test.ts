// Get with Key Format Type PKCS#12 (src/operations/pkcs12-container.ts, KMIP 2.1 §6.1.23): the
// container opened with src/crypto/pkcs12.ts readPkcs12 (itself checked against openssl in
// test/crypto/pkcs12.test.ts) holds the registered key and the linked chain in order; the Key
// Value form of each version; the refusals. Key and certificates are those of TC-PKCS12-1-14.

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rsaPrivateToPkcs8 } from '../../src/crypto/key-formats.js';
import { readPkcs12 } from '../../src/crypto/pkcs12.js';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import { ItemType, type StructureItem, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  SecretDataType,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import {
  attributesFor,
  find,
  payloadOf,
  type TestServer,
  testServer,
} from '../helpers/kmip-test-client.js';

const TC = readFileSync(
  'fixtures/conformance/kmip-testcases-v1.4-cnprd01/TC-PKCS12-1-14.xml',
  'utf8',
);
const valuesOf = (element: string) =>
  [...TC.matchAll(new RegExp(`<${element} type="\\w+" value="([0-9a-f]+)"`, 'g'))].map(
    (m) => m[1]!,
  );
const big = (element: string) => BigInt(`0x${valuesOf(element)[0]}`);

const PKCS8 = rsaPrivateToPkcs8({
  n: big('Modulus'),
  e: big('PublicExponent'),
  d: big('PrivateExponent'),
  p: big('P'),
  q: big('Q'),
});
const [EE, INTER, CA_TOP] = valuesOf('CertificateValue').map((v) => Buffer.from(v, 'hex')) as [
  Buffer,
  Buffer,
  Buffer,
];
const PASSWORD = Buffer.from('password');
const NOW = () => BigInt(Math.floor(Date.now() / 1000));

const link = (type: number, uid: string) =>
  item.struct(Tag.Link, [
    item.enum(Tag.LinkType, type),
    item.text(Tag.LinkedObjectIdentifier, uid),
  ]);

async function send(s: TestServer, version: KmipVersion, operation: number, payload: TtlvItem[]) {
  const res = await s.send(version, [{ operation, payload }]);
  return res.batchItems[0]!;
}

async function registered(
  s: TestServer,
  version: KmipVersion,
  objectType: number,
  object: StructureItem,
  attributes: TtlvItem[],
): Promise<string> {
  const res = await send(s, version, Operation.Register, [
    item.enum(Tag.ObjectType, objectType),
    attributesFor(version, attributes),
    object,
  ]);
  expect(res.resultMessage).toBeUndefined();
  return textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
}

const certificate = (der: Buffer) =>
  item.struct(Tag.Certificate, [
    item.enum(Tag.CertificateType, 1),
    item.bytes(Tag.CertificateValue, der),
  ]);

const keyBlock = (tag: number, format: number, material: Uint8Array) =>
  item.struct(tag, [
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, format),
      item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, material)]),
    ]),
  ]);

async function password(s: TestServer, version: KmipVersion): Promise<string> {
  const object = item.struct(Tag.SecretData, [
    item.enum(Tag.SecretDataType, SecretDataType.Password),
    keyBlock(Tag.SecretData, KeyFormatType.Opaque, PASSWORD).value[0]!,
  ]);
  return registered(s, version, ObjectType.SecretData, object as StructureItem, [
    item.date(Tag.ActivationDate, NOW() - 60n),
  ]);
}

/** CATop, then Inter and EE each linking to its issuer with `issuerLink`. */
async function chain(s: TestServer, version: KmipVersion, issuerLink: number): Promise<string> {
  let issuer: string | undefined;
  for (const der of [CA_TOP, INTER, EE]) {
    const links = issuer === undefined ? [] : [link(issuerLink, issuer)];
    issuer = await registered(s, version, ObjectType.Certificate, certificate(der), links);
  }
  return issuer!;
}

async function privateKey(s: TestServer, version: KmipVersion, links: TtlvItem[]) {
  const object = keyBlock(Tag.PrivateKey, KeyFormatType.PKCS_8, PKCS8);
  const block = childOf(object, Tag.KeyBlock) as StructureItem;
  block.value.push(
    item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
    item.int(Tag.CryptographicLength, 1024),
  );
  return registered(s, version, ObjectType.PrivateKey, object, links);
}

async function getPkcs12(s: TestServer, version: KmipVersion, uid: string) {
  return send(s, version, Operation.Get, [
    item.text(Tag.UniqueIdentifier, uid),
    item.enum(Tag.KeyFormatType, KeyFormatType.PKCS_12),
  ]);
}

describe('Get in Key Format Type PKCS#12', () => {
  it('KMIP 1.4: the key, its PKCS#12 Certificate Link chain, a Byte String Key Value (TC-PKCS12-1-14)', async () => {
    const s = testServer();
    const pw = await password(s, '1.4');
    const ee = await chain(s, '1.4', LinkType.PKCS_12CertificateLink);
    const key = await privateKey(s, '1.4', [
      link(LinkType.PKCS_12PasswordLink, pw),
      link(LinkType.PKCS_12CertificateLink, ee),
    ]);
    const res = await getPkcs12(s, '1.4', key);
    expect(res.resultMessage).toBeUndefined();
    const block = childOf(find(payloadOf(res), Tag.PrivateKey), Tag.KeyBlock);
    expect(block?.type === ItemType.Structure && block.value.map((c) => c.tag)).toEqual([
      Tag.KeyFormatType,
      Tag.KeyValue,
    ]);
    expect(numberOf(childOf(block, Tag.KeyFormatType))).toBe(KeyFormatType.PKCS_12);
    const keyValue = childOf(block, Tag.KeyValue)!;
    expect(keyValue.type).toBe(ItemType.ByteString);
    const contents = readPkcs12(bytesOf(keyValue)!, PASSWORD);
    expect(contents.privateKey).toEqual(PKCS8);
    expect(contents.certificates).toEqual([EE, INTER, CA_TOP]);
  });

  it('KMIP 2.1: through the Public Key Link and Certificate Links, Key Material in a Key Value', async () => {
    const s = testServer();
    const pw = await password(s, '2.1');
    const ee = await chain(s, '2.1', LinkType.CertificateLink);
    const spki = createPublicKey(
      createPrivateKey({ key: PKCS8, format: 'der', type: 'pkcs8' }),
    ).export({
      type: 'spki',
      format: 'der',
    });
    const pub = await registered(
      s,
      '2.1',
      ObjectType.PublicKey,
      keyBlock(Tag.PublicKey, KeyFormatType.X_509, spki),
      [link(LinkType.PKCS_12CertificateLink, ee)],
    );
    const key = await privateKey(s, '2.1', [
      link(LinkType.PKCS_12PasswordLink, pw),
      link(LinkType.PublicKeyLink, pub),
    ]);
    const res = await getPkcs12(s, '2.1', key);
    expect(res.resultMessage).toBeUndefined();
    const block = childOf(find(payloadOf(res), Tag.PrivateKey), Tag.KeyBlock);
    const material = childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial);
    const contents = readPkcs12(bytesOf(material)!, PASSWORD);
    expect(contents.privateKey).toEqual(PKCS8);
    expect(contents.certificates).toEqual([EE, INTER, CA_TOP]);
  });

  it('stops at a certificate seen before (a link cycle) and includes no certificate twice', async () => {
    const s = testServer();
    const pw = await password(s, '2.1');
    const top = await registered(s, '2.1', ObjectType.Certificate, certificate(CA_TOP), []);
    const ee = await registered(s, '2.1', ObjectType.Certificate, certificate(EE), [
      link(LinkType.CertificateLink, top),
    ]);
    await send(s, '2.1', Operation.AddAttribute, [
      item.text(Tag.UniqueIdentifier, top),
      item.struct(Tag.NewAttribute, [link(LinkType.CertificateLink, ee)]),
    ]);
    const key = await privateKey(s, '2.1', [
      link(LinkType.PKCS_12PasswordLink, pw),
      link(LinkType.PKCS_12CertificateLink, ee),
    ]);
    const res = await getPkcs12(s, '2.1', key);
    expect(res.resultMessage).toBeUndefined();
    const material = childOf(
      childOf(childOf(find(payloadOf(res), Tag.PrivateKey), Tag.KeyBlock), Tag.KeyValue),
      Tag.KeyMaterial,
    );
    expect(readPkcs12(bytesOf(material)!, PASSWORD).certificates).toEqual([EE, CA_TOP]);
  });

  it('refuses two chains, a key without a password, and a key that is not private', async () => {
    const s = testServer();
    const pw = await password(s, '2.1');
    const ee = await registered(s, '2.1', ObjectType.Certificate, certificate(EE), []);
    const inter = await registered(s, '2.1', ObjectType.Certificate, certificate(INTER), []);
    const twoChains = await privateKey(s, '2.1', [
      link(LinkType.PKCS_12PasswordLink, pw),
      link(LinkType.PKCS_12CertificateLink, ee),
      link(LinkType.PKCS_12CertificateLink, inter),
    ]);
    const res = await getPkcs12(s, '2.1', twoChains);
    expect([res.resultStatus, res.resultReason]).toEqual([
      ResultStatus.OperationFailed,
      ResultReason.InvalidField,
    ]);
    const noPassword = await privateKey(s, '2.1', [link(LinkType.PKCS_12CertificateLink, ee)]);
    expect((await getPkcs12(s, '2.1', noPassword)).resultReason).toBe(ResultReason.BadPassword);
    expect((await getPkcs12(s, '2.1', ee)).resultReason).toBe(
      ResultReason.KeyFormatTypeNotSupported,
    );
  });
});
