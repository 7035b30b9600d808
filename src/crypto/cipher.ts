// Cryptographic Parameters (KMIP 2.1 §2.1.5) mapped to node:crypto for the cryptographic service
// operations (KMIP 2.1 §6.1.20 Encrypt, §6.1.18 Decrypt, §6.1.51 Sign, §6.1.52 Signature
// Verify, §6.1.31 MAC, §6.1.26 Hash). Only what node:crypto does natively is offered, plus
// what it lacks: RSAES-OAEP with an MGF1 hash that differs from the label hash (RFC 8017 §7.1,
// needed by the OAEP conformance cases) and signatures over pre-hashed data (RSASSA-PKCS1-v1_5
// here, ECDSA in ecdsa.ts).
// Errors never carry key material or data. The file is long because it is the one place where
// KMIP enumerations become node:crypto choices (keys, ciphers, RSA encryption, signatures);
// the operations hold no algorithm tables of their own.

import {
  type Cipher,
  type CipherGCM,
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  createSign,
  createVerify,
  sign as cryptoSign,
  verify as cryptoVerify,
  type Decipher,
  type DecipherGCM,
  getHashes,
  type KeyObject,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { KmipError } from '../errors.js';
import type { CryptographicParameters } from '../kmip/cryptographic-parameters.js';
import { bytesOf, childOf, numberOf } from '../kmip/items.js';
import { convertKeyFormat } from '../objects/key-format.js';
import { ItemType, type StructureItem } from '../ttlv/item.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  DigitalSignatureAlgorithm,
  HashingAlgorithm,
  KeyFormatType,
  MaskGenerator,
  PaddingMethod,
  ResultReason,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import { ecdsaSignDigest, ecdsaVerifyDigest } from './ecdsa.js';
import { inspectKeyDer } from './key-formats.js';

const notSupported = (what: string) => new KmipError(ResultReason.FeatureNotSupported, what);
const invalid = (what: string) => new KmipError(ResultReason.InvalidField, what);
const cryptoFailure = () =>
  new KmipError(ResultReason.CryptographicFailure, 'the cryptographic operation failed');
const nameOf = (tag: number, v: number) => enumName(tag, v) ?? `0x${v.toString(16)}`;

// ---------------------------------------------------------------------------------------------
// Keys

/** The Key Material of a symmetric key (Raw or Transparent Symmetric Key). */
export function symmetricKeyBytes(object: StructureItem): Buffer {
  const raw = keyBlockOf(convertKeyFormat(object, KeyFormatType.Raw));
  const bytes = bytesOf(childOf(childOf(raw, Tag.KeyValue), Tag.KeyMaterial));
  if (bytes === undefined) throw invalid('the key has no usable key material');
  return Buffer.from(bytes);
}

/** A node KeyObject for a Private Key or Public Key object in any convertible format. */
export function asymmetricKey(object: StructureItem): KeyObject {
  const isPrivate = object.tag === Tag.PrivateKey;
  if (!isPrivate && object.tag !== Tag.PublicKey)
    throw invalid('the object is not a key pair half');
  const block = keyBlockOf(object);
  const format = numberOf(childOf(block, Tag.KeyFormatType));
  const derFormats: number[] = isPrivate
    ? [KeyFormatType.PKCS_1, KeyFormatType.PKCS_8, KeyFormatType.ECPrivateKey]
    : [KeyFormatType.PKCS_1, KeyFormatType.X_509];
  const source =
    format !== undefined && derFormats.includes(format)
      ? block
      : keyBlockOf(
          convertKeyFormat(object, isPrivate ? KeyFormatType.PKCS_8 : KeyFormatType.X_509),
        );
  const der = bytesOf(childOf(childOf(source, Tag.KeyValue), Tag.KeyMaterial));
  if (der === undefined) throw invalid('the key has no usable key material');
  const info = inspectKeyDer(der);
  const type = info.format.toLowerCase() as 'pkcs1' | 'pkcs8' | 'spki' | 'sec1';
  const key = Buffer.from(der);
  return info.keyClass === 'private'
    ? createPrivateKey({ key, format: 'der', type: type as 'pkcs1' | 'pkcs8' | 'sec1' })
    : createPublicKey({ key, format: 'der', type: type as 'pkcs1' | 'spki' });
}

function keyBlockOf(object: StructureItem): StructureItem {
  const block = childOf(object, Tag.KeyBlock);
  if (block === undefined || block.type !== ItemType.Structure)
    throw invalid('the object has no Key Block');
  if (childOf(block, Tag.KeyWrappingData) !== undefined) {
    throw notSupported('keys stored wrapped cannot be used by the server');
  }
  return block;
}

// ---------------------------------------------------------------------------------------------
// Hashes

const HASHES: ReadonlyMap<number, string> = new Map([
  [HashingAlgorithm.MD5, 'md5'],
  [HashingAlgorithm.SHA_1, 'sha1'],
  [HashingAlgorithm.SHA_224, 'sha224'],
  [HashingAlgorithm.SHA_256, 'sha256'],
  [HashingAlgorithm.SHA_384, 'sha384'],
  [HashingAlgorithm.SHA_512, 'sha512'],
  [HashingAlgorithm.SHA_512_224, 'sha512-224'],
  [HashingAlgorithm.SHA_512_256, 'sha512-256'],
  [HashingAlgorithm.RIPEMD_160, 'ripemd160'],
  [HashingAlgorithm.SHA3_224, 'sha3-224'],
  [HashingAlgorithm.SHA3_256, 'sha3-256'],
  [HashingAlgorithm.SHA3_384, 'sha3-384'],
  [HashingAlgorithm.SHA3_512, 'sha3-512'],
]);
const AVAILABLE_HASHES = new Set(getHashes());

/** The node:crypto name of a Hashing Algorithm. */
export function hashName(algorithm: number): string {
  const name = HASHES.get(algorithm);
  if (name === undefined || !AVAILABLE_HASHES.has(name)) {
    throw notSupported(`Hashing Algorithm ${nameOf(Tag.HashingAlgorithm, algorithm)}`);
  }
  return name;
}

const HMACS: ReadonlyMap<number, number> = new Map([
  [CryptographicAlgorithm.HMAC_SHA1, HashingAlgorithm.SHA_1],
  [CryptographicAlgorithm.HMAC_SHA224, HashingAlgorithm.SHA_224],
  [CryptographicAlgorithm.HMAC_SHA256, HashingAlgorithm.SHA_256],
  [CryptographicAlgorithm.HMAC_SHA384, HashingAlgorithm.SHA_384],
  [CryptographicAlgorithm.HMAC_SHA512, HashingAlgorithm.SHA_512],
  [CryptographicAlgorithm.HMAC_MD5, HashingAlgorithm.MD5],
]);

/** The hash of an HMAC Cryptographic Algorithm (KMIP 2.1 §6.1.31 MAC). */
export function hmacHashName(algorithm: number): string {
  const hash = HMACS.get(algorithm);
  if (hash === undefined) {
    throw notSupported(`MAC with ${nameOf(Tag.CryptographicAlgorithm, algorithm)}`);
  }
  return hashName(hash);
}

/** Constant-time comparison; different lengths compare unequal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// Symmetric ciphers

export interface CipherSession {
  /** The IV/Counter/Nonce the server generated; absent when the client supplied one. */
  readonly generatedIv?: Buffer;
  update(data: Uint8Array): Buffer;
  /** The remaining output and, when encrypting with an AEAD mode, the tag. */
  final(tag?: Uint8Array): { data: Buffer; tag?: Buffer };
}

