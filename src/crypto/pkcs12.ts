// PKCS #12 v1.1 (RFC 7292) for the KMIP Key Format Type PKCS#12 (KMIP 1.4 §9.1.3.2.3; KMIP
// 2.1 §6.1.23 Get: "a PKCS#12 container as specified by [RFC7292]" protected with the
// password of the PKCS#12 Password Link).
//
// Written: one PFX in password integrity mode (§4, HMAC-SHA-256 keyed by the Appendix B KDF)
// whose AuthenticatedSafe holds one plain SafeContents: the private key as a
// pkcs8ShroudedKeyBag under PBES2 (RFC 8018 §6.2, PBKDF2-HMAC-SHA-256 and AES-256-CBC) and the
// certificates as certBags, the end-entity one first. Key and end-entity certificate carry the
// same localKeyId (PKCS #9), the SHA-1 of the certificate, as OpenSSL writes it.
//
// Read (tests and registered containers): the same, plus encryptedData SafeContents and the
// PKCS #12 PBE pbeWithSHAAnd3-KeyTripleDES-CBC (Appendix C) that OpenSSL 1.x and Java write.
// Writing and reading share one file because they share the KDF and the algorithm tables.

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hash as oneShotHash,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import { invalidField, KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import {
  type Asn1,
  algorithmIdentifier,
  decodeDer,
  encodeAlgorithmIdentifier,
  encodeDer,
  explicitTagged,
  guardDer,
  objectIdentifier,
  octetString,
  rawDer,
  sequence,
  smallInteger,
  unsignedInteger,
} from './der.js';

const Oid = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeWithSha1And3DesCbc: '1.2.840.113549.1.12.1.3',
} as const;

/** Digest OIDs (RFC 5754, RFC 3279) of MacData, with the node hash and its block size v. */
const MAC_DIGESTS: Readonly<Record<string, { hash: string; blockBytes: number }>> = {
  '1.3.14.3.2.26': { hash: 'sha1', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.4': { hash: 'sha224', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.1': { hash: 'sha256', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.2': { hash: 'sha384', blockBytes: 128 },
  '2.16.840.1.101.3.4.2.3': { hash: 'sha512', blockBytes: 128 },
};
const SHA256_OID = '2.16.840.1.101.3.4.2.1';

/** PBKDF2 PRFs (RFC 8018 Appendix B.1.1, B.1.2). */
const PBKDF2_PRFS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const HMAC_SHA256_OID = '1.2.840.113549.2.9';

/** PBES2 encryption schemes (RFC 8018 Appendix B.2; NIST AES OIDs, RFC 3565). */
const PBES2_CIPHERS: Readonly<Record<string, { cipher: string; keyBytes: number }>> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyBytes: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyBytes: 24 },
};
const AES256_CBC_OID = '2.16.840.1.101.3.4.1.42';

/**
 * Iterations written, for PBKDF2 and the MAC key alike: the MAC is a second way to test a
 * guessed password, so it gets the same work (OpenSSL writes 2048). About 15 ms a container.
 */
const ITERATIONS = 10_000;
const SALT_BYTES = 16;
/** Read containers may ask for more work than this no further: each iteration is client-chosen CPU. */
const MAX_ITERATIONS = 100_000;

export interface Pkcs12Key {
  /** PKCS #8 PrivateKeyInfo DER. */
  der: Buffer;
  /** The bag's PKCS #9 friendlyName (RFC 7292 §4.2), when it has one. */
  friendlyName?: string;
}

export interface Pkcs12Contents {
  /** PKCS #8 PrivateKeyInfo DER of the first key, when the container holds a key. */
  privateKey?: Buffer;
  /** Every private key, in container order. */
  keys: Pkcs12Key[];
  /** X.509 certificate DER, in container order. */
  certificates: Buffer[];
}

// ---------------------------------------------------------------------------------------------
// Password and key derivation

/** The password as RFC 7292 Appendix B.1 feeds it to the KDF: BMPString with a zero terminator. */
function bmpPassword(password: Uint8Array): Buffer {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(password);
  } catch {
    throw invalidField('the PKCS#12 password is not UTF-8 text');
  }
  const utf16 = Buffer.from(`${text}\u0000`, 'utf16le');
  return utf16.swap16();
}

