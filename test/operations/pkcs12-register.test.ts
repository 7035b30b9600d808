// Register of a Private Key in Key Format Type PKCS#12 (src/operations/pkcs12-register.ts;
// TC-PKCS12-2-14, TC-PKCS12-2-20): the container is opened with the linked password, the key is
// registered in PKCS#8 with its algorithm and length, the certificate chain as Certificates
// linked to it, and a wrong password is Bad Password (Invalid Field for 1.x). Expected values
// come from the test case files (the container, its PKCS#8 key and certificate, the digests),
// not from the code under test; the two-key container is written here by hand.

import { createHmac, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { encodeDer } from '../../src/crypto/der.js';
import { rsaPrivateToPkcs8 } from '../../src/crypto/key-formats.js';
import { buildPkcs12, pkcs12Kdf, readPkcs12 } from '../../src/crypto/pkcs12.js';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  HashingAlgorithm,
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
  find,
  oneItemCalls,
  payloadOf,
  type TestServer,
  testServer,
} from '../helpers/kmip-test-client.js';

const TC2 = readFileSync(
  'fixtures/conformance/kmip-testcases-v1.4-cnprd01/TC-PKCS12-2-14.xml',
  'utf8',
);
const TC1 = readFileSync(
  'fixtures/conformance/kmip-testcases-v1.4-cnprd01/TC-PKCS12-1-14.xml',
  'utf8',
);
const valuesOf = (xml: string, element: string) =>
  [...xml.matchAll(new RegExp(`<${element} type="\\w+" value="([0-9a-f]+)"`, 'g'))].map((m) =>
    Buffer.from(m[1]!, 'hex'),
  );

/** TC-PKCS12-2: the container (3DES, SHA-1 MAC, "password"), its RSA-4096 key and certificate. */
const PFX = valuesOf(TC2, 'KeyValue')[0]!;
const PKCS8 = valuesOf(TC2, 'KeyMaterial').find((v) => v.length > 500)!;
const CERT = valuesOf(TC2, 'CertificateValue')[0]!;
const KEY_DIGEST = '67ec992a2a40af7e75b40442a55e3a026a71018eea7201de523a43df036024ac';
const CERT_DIGEST = 'ddad0c0aafd8891c962afa2900ed9c2c17222550e2d769176f0b04872bdc5570';
const ISSUER_DN = Buffer.from('30143112301006035504030c096c6f63616c686f7374', 'hex');

/** TC-PKCS12-1: an RSA-1024 key and its chain EE, Inter, CATop. */
const big = (element: string) => BigInt(`0x${valuesOf(TC1, element)[0]!.toString('hex')}`);
const KEY1 = rsaPrivateToPkcs8({
  n: big('Modulus'),
  e: big('PublicExponent'),
  d: big('PrivateExponent'),
  p: big('P'),
  q: big('Q'),
});
const [EE, INTER, CA_TOP] = valuesOf(TC1, 'CertificateValue') as [Buffer, Buffer, Buffer];

const PASSWORD = Buffer.from('password');

function calls(s: TestServer) {
  const { call, succeeded, register } = oneItemCalls(s);
  const uid = (res: Awaited<ReturnType<typeof call>>) =>
    textOf(find(payloadOf(res), Tag.UniqueIdentifier))!;
  const uidItem = (u: string) => item.text(Tag.UniqueIdentifier, u);
  return {
    call,
    /** An Active Secret Data password holding `secret`. */
    async password(secret: Buffer): Promise<string> {
      const object = item.struct(Tag.SecretData, [
        item.enum(Tag.SecretDataType, SecretDataType.Password),
        item.struct(Tag.KeyBlock, [
          item.enum(Tag.KeyFormatType, KeyFormatType.Opaque),
          item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, secret)]),
        ]),
      ]);
      const u = uid(await register('2.0', ObjectType.SecretData, object, []));
      await succeeded('2.0', Operation.Activate, [uidItem(u)]);
      return u;
    },
    /** Register of `pfx` as a PKCS#12 Private Key, in the Key Value form of the version. */
    registerPkcs12(
      version: KmipVersion,
      pfx: Buffer,
      attributes: TtlvItem[],
      objectType: number = ObjectType.PrivateKey,
    ) {
      const keyValue = version.startsWith('1')
        ? item.bytes(Tag.KeyValue, pfx)
        : item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, pfx)]);
      const tag = objectType === ObjectType.PrivateKey ? Tag.PrivateKey : Tag.PublicKey;
      const object = item.struct(tag, [
        item.struct(Tag.KeyBlock, [item.enum(Tag.KeyFormatType, KeyFormatType.PKCS_12), keyValue]),
      ]);
      return register(version, objectType, object, attributes);
    },
    uid,
    /** The 2.x Get Attributes answer of `u`, all attributes. */
    async attributes(u: string): Promise<TtlvItem[]> {
      const res = await call('2.0', Operation.GetAttributes, [uidItem(u)]);
      const set = find(payloadOf(res), Tag.Attributes);
      return set?.type === ItemType.Structure ? set.value : [];
    },
    async get(u: string, format?: number) {
      const res = await call('2.0', Operation.Get, [
        uidItem(u),
        ...(format === undefined ? [] : [item.enum(Tag.KeyFormatType, format)]),
      ]);
      expect(res.resultMessage).toBeUndefined();
      return payloadOf(res);
    },
    async locate(attributes: TtlvItem[]): Promise<string[]> {
      const res = await call('2.0', Operation.Locate, [item.struct(Tag.Attributes, attributes)]);
      return payloadOf(res)
        .filter((i) => i.tag === Tag.UniqueIdentifier)
        .map((i) => textOf(i)!);
    },
  };
}