interface CipherChoice {
  name: string;
  block: number;
  /** IV bytes to generate; 0 when the mode takes none. */
  ivLength: number;
  aead: boolean;
  padded: boolean;
  checkIv(iv: Uint8Array): Buffer;
}

/** GCM tag sizes of NIST SP 800-38D §5.2.1.2, also accepted for ChaCha20-Poly1305. */
const TAG_LENGTHS: ReadonlySet<number> = new Set([4, 8, 12, 13, 14, 15, 16]);

function exactIv(length: number) {
  return (iv: Uint8Array) => {
    if (iv.length !== length) throw invalid(`IV/Counter/Nonce must be ${length} bytes`);
    return Buffer.from(iv);
  };
}

function chooseCipher(algorithm: number, key: Buffer, p: CryptographicParameters): CipherChoice {
  const mode = p.blockCipherMode;
  const padding = p.paddingMethod ?? PaddingMethod.None;
  switch (algorithm) {
    case CryptographicAlgorithm.AES:
    case CryptographicAlgorithm.DES3: {
      const aes = algorithm === CryptographicAlgorithm.AES;
      if (aes && ![16, 24, 32].includes(key.length))
        throw invalid('AES keys are 16, 24 or 32 bytes');
      if (!aes && ![16, 24].includes(key.length)) throw invalid('3DES keys are 16 or 24 bytes');
      if (mode === undefined) throw invalid('Block Cipher Mode is required');
      const base = aes ? `aes-${key.length * 8}` : key.length === 24 ? 'des-ede3' : 'des-ede';
      const block = aes ? 16 : 8;
      const modeName = blockModeName(mode, aes);
      const padded = mode === BlockCipherMode.ECB || mode === BlockCipherMode.CBC;
      if (padded && padding !== PaddingMethod.None && padding !== PaddingMethod.PKCS5) {
        throw notSupported(`Padding Method ${nameOf(Tag.PaddingMethod, padding)}`);
      }
      const name = modeName === 'ecb' && !aes ? base : `${base}-${modeName}`;
      if (mode === BlockCipherMode.ECB) {
        return { name, block, ivLength: 0, aead: false, padded, checkIv: () => Buffer.alloc(0) };
      }
      if (mode === BlockCipherMode.GCM) {
        const ivLength = p.ivLength !== undefined ? p.ivLength / 8 : 12;
        return {
          name,
          block,
          ivLength: Number.isInteger(ivLength) && ivLength > 0 ? ivLength : 12,
          aead: true,
          padded: false,
          checkIv: (iv) => {
            if (iv.length < 1 || iv.length > 128) throw invalid('GCM IV must be 1 to 128 bytes');
            return Buffer.from(iv);
          },
        };
      }
      return { name, block, ivLength: block, aead: false, padded, checkIv: exactIv(block) };
    }
    case CryptographicAlgorithm.ChaCha20: {
      if (key.length !== 32) throw invalid('ChaCha20 keys are 32 bytes');
      const counter = p.initialCounterValue ?? 0;
      return {
        name: 'chacha20',
        block: 1,
        ivLength: 12,
        aead: false,
        padded: false,
        checkIv: (iv) => chachaIv(iv, counter),
      };
    }
    case CryptographicAlgorithm.ChaCha20Poly1305:
      if (key.length !== 32) throw invalid('ChaCha20-Poly1305 keys are 32 bytes');
      if (mode !== undefined && mode !== BlockCipherMode.AEAD) {
        throw invalid('ChaCha20-Poly1305 takes Block Cipher Mode AEAD');
      }
      return {
        name: 'chacha20-poly1305',
        block: 1,
        ivLength: 12,
        aead: true,
        padded: false,
        checkIv: exactIv(12),
      };
    default:
      throw notSupported(
        `symmetric encryption with ${nameOf(Tag.CryptographicAlgorithm, algorithm)}`,
      );
  }
}