/** RFC 7292 Appendix B.2: ID 1 derives keys, 2 IVs, 3 MAC keys. */
export function pkcs12Kdf(
  hash: string,
  blockBytes: number,
  bmp: Uint8Array,
  salt: Uint8Array,
  id: 1 | 2 | 3,
  iterations: number,
  length: number,
): Buffer {
  const v = blockBytes;
  const stretch = (bytes: Uint8Array) => {
    const out = Buffer.alloc(v * Math.ceil(bytes.length / v));
    for (let i = 0; i < out.length; i++) out[i] = bytes[i % bytes.length]!;
    return out;
  };
  const d = Buffer.alloc(v, id);
  const input = Buffer.concat([stretch(salt), stretch(bmp)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; ) {
    let a = createHash(hash).update(d).update(input).digest();
    // One-shot hashing: the loop runs for every iteration of every block, and hashObject()
    // creation dominated it (three times slower).
    for (let r = 1; r < iterations; r++) a = oneShotHash(hash, a, 'buffer');
    blocks.push(a);
    produced += a.length;
    const b = stretch(a);
    for (let j = 0; j < input.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = input[j + k]! + b[k]! + carry;
        input[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function macKey(digestOid: string, password: Uint8Array, salt: Uint8Array, iterations: number) {
  const digest = MAC_DIGESTS[digestOid];
  if (!digest) throw unsupported(`PKCS#12 MAC digest ${digestOid}`);
  const size = createHash(digest.hash).digest().length;
  const key = pkcs12Kdf(
    digest.hash,
    digest.blockBytes,
    bmpPassword(password),
    salt,
    3,
    iterations,
    size,
  );
  return { hash: digest.hash, key };
}

function unsupported(what: string): KmipError {
  return new KmipError(ResultReason.FeatureNotSupported, `${what} is not supported`);
}

// ---------------------------------------------------------------------------------------------
// Writing

const tagged = (tagNumber: number, value: Asn1[]) =>
  new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value });
const oid = (value: string) => new asn1js.ObjectIdentifier({ value });
const octets = (value: Uint8Array) => new asn1js.OctetString({ valueHex: value });
const int = (value: number) => new asn1js.Integer({ value });

function dataContentInfo(content: Uint8Array): asn1js.Sequence {
  return new asn1js.Sequence({ value: [oid(Oid.data), tagged(0, [octets(content)])] });
}

function safeBag(bagId: string, value: Asn1, localKeyId: Buffer | undefined): asn1js.Sequence {
  const fields: Asn1[] = [oid(bagId), tagged(0, [value])];
  if (localKeyId) {
    const attribute = new asn1js.Sequence({
      value: [oid(Oid.localKeyId), new asn1js.Set({ value: [octets(localKeyId)] })],
    });
    fields.push(new asn1js.Set({ value: [attribute] }));
  }
  return new asn1js.Sequence({ value: fields });
}

/** EncryptedPrivateKeyInfo (RFC 5958 §3) under PBES2 with PBKDF2-HMAC-SHA-256 and AES-256-CBC. */
function shroudKey(privateKey: Uint8Array, password: Uint8Array): asn1js.Sequence {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(privateKey), cipher.final()]);
  const kdf = encodeAlgorithmIdentifier(
    Oid.pbkdf2,
    new asn1js.Sequence({
      value: [
        octets(salt),
        int(ITERATIONS),
        int(32),
        encodeAlgorithmIdentifier(HMAC_SHA256_OID, new asn1js.Null()),
      ],
    }),
  );
  const scheme = encodeAlgorithmIdentifier(AES256_CBC_OID, octets(iv));
  return new asn1js.Sequence({
    value: [
      encodeAlgorithmIdentifier(Oid.pbes2, new asn1js.Sequence({ value: [kdf, scheme] })),
      octets(encrypted),
    ],
  });
}

/**
 * A PFX holding a private key (PKCS #8 DER) and its certificate chain (DER, end entity first),
 * protected by `password` (the bytes of the KMIP PKCS#12 password, UTF-8 text).
 */
export function buildPkcs12(
  contents: { privateKey: Uint8Array; certificates: readonly Uint8Array[] },
  password: Uint8Array,
): Buffer {
  const [endEntity] = contents.certificates;
  const localKeyId = endEntity ? createHash('sha1').update(endEntity).digest() : undefined;
  const bags: Asn1[] = [
    safeBag(Oid.pkcs8ShroudedKeyBag, shroudKey(contents.privateKey, password), localKeyId),
    ...contents.certificates.map((cert, i) =>
      safeBag(
        Oid.certBag,
        new asn1js.Sequence({ value: [oid(Oid.x509Certificate), tagged(0, [octets(cert)])] }),
        i === 0 ? localKeyId : undefined,
      ),
    ),
  ];
  const safeContents = encodeDer(new asn1js.Sequence({ value: bags }));
  const authenticatedSafe = encodeDer(
    new asn1js.Sequence({ value: [dataContentInfo(safeContents)] }),
  );
  const macSalt = randomBytes(SALT_BYTES);
  const { hash, key } = macKey(SHA256_OID, password, macSalt, ITERATIONS);
  const mac = createHmac(hash, key).update(authenticatedSafe).digest();
  const macData = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [encodeAlgorithmIdentifier(SHA256_OID, new asn1js.Null()), octets(mac)],
      }),
      octets(macSalt),
      int(ITERATIONS),
    ],
  });
  return encodeDer(
    new asn1js.Sequence({ value: [int(3), dataContentInfo(authenticatedSafe), macData] }),
  );
}