const passwordLink = (u: string) =>
  item.struct(Tag.Link, [
    item.enum(Tag.LinkType, LinkType.PKCS_12PasswordLink),
    item.text(Tag.LinkedObjectIdentifier, u),
  ]);
const all = (list: TtlvItem[], tag: number) => list.filter((i) => i.tag === tag);
const linksOf = (list: TtlvItem[]): Array<[number | undefined, string | undefined]> =>
  all(list, Tag.Link).map((l) => [
    numberOf(childOf(l, Tag.LinkType)),
    textOf(childOf(l, Tag.LinkedObjectIdentifier)),
  ]);
const hex = (i: TtlvItem | undefined) => Buffer.from(bytesOf(i) ?? []).toString('hex');
const certificateValue = (payload: TtlvItem[]) =>
  bytesOf(childOf(find(payload, Tag.Certificate), Tag.CertificateValue));
const keyBlock = (payload: TtlvItem[]) => childOf(find(payload, Tag.PrivateKey), Tag.KeyBlock);

describe('Register of a PKCS#12 container (TC-PKCS12-2)', () => {
  const s = testServer();
  const c = calls(s);

  it('registers the key in PKCS#8 with RSA/4096 and one PKCS#8 Digest, linked to its certificate', async () => {
    const pw = await c.password(PASSWORD);
    const res = await c.registerPkcs12('2.0', PFX, [
      passwordLink(pw),
      item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Sign),
      item.text(Tag.PKCS_12FriendlyName, 'alias'),
    ]);
    expect(res.resultStatus).toBe(ResultStatus.Success);
    const key = c.uid(res);

    const attrs = await c.attributes(key);
    expect(numberOf(find(attrs, Tag.CryptographicAlgorithm))).toBe(CryptographicAlgorithm.RSA);
    expect(numberOf(find(attrs, Tag.CryptographicLength))).toBe(4096);
    const digests = all(attrs, Tag.Digest);
    expect(digests).toHaveLength(1);
    expect(numberOf(childOf(digests[0], Tag.HashingAlgorithm))).toBe(HashingAlgorithm.SHA_256);
    expect(hex(childOf(digests[0], Tag.DigestValue))).toBe(KEY_DIGEST);
    expect(numberOf(childOf(digests[0], Tag.KeyFormatType))).toBe(KeyFormatType.PKCS_8);
    expect(textOf(find(attrs, Tag.PKCS_12FriendlyName))).toBe('alias');
    const links = linksOf(attrs);
    expect(links[0]).toEqual([LinkType.PKCS_12PasswordLink, pw]);
    expect(links[1]![0]).toBe(LinkType.PKCS_12CertificateLink);
    expect(links).toHaveLength(2);
    const cert = links[1]![1]!;

    const block = keyBlock(await c.get(key));
    expect(block?.type === ItemType.Structure && block.value.map((i) => i.tag)).toEqual([
      Tag.KeyFormatType,
      Tag.KeyValue,
      Tag.CryptographicAlgorithm,
      Tag.CryptographicLength,
    ]);
    expect(numberOf(childOf(block, Tag.KeyFormatType))).toBe(KeyFormatType.PKCS_8);
    expect(bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial))).toEqual(PKCS8);

    expect(certificateValue(await c.get(cert))).toEqual(CERT);
    const certAttrs = await c.attributes(cert);
    const certDigest = find(certAttrs, Tag.Digest);
    expect(hex(childOf(certDigest, Tag.DigestValue))).toBe(CERT_DIGEST);
    expect(childOf(certDigest, Tag.KeyFormatType)).toBeUndefined();
    const identifier = find(certAttrs, Tag.X_509CertificateIdentifier);
    expect(bytesOf(childOf(identifier, Tag.IssuerDistinguishedName))).toEqual(ISSUER_DN);
    expect(hex(childOf(identifier, Tag.CertificateSerialNumber))).toBe('00d2f5bad76a5ac8f9');
    expect(numberOf(find(certAttrs, Tag.CryptographicLength))).toBe(4096);
    expect(textOf(find(certAttrs, Tag.PKCS_12FriendlyName))).toBe('alias');
    // The key's other attributes stay the key's.
    expect(find(certAttrs, Tag.CryptographicUsageMask)).toBeUndefined();
    expect(all(certAttrs, Tag.Link)).toEqual([]);

    // Located by the serial number as a DER INTEGER (TC-PKCS12-2) or as its content octets.
    for (const serial of ['020900d2f5bad76a5ac8f9', '00d2f5bad76a5ac8f9']) {
      const found = await c.locate([
        item.struct(Tag.X_509CertificateIdentifier, [
          item.bytes(Tag.IssuerDistinguishedName, ISSUER_DN),
          item.bytes(Tag.CertificateSerialNumber, Buffer.from(serial, 'hex')),
        ]),
      ]);
      expect(found).toEqual([cert]);
    }

    // Get in PKCS#12 builds a container of the key and its linked certificate.
    const material = childOf(
      childOf(keyBlock(await c.get(key, KeyFormatType.PKCS_12)), Tag.KeyValue),
      Tag.KeyMaterial,
    );
    const contents = readPkcs12(bytesOf(material)!, PASSWORD);
    expect(contents.privateKey).toEqual(PKCS8);
    expect(contents.certificates).toEqual([CERT]);
  });

  it('KMIP 1.4: the container as the Key Value Byte String; the bag friendly name when none given', async () => {
    const pw = await c.password(PASSWORD);
    const res = await c.registerPkcs12('1.4', PFX, [passwordLink(pw)]);
    expect(res.resultStatus).toBe(ResultStatus.Success);
    const attrs = await c.attributes(c.uid(res));
    expect(numberOf(find(attrs, Tag.CryptographicLength))).toBe(4096);
    expect(textOf(find(attrs, Tag.PKCS_12FriendlyName))).toBe('alias');
  });

  it('a password that does not open the container: Bad Password (2.x), Invalid Field (1.4)', async () => {
    const wrong = await c.password(Buffer.from('Password'));
    const before = await c.locate([item.enum(Tag.ObjectType, ObjectType.Certificate)]);
    for (const [version, reason] of [
      ['2.0', ResultReason.BadPassword],
      ['2.1', ResultReason.BadPassword],
      ['1.4', ResultReason.InvalidField],
    ] as const) {
      const res = await c.registerPkcs12(version, PFX, [passwordLink(wrong)]);
      expect([res.resultStatus, res.resultReason]).toEqual([ResultStatus.OperationFailed, reason]);
      expect(res.resultMessage).toBe('the PKCS#12 password does not open the container');
    }
    // Nothing is registered by a refused container.
    expect(await c.locate([item.enum(Tag.ObjectType, ObjectType.Certificate)])).toEqual(before);
  });

  it('a PKCS#12 Key Block for anything but a Private Key: Key Format Type Not Supported', async () => {
    const pw = await c.password(PASSWORD);
    const res = await c.registerPkcs12('2.0', PFX, [passwordLink(pw)], ObjectType.PublicKey);
    expect(res.resultReason).toBe(ResultReason.KeyFormatTypeNotSupported);
  });
});