function blockModeName(mode: number, aes: boolean): string {
  const names: Record<number, string> = {
    [BlockCipherMode.ECB]: 'ecb',
    [BlockCipherMode.CBC]: 'cbc',
    [BlockCipherMode.CFB]: 'cfb',
    [BlockCipherMode.OFB]: 'ofb',
  };
  if (aes) {
    names[BlockCipherMode.CTR] = 'ctr';
    names[BlockCipherMode.GCM] = 'gcm';
  }
  const name = names[mode];
  if (name === undefined)
    throw notSupported(`Block Cipher Mode ${nameOf(Tag.BlockCipherMode, mode)}`);
  return name;
}

/**
 * node:crypto's ChaCha20 IV is the last four state words: a 32-bit block counter and a 96-bit
 * nonce (RFC 8439 §2.3). The original 64-bit nonce variant has a 64-bit counter in the same
 * place, so both fit; a 16-byte value is taken as the whole counter-and-nonce block.
 */
function chachaIv(iv: Uint8Array, counter: number): Buffer {
  if (iv.length === 16) return Buffer.from(iv);
  if (iv.length !== 8 && iv.length !== 12) throw invalid('ChaCha20 nonces are 8, 12 or 16 bytes');
  const out = Buffer.alloc(16);
  out.writeUInt32LE(counter >>> 0, 0);
  out.set(iv, 16 - iv.length);
  return out;
}