// ---------------------------------------------------------------------------------------------
// Reading

function iterationCount(node: Asn1 | undefined, what: string): number {
  const count = unsignedInteger(node, what);
  if (count < 1n || count > BigInt(MAX_ITERATIONS)) {
    throw invalidField(`${what} ${count} is outside 1..${MAX_ITERATIONS}`);
  }
  return Number(count);
}

/** The OCTET STRING content of a ContentInfo of type data. */
function dataContent(node: Asn1 | undefined, what: string): Buffer {
  const [type, content] = sequence(node, what);
  if (objectIdentifier(type, what) !== Oid.data) throw unsupported(`${what} other than data`);
  const inner = explicitTagged(content, 0);
  return octetString(inner?.[0], what);
}

function decrypt(
  algorithm: Asn1 | undefined,
  encrypted: Uint8Array,
  password: Uint8Array,
  what: string,
): Buffer {
  const { oid: scheme, parameters } = algorithmIdentifier(algorithm, what);
  let cipher: string;
  let key: Buffer;
  let iv: Buffer;
  if (scheme === Oid.pbeWithSha1And3DesCbc) {
    const [salt, count] = sequence(parameters, `${what} PBE parameters`);
    const s = octetString(salt, `${what} salt`);
    const n = iterationCount(count, `${what} iteration count`);
    const bmp = bmpPassword(password);
    cipher = 'des-ede3-cbc';
    key = pkcs12Kdf('sha1', 64, bmp, s, 1, n, 24);
    iv = pkcs12Kdf('sha1', 64, bmp, s, 2, n, 8);
  } else if (scheme === Oid.pbes2) {
    const [kdf, encryption] = sequence(parameters, `${what} PBES2 parameters`);
    const k = algorithmIdentifier(kdf, `${what} key derivation`);
    if (k.oid !== Oid.pbkdf2) throw unsupported(`${what} key derivation ${k.oid}`);
    const [salt, count, ...rest] = sequence(k.parameters, `${what} PBKDF2 parameters`);
    const prfField = rest.find((f) => f instanceof asn1js.Sequence);
    const prfOid = prfField
      ? algorithmIdentifier(prfField, `${what} PRF`).oid
      : '1.2.840.113549.2.7';
    const prf = PBKDF2_PRFS[prfOid];
    if (!prf) throw unsupported(`${what} PBKDF2 PRF ${prfOid}`);
    const e = algorithmIdentifier(encryption, `${what} encryption scheme`);
    const choice = PBES2_CIPHERS[e.oid];
    if (!choice) throw unsupported(`${what} cipher ${e.oid}`);
    cipher = choice.cipher;
    iv = octetString(e.parameters, `${what} IV`);
    const s = octetString(salt, `${what} salt`);
    key = pbkdf2Sync(
      password,
      s,
      iterationCount(count, `${what} iterations`),
      choice.keyBytes,
      prf,
    );
  } else {
    throw unsupported(`${what} encryption ${scheme}`);
  }
  try {
    const decipher = createDecipheriv(cipher, key, iv);
    return Buffer.concat([decipher.update(encrypted), decipher.final()]);
  } catch {
    throw new KmipError(ResultReason.CryptographicFailure, `${what} does not decrypt`);
  }
}

/** The PKCS #9 friendlyName among a SafeBag's attributes: one BMPString (RFC 2985 §5.5.1). */
function friendlyName(attributes: Asn1 | undefined): string | undefined {
  if (!(attributes instanceof asn1js.Set)) return undefined;
  for (const attribute of attributes.valueBlock.value) {
    const [id, values] = sequence(attribute, 'PKCS12Attribute');
    if (objectIdentifier(id, 'PKCS12Attribute type') !== Oid.friendlyName) continue;
    const name = values instanceof asn1js.Set ? values.valueBlock.value[0] : undefined;
    if (name instanceof asn1js.BmpString) return name.valueBlock.value;
  }
  return undefined;
}