describe('the certificate chain of a PKCS#12 container', () => {
  it('registers the key certificate and its issuers in chain order whatever the container order, and no other', async () => {
    const s = testServer();
    const c = calls(s);
    const pw = await c.password(PASSWORD);
    const pfx = buildPkcs12(
      { privateKey: KEY1, certificates: [CA_TOP, CERT, EE, INTER] },
      PASSWORD,
    );
    const key = c.uid(await c.registerPkcs12('2.0', pfx, [passwordLink(pw)]));
    expect(numberOf(find(await c.attributes(key), Tag.CryptographicLength))).toBe(1024);

    const certificates = await c.locate([item.enum(Tag.ObjectType, ObjectType.Certificate)]);
    expect(certificates).toHaveLength(3);
    const [, ee] = linksOf(await c.attributes(key)).find(
      ([type]) => type === LinkType.PKCS_12CertificateLink,
    )!;
    const chain: Buffer[] = [];
    for (let u = ee; u !== undefined; ) {
      chain.push(Buffer.from(certificateValue(await c.get(u))!));
      const issuerLinks = linksOf(await c.attributes(u));
      expect(issuerLinks.every(([type]) => type === LinkType.CertificateLink)).toBe(true);
      u = issuerLinks[0]?.[1];
    }
    expect(chain).toEqual([EE, INTER, CA_TOP]);
  });

  it('registers the key alone when no certificate in the container is its own', async () => {
    const s = testServer();
    const c = calls(s);
    const pw = await c.password(PASSWORD);
    const pfx = buildPkcs12({ privateKey: KEY1, certificates: [CERT] }, PASSWORD);
    const key = c.uid(await c.registerPkcs12('2.0', pfx, [passwordLink(pw)]));
    expect(linksOf(await c.attributes(key))).toEqual([[LinkType.PKCS_12PasswordLink, pw]]);
    expect(await c.locate([item.enum(Tag.ObjectType, ObjectType.Certificate)])).toEqual([]);
  });
});