export interface SymmetricInput {
  iv?: Uint8Array;
  aad?: Uint8Array;
}

/**
 * A cipher for one Encrypt or Decrypt call or stream. Missing IVs are generated when
 * encrypting; a missing IV on Decrypt is Invalid Message (CS-BC-M-11..13). A tag length outside
 * the allowed set is General Failure, as the GCM and ChaCha20-Poly1305 cases expect.
 */
export function symmetricSession(
  direction: 'encrypt' | 'decrypt',
  algorithm: number,
  key: Buffer,
  p: CryptographicParameters,
  input: SymmetricInput,
): CipherSession {
  const choice = chooseCipher(algorithm, key, p);
  let iv: Buffer = Buffer.alloc(0);
  let generatedIv: Buffer | undefined;
  if (choice.ivLength > 0) {
    if (input.iv !== undefined) iv = choice.checkIv(input.iv);
    else if (direction === 'decrypt') {
      throw new KmipError(ResultReason.InvalidMessage, 'IV/Counter/Nonce is required');
    } else {
      generatedIv = randomBytes(choice.ivLength);
      iv = choice.checkIv(generatedIv);
    }
  }
  const tagLength = p.tagLength ?? 16;
  if (choice.aead && !TAG_LENGTHS.has(tagLength)) {
    throw new KmipError(ResultReason.GeneralFailure, `Tag Length ${tagLength} is not allowed`);
  }
  const options = choice.aead ? { authTagLength: tagLength } : {};
  let c: Cipher | Decipher;
  try {
    c =
      direction === 'encrypt'
        ? createCipheriv(choice.name, key, choice.ivLength > 0 ? iv : null, options as never)
        : createDecipheriv(choice.name, key, choice.ivLength > 0 ? iv : null, options as never);
  } catch {
    throw invalid('the key, IV or parameters are not valid for this cipher');
  }
  c.setAutoPadding(choice.padded && p.paddingMethod === PaddingMethod.PKCS5);
  if (choice.aead && input.aad !== undefined) (c as CipherGCM).setAAD(Buffer.from(input.aad));
  else if (!choice.aead && input.aad !== undefined) {
    throw invalid('Authenticated Encryption Additional Data needs an AEAD mode');
  }
  let total = 0;
  const cipher = c;
  return {
    ...(generatedIv === undefined ? {} : { generatedIv }),
    update(data) {
      total += data.length;
      return cipher.update(data);
    },
    final(tag) {
      if (direction === 'decrypt' && choice.aead) {
        if (tag === undefined) {
          throw new KmipError(
            ResultReason.InvalidMessage,
            'Authenticated Encryption Tag is required',
          );
        }
        if (tag.length !== tagLength) throw invalid(`the tag must be ${tagLength} bytes`);
        (cipher as DecipherGCM).setAuthTag(Buffer.from(tag));
      }
      let data: Buffer;
      try {
        data = cipher.final();
      } catch {
        if (choice.block > 1 && total % choice.block !== 0 && choice.padded) {
          throw invalid(`the data length is not a multiple of ${choice.block} bytes`);
        }
        throw cryptoFailure();
      }
      if (direction === 'encrypt' && choice.aead) {
        return { data, tag: (cipher as CipherGCM).getAuthTag() };
      }
      return { data };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// RSA encryption (RFC 8017 §7)

function oaepHashes(p: CryptographicParameters) {
  if (p.maskGenerator !== undefined && p.maskGenerator !== MaskGenerator.MGF1) {
    throw notSupported('only the MGF1 mask generator is supported');
  }
  // KMIP 2.1 §2.1.5: both hashes default to SHA-1, as in PKCS #1.
  return {
    hash: hashName(p.hashingAlgorithm ?? HashingAlgorithm.SHA_1),
    mgf: hashName(p.maskGeneratorHashingAlgorithm ?? HashingAlgorithm.SHA_1),
    label: Buffer.from(p.pSource ?? new Uint8Array(0)),
  };
}

function rsaPadding(p: CryptographicParameters): number {
  return p.paddingMethod ?? PaddingMethod.PKCS1V1_5;
}

export function rsaEncrypt(key: KeyObject, p: CryptographicParameters, data: Uint8Array): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'rsa') throw notSupported('encryption with this key type');
  const padding = rsaPadding(p);
  const k = (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  if (padding === PaddingMethod.PKCS1V1_5) {
    if (data.length > k - 11) throw invalid('the data is too long for this key');
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, data);
  }
  if (padding !== PaddingMethod.OAEP)
    throw notSupported(`RSA padding ${nameOf(Tag.PaddingMethod, padding)}`);
  const h = oaepHashes(p);
  const hLen = createHash(h.hash).digest().length;
  if (data.length > k - 2 * hLen - 2) throw invalid('the data is too long for this key');
  if (h.hash === h.mgf) {
    return publicEncrypt(
      {
        key: publicKey,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: h.hash,
        oaepLabel: h.label,
      },
      data,
    );
  }
  const em = oaepEncode(Buffer.from(data), k, h.hash, h.mgf, h.label);
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em);
}