function readSafeContents(der: Uint8Array, password: Uint8Array, out: Pkcs12Contents): void {
  for (const bag of sequence(decodeDer(der, 'SafeContents'), 'SafeContents')) {
    const [id, value, attributes] = sequence(bag, 'SafeBag');
    const bagValue = explicitTagged(value, 0)?.[0];
    let key: Buffer | undefined;
    switch (objectIdentifier(id, 'SafeBag type')) {
      case Oid.keyBag:
        if (!(bagValue instanceof asn1js.Sequence)) throw invalidField('keyBag: expected SEQUENCE');
        key = rawDer(bagValue);
        break;
      case Oid.pkcs8ShroudedKeyBag: {
        const [algorithm, encrypted] = sequence(bagValue, 'pkcs8ShroudedKeyBag');
        const plain = octetString(encrypted, 'pkcs8ShroudedKeyBag data');
        key = decrypt(algorithm, plain, password, 'pkcs8ShroudedKeyBag');
        decodeDer(key, 'PrivateKeyInfo');
        break;
      }
      case Oid.certBag: {
        const [type, cert] = sequence(bagValue, 'certBag');
        if (objectIdentifier(type, 'certBag type') !== Oid.x509Certificate) break;
        out.certificates.push(octetString(explicitTagged(cert, 0)?.[0], 'certBag value'));
        break;
      }
      default:
        break;
    }
    if (key === undefined) continue;
    const name = friendlyName(attributes);
    out.keys.push(name === undefined ? { der: key } : { der: key, friendlyName: name });
    out.privateKey ??= key;
  }
}

/** The SafeContents DER of one AuthenticatedSafe ContentInfo, decrypted when it is encryptedData. */
function safeContentsOf(info: Asn1, password: Uint8Array): Buffer {
  const [type, content] = sequence(info, 'ContentInfo');
  const contentType = objectIdentifier(type, 'ContentInfo type');
  if (contentType === Oid.data) return dataContent(info, 'ContentInfo');
  if (contentType !== Oid.encryptedData) throw unsupported(`PKCS#12 content type ${contentType}`);
  // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo } (RFC 5652 §8), whose
  // encryptedContent is [0] IMPLICIT OCTET STRING.
  const [, encryptedContentInfo] = sequence(explicitTagged(content, 0)?.[0], 'EncryptedData');
  const [, algorithm, encrypted] = sequence(encryptedContentInfo, 'EncryptedContentInfo');
  const id = encrypted?.idBlock;
  if (!(encrypted instanceof asn1js.Primitive) || id?.tagClass !== 3 || id.tagNumber !== 0) {
    throw invalidField('EncryptedContentInfo has no encrypted content');
  }
  const bytes = Buffer.from(encrypted.valueBlock.valueHexView);
  return decrypt(algorithm, bytes, password, 'EncryptedData');
}

/** Checks the MAC (RFC 7292 §5.1) and returns the key and certificates a PFX holds. */
export function readPkcs12(pfx: Uint8Array, password: Uint8Array): Pkcs12Contents {
  return guardDer('PKCS#12', () => {
    const [version, authSafe, macData] = sequence(decodeDer(pfx, 'PKCS#12'), 'PFX');
    if (smallInteger(version, 'PFX version') !== 3) throw invalidField('PFX version is not 3');
    const authenticatedSafe = dataContent(authSafe, 'PFX authSafe');
    if (macData === undefined) throw unsupported('PKCS#12 without a password MAC');
    const [digestInfo, salt, count] = sequence(macData, 'MacData');
    const [digestAlgorithm, digest] = sequence(digestInfo, 'MacData digest');
    const { hash, key } = macKey(
      algorithmIdentifier(digestAlgorithm, 'MacData digest').oid,
      password,
      octetString(salt, 'MacData salt'),
      count === undefined ? 1 : iterationCount(count, 'MacData iterations'),
    );
    const expected = createHmac(hash, key).update(authenticatedSafe).digest();
    const given = octetString(digest, 'MacData digest');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new KmipError(ResultReason.CryptographicFailure, 'the PKCS#12 MAC does not verify');
    }
    const out: Pkcs12Contents = { keys: [], certificates: [] };
    const infos = sequence(decodeDer(authenticatedSafe, 'AuthenticatedSafe'), 'AuthenticatedSafe');
    for (const info of infos) {
      readSafeContents(safeContentsOf(info, password), password, out);
    }
    return out;
  });
}