/**
 * A PFX with two unencrypted keyBags named by friendlyName, and certificates, written here
 * (RFC 7292 §4, §5.1: SHA-256 MAC keyed by the Appendix B KDF).
 */
function twoKeyPfx(keys: Array<[string, Buffer]>, certificates: Buffer[]): Buffer {
  const oid = (value: string) => new asn1js.ObjectIdentifier({ value });
  const explicit = (value: asn1js.AsnType) =>
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [value] });
  const keyBags = keys.map(
    ([name, der]) =>
      new asn1js.Sequence({
        value: [
          oid('1.2.840.113549.1.12.10.1.1'),
          explicit(asn1js.fromBER(der).result),
          new asn1js.Set({
            value: [
              new asn1js.Sequence({
                value: [
                  oid('1.2.840.113549.1.9.20'),
                  new asn1js.Set({ value: [new asn1js.BmpString({ value: name })] }),
                ],
              }),
            ],
          }),
        ],
      }),
  );
  const certBags = certificates.map(
    (der) =>
      new asn1js.Sequence({
        value: [
          oid('1.2.840.113549.1.12.10.1.3'),
          explicit(
            new asn1js.Sequence({
              value: [
                oid('1.2.840.113549.1.9.22.1'),
                explicit(new asn1js.OctetString({ valueHex: der })),
              ],
            }),
          ),
        ],
      }),
  );
  const data = (content: Buffer) =>
    new asn1js.Sequence({
      value: [oid('1.2.840.113549.1.7.1'), explicit(new asn1js.OctetString({ valueHex: content }))],
    });
  const safe = encodeDer(new asn1js.Sequence({ value: [...keyBags, ...certBags] }));
  const authSafe = encodeDer(new asn1js.Sequence({ value: [data(safe)] }));
  const salt = Buffer.alloc(8, 0x5a);
  const bmp = Buffer.from('password\u0000', 'utf16le').swap16();
  const macKey = pkcs12Kdf('sha256', 64, bmp, salt, 3, 1, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const macData = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({ value: [oid('2.16.840.1.101.3.4.2.1'), new asn1js.Null()] }),
          new asn1js.OctetString({ valueHex: mac }),
        ],
      }),
      new asn1js.OctetString({ valueHex: salt }),
      new asn1js.Integer({ value: 1 }),
    ],
  });
  return encodeDer(
    new asn1js.Sequence({ value: [new asn1js.Integer({ value: 3 }), data(authSafe), macData] }),
  );
}

describe('a container with several keys', () => {
  const pfx = twoKeyPfx(
    [
      ['one', KEY1],
      ['two', PKCS8],
    ],
    [EE, CERT],
  );

  it('registers the key its PKCS#12 Friendly Name names, with that key certificate only', async () => {
    const s = testServer();
    const c = calls(s);
    const pw = await c.password(PASSWORD);
    const res = await c.registerPkcs12('2.0', pfx, [
      passwordLink(pw),
      item.text(Tag.PKCS_12FriendlyName, 'two'),
    ]);
    expect(res.resultMessage).toBeUndefined();
    const attrs = await c.attributes(c.uid(res));
    expect(numberOf(find(attrs, Tag.CryptographicLength))).toBe(4096);
    const certificates = await c.locate([item.enum(Tag.ObjectType, ObjectType.Certificate)]);
    expect(certificates).toHaveLength(1);
    const subject = new X509Certificate(certificateValue(await c.get(certificates[0]!))!).subject;
    expect(subject).toBe('CN=localhost');
  });

  it('refuses without a PKCS#12 Friendly Name, or with one no key has: Invalid Field', async () => {
    const s = testServer();
    const c = calls(s);
    const pw = await c.password(PASSWORD);
    for (const names of [[], [item.text(Tag.PKCS_12FriendlyName, 'three')]]) {
      const res = await c.registerPkcs12('2.0', pfx, [passwordLink(pw), ...names]);
      expect(res.resultReason).toBe(ResultReason.InvalidField);
    }
    expect(await c.locate([item.enum(Tag.ObjectType, ObjectType.PrivateKey)])).toEqual([]);
  });
});