/**
 * RSA decryption with OAEP only. PKCS #1 v1.5 decryption is refused: answering its padding
 * errors is a Bleichenbacher oracle, and node:crypto disables it for that reason (CVE-2023-46809).
 */
export function rsaDecrypt(key: KeyObject, p: CryptographicParameters, data: Uint8Array): Buffer {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') {
    throw invalid('decryption needs an RSA private key');
  }
  const padding = rsaPadding(p);
  if (padding !== PaddingMethod.OAEP) {
    throw notSupported(`RSA decryption with ${nameOf(Tag.PaddingMethod, padding)} padding`);
  }
  const k = (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  if (data.length !== k) throw invalid(`RSA ciphertext must be ${k} bytes`);
  const h = oaepHashes(p);
  try {
    if (h.hash === h.mgf) {
      return privateDecrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: h.hash, oaepLabel: h.label },
        data,
      );
    }
    const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, data);
    return oaepDecode(em, h.hash, h.mgf, h.label);
  } catch (err) {
    if (err instanceof KmipError) throw err;
    throw cryptoFailure();
  }
}

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const out: Buffer[] = [];
  let got = 0;
  for (let counter = 0; got < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    got += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** EME-OAEP encoding (RFC 8017 §7.1.1 step 2). */
function oaepEncode(m: Buffer, k: number, hash: string, mgf: string, label: Buffer): Buffer {
  const lHash = createHash(hash).update(label).digest();
  const hLen = lHash.length;
  const db = Buffer.concat([lHash, Buffer.alloc(k - m.length - 2 * hLen - 2), Buffer.of(1), m]);
  const seed = randomBytes(hLen);
  const maskedDb = xor(db, mgf1(seed, k - hLen - 1, mgf));
  const maskedSeed = xor(seed, mgf1(maskedDb, hLen, mgf));
  return Buffer.concat([Buffer.of(0), maskedSeed, maskedDb]);
}

/**
 * EME-OAEP decoding (RFC 8017 §7.1.2 step 3). Every check is folded into one flag before the
 * single failure, so the error does not say which check failed.
 */
function oaepDecode(em: Buffer, hash: string, mgf: string, label: Buffer): Buffer {
  const lHash = createHash(hash).update(label).digest();
  const hLen = lHash.length;
  const k = em.length;
  if (k < 2 * hLen + 2) throw cryptoFailure();
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = xor(maskedSeed, mgf1(maskedDb, hLen, mgf));
  const db = xor(maskedDb, mgf1(seed, k - hLen - 1, mgf));
  let bad = em[0]! | (timingSafeEqual(db.subarray(0, hLen), lHash) ? 0 : 1);
  let index = 0;
  let seenOne = 0;
  for (let i = hLen; i < db.length; i++) {
    const byte = db[i]!;
    const isOne = byte === 1 ? 1 : 0;
    const isZero = byte === 0 ? 1 : 0;
    const first = isOne & (seenOne ^ 1);
    index = first ? i : index;
    seenOne |= isOne;
    bad |= (seenOne ^ 1) & (isZero ^ 1) & (isOne ^ 1);
  }
  bad |= seenOne ^ 1;
  if (bad !== 0) throw cryptoFailure();
  return Buffer.from(db.subarray(index + 1));
}

// ---------------------------------------------------------------------------------------------
// Signatures

export interface SignatureScheme {
  /** node:crypto hash name; null for schemes that hash internally (Ed25519, Ed448). */
  hash: string | null;
  keyOptions: { padding?: number; saltLength?: number; dsaEncoding?: 'der' };
}

const DSA_HASH: ReadonlyMap<number, [keyType: string, hash: number, pss?: boolean]> = new Map([
  [DigitalSignatureAlgorithm.MD5WithRSAEncryption, ['rsa', HashingAlgorithm.MD5]],
  [DigitalSignatureAlgorithm.SHA_1WithRSAEncryption, ['rsa', HashingAlgorithm.SHA_1]],
  [DigitalSignatureAlgorithm.SHA_224WithRSAEncryption, ['rsa', HashingAlgorithm.SHA_224]],
  [DigitalSignatureAlgorithm.SHA_256WithRSAEncryption, ['rsa', HashingAlgorithm.SHA_256]],
  [DigitalSignatureAlgorithm.SHA_384WithRSAEncryption, ['rsa', HashingAlgorithm.SHA_384]],
  [DigitalSignatureAlgorithm.SHA_512WithRSAEncryption, ['rsa', HashingAlgorithm.SHA_512]],
  [DigitalSignatureAlgorithm.SHA3_256WithRSAEncryption, ['rsa', HashingAlgorithm.SHA3_256]],
  [DigitalSignatureAlgorithm.SHA3_384WithRSAEncryption, ['rsa', HashingAlgorithm.SHA3_384]],
  [DigitalSignatureAlgorithm.SHA3_512WithRSAEncryption, ['rsa', HashingAlgorithm.SHA3_512]],
  [DigitalSignatureAlgorithm.RSASSA_PSS, ['rsa', HashingAlgorithm.SHA_256, true]],
  [DigitalSignatureAlgorithm.DSAWithSHA_1, ['dsa', HashingAlgorithm.SHA_1]],
  [DigitalSignatureAlgorithm.DSAWithSHA224, ['dsa', HashingAlgorithm.SHA_224]],
  [DigitalSignatureAlgorithm.DSAWithSHA256, ['dsa', HashingAlgorithm.SHA_256]],
  [DigitalSignatureAlgorithm.ECDSAWithSHA_1, ['ec', HashingAlgorithm.SHA_1]],
  [DigitalSignatureAlgorithm.ECDSAWithSHA224, ['ec', HashingAlgorithm.SHA_224]],
  [DigitalSignatureAlgorithm.ECDSAWithSHA256, ['ec', HashingAlgorithm.SHA_256]],
  [DigitalSignatureAlgorithm.ECDSAWithSHA384, ['ec', HashingAlgorithm.SHA_384]],
  [DigitalSignatureAlgorithm.ECDSAWithSHA512, ['ec', HashingAlgorithm.SHA_512]],
]);

/**
 * The signature scheme for a key: from the Digital Signature Algorithm when given, else from
 * Padding Method (RSA: PSS or PKCS #1 v1.5, the default) and Hashing Algorithm (default SHA-256).
 * A PSS signature is made with the Salt Length given, else the digest length; it is verified
 * with the Salt Length given, else whatever salt length the signature carries.
 */
export function signatureScheme(
  key: KeyObject,
  p: CryptographicParameters,
  purpose: 'sign' | 'verify',
): SignatureScheme {
  const keyType = key.asymmetricKeyType ?? '';
  if (keyType === 'ed25519' || keyType === 'ed448') return { hash: null, keyOptions: {} };
  let hash = p.hashingAlgorithm ?? HashingAlgorithm.SHA_256;
  let pss = p.paddingMethod === PaddingMethod.PSS || keyType === 'rsa-pss';
  if (p.digitalSignatureAlgorithm !== undefined) {
    const d = DSA_HASH.get(p.digitalSignatureAlgorithm);
    if (d === undefined) {
      throw notSupported(
        `Digital Signature Algorithm ${nameOf(Tag.DigitalSignatureAlgorithm, p.digitalSignatureAlgorithm)}`,
      );
    }
    if (d[0] !== keyType && !(d[0] === 'rsa' && keyType === 'rsa-pss')) {
      throw invalid('the Digital Signature Algorithm does not match the key');
    }
    pss = d[2] === true || keyType === 'rsa-pss';
    hash = d[2] === true ? (p.hashingAlgorithm ?? d[1]) : d[1];
  }
  const keyOptions: SignatureScheme['keyOptions'] = {};
  if (keyType === 'rsa' || keyType === 'rsa-pss') {
    const padding = p.paddingMethod;
    if (!pss && padding !== undefined && padding !== PaddingMethod.PKCS1V1_5) {
      throw notSupported(`RSA signatures with ${nameOf(Tag.PaddingMethod, padding)} padding`);
    }
    keyOptions.padding = pss ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
    if (pss) {
      keyOptions.saltLength =
        p.saltLength ??
        (purpose === 'sign' ? constants.RSA_PSS_SALTLEN_DIGEST : constants.RSA_PSS_SALTLEN_AUTO);
    }
  } else if (keyType === 'ec' || keyType === 'dsa') {
    keyOptions.dsaEncoding = 'der';
  } else {
    throw notSupported(`signatures with ${keyType || 'this'} keys`);
  }
  return { hash: hashName(hash), keyOptions };
}

export interface SignatureSession {
  update(data: Uint8Array): void;
  sign(key: KeyObject): Buffer;
  verify(key: KeyObject, signature: Uint8Array): boolean;
}

/**
 * Signing or verification over Data, fed in pieces when streamed with Init and Final
 * Indicators. EdDSA hashes internally and is not incremental, so its Data is collected.
 */
export function signatureSession(
  scheme: SignatureScheme,
  purpose: 'sign' | 'verify',
): SignatureSession {
  const chunks: Buffer[] = [];
  const hasher =
    scheme.hash === null
      ? undefined
      : purpose === 'sign'
        ? createSign(scheme.hash)
        : createVerify(scheme.hash);
  const opts = (key: KeyObject) => ({ key, ...scheme.keyOptions });
  return {
    update(data) {
      if (hasher === undefined) chunks.push(Buffer.from(data));
      else hasher.update(data);
    },
    sign(key) {
      try {
        if (hasher === undefined) return cryptoSign(null, Buffer.concat(chunks), key);
        return (hasher as ReturnType<typeof createSign>).sign(opts(key));
      } catch {
        throw cryptoFailure();
      }
    },
    verify(key, signature) {
      try {
        if (hasher === undefined) return cryptoVerify(null, Buffer.concat(chunks), key, signature);
        return (hasher as ReturnType<typeof createVerify>).verify(opts(key), signature);
      } catch {
        return false;
      }
    },
  };
}

// DigestInfo prefixes (RFC 8017 §9.2 note 1).
const DIGEST_INFO: Readonly<Record<string, string>> = {
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/**
 * RSASSA-PKCS1-v1_5 over Digested Data (KMIP 2.1 §6.1.51). With a Hashing Algorithm the digest
 * is wrapped in its DigestInfo; without one the bytes are signed as given.
 */
function digestBlock(p: CryptographicParameters, digest: Uint8Array): Buffer {
  if (p.hashingAlgorithm === undefined) return Buffer.from(digest);
  const name = hashName(p.hashingAlgorithm);
  const prefix = DIGEST_INFO[name];
  if (prefix === undefined) throw notSupported('Digested Data with this Hashing Algorithm');
  if (digest.length !== createHash(name).digest().length) {
    throw invalid('Digested Data does not have the length of the hash');
  }
  return Buffer.concat([Buffer.from(prefix, 'hex'), digest]);
}

/**
 * The hash behind Digested Data for ECDSA (KMIP 2.1 §6.1.51): from the Digital Signature
 * Algorithm or the Hashing Algorithm when given, and then the digest must have its length;
 * otherwise SHA-256, used only for the RFC 6979 nonce, and the digest may have any length.
 */
function ecdsaDigestHash(p: CryptographicParameters, digest: Uint8Array): string {
  let algorithm = p.hashingAlgorithm;
  if (p.digitalSignatureAlgorithm !== undefined) {
    const d = DSA_HASH.get(p.digitalSignatureAlgorithm);
    if (d?.[0] !== 'ec') throw invalid('the Digital Signature Algorithm does not match the key');
    algorithm = d[1];
  }
  if (algorithm === undefined) return 'sha256';
  const name = hashName(algorithm);
  if (digest.length !== createHash(name).digest().length) {
    throw invalid('Digested Data does not have the length of the hash');
  }
  return name;
}

type DigestScheme = 'rsa-pkcs1' | 'ecdsa';

function digestScheme(key: KeyObject, p: CryptographicParameters): DigestScheme {
  const pkcs1 = p.paddingMethod === undefined || p.paddingMethod === PaddingMethod.PKCS1V1_5;
  if (key.asymmetricKeyType === 'rsa' && pkcs1 && p.digitalSignatureAlgorithm === undefined) {
    return 'rsa-pkcs1';
  }
  if (key.asymmetricKeyType === 'ec') return 'ecdsa';
  throw notSupported('Digested Data is supported for RSA PKCS #1 v1.5 and ECDSA signatures only');
}

export function signDigest(key: KeyObject, p: CryptographicParameters, digest: Uint8Array): Buffer {
  if (digestScheme(key, p) === 'ecdsa') {
    return ecdsaSignDigest(key, digest, ecdsaDigestHash(p, digest));
  }
  const block = digestBlock(p, digest);
  const k = (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  if (block.length > k - 11) throw invalid('Digested Data is too long for this key');
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, block);
}

export function verifyDigest(
  key: KeyObject,
  p: CryptographicParameters,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (digestScheme(key, p) === 'ecdsa') {
    ecdsaDigestHash(p, digest);
    return ecdsaVerifyDigest(key, digest, signature);
  }
  const block = digestBlock(p, digest);
  try {
    return sameBytes(
      publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature),
      block,
    );
  } catch {
    return false;
  }
}
