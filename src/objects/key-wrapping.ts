// KMIP 2.1 §2.1.5 Key Wrapping Data and §2.1.6 Key Wrapping Specification (KMIP 1.4 §2.1.5,
// §2.1.6): a Key Block whose Key Value is protected by another managed key. Get wraps on
// request; Register unwraps a wrapped Key Block when the wrapping key is managed here.
//
// Wrapping with Encrypt: AES key wrap (RFC 3394, Block Cipher Mode NIST Key Wrap, the default
// for AES), AES key wrap with padding (RFC 5649, AES Key Wrap Padding), AES-GCM (the IV goes in
// IV/Counter/Nonce, the tag is appended to the wrapped bytes) and RSA-OAEP (a Public Key wraps,
// its linked Private Key unwraps). MAC/sign, Encrypt-then-MAC/sign and MAC/sign-then-Encrypt
// use HMAC keys for the MAC. The Encoding Option defaults to TTLV Encoding (§2.1.5: "If the
// Encoding Option is not present, the wrapped Key Value structure SHALL be TTLV encoded");
// No Encoding wraps the Key Material bytes alone and cannot carry attributes.
//
// A Key Block that was registered wrapped and unwrapped here is stored in clear, followed by
// the Key Block as registered, so that Get with Key Wrap Type As Registered returns exactly
// what the client sent (TC-WRAP-1). Nothing here puts key bytes in a message or a log line.

import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
} from 'node:crypto';
import {
  asymmetricKey,
  hmacHashName,
  rsaDecrypt,
  rsaEncrypt,
  sameBytes,
  symmetricKeyBytes,
} from '../crypto/cipher.js';
import { KmipError } from '../errors.js';
import { nameFromSpecName } from '../kmip/attribute-names.js';
import { toAttributes1x, toAttributes2x } from '../kmip/attributes.js';
import {
  type CryptographicParameters,
  cryptographicParametersField,
} from '../kmip/cryptographic-parameters.js';
import { bytesOf, childOf, item, numberOf, textOf } from '../kmip/items.js';
import { bytes, enumeration, many, opt, struct, type TypeOf, text } from '../kmip/schema.js';
import type { OperationContext } from '../operations/context.js';
import { type UsableKey, usableKey } from '../operations/crypto-usage.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  EncodingOption,
  LinkType,
  PaddingMethod,
  ResultReason,
  Tag,
  WrappingMethod,
} from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { attrs, type ManagedObject } from './managed-object.js';

const KeyInformation = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  cryptographicParameters: cryptographicParametersField(),
});
type KeyInformation = TypeOf<typeof KeyInformation>;

/** KMIP 2.1 §2.1.6 Key Wrapping Specification. */
export const KeyWrappingSpecificationSchema = struct({
  wrappingMethod: enumeration(Tag.WrappingMethod),
  encryptionKeyInformation: opt(KeyInformation.at(Tag.EncryptionKeyInformation)),
  macSignatureKeyInformation: opt(KeyInformation.at(Tag.MACSignatureKeyInformation)),
  attributeNames: many(text(Tag.AttributeName)),
  encodingOption: opt(enumeration(Tag.EncodingOption)),
});

/** KMIP 2.1 §2.1.5 Key Wrapping Data. */
const KeyWrappingDataSchema = struct({
  wrappingMethod: enumeration(Tag.WrappingMethod),
  encryptionKeyInformation: opt(KeyInformation.at(Tag.EncryptionKeyInformation)),
  macSignatureKeyInformation: opt(KeyInformation.at(Tag.MACSignatureKeyInformation)),
  macSignature: opt(bytes(Tag.MACSignature)),
  ivCounterNonce: opt(bytes(Tag.IVCounterNonce)),
  encodingOption: opt(enumeration(Tag.EncodingOption)),
});
type KeyWrappingData = TypeOf<typeof KeyWrappingDataSchema>;

const notSupported = (what: string) => new KmipError(ResultReason.FeatureNotSupported, what);
const invalid = (what: string) => new KmipError(ResultReason.InvalidField, what);
const encodingError = (what: string) => new KmipError(ResultReason.EncodingOptionError, what);
const unwrapFailure = () =>
  new KmipError(ResultReason.CryptographicFailure, 'the wrapped key could not be unwrapped');

/** GCM wrapping: a 96-bit IV and a 128-bit tag unless the Cryptographic Parameters say more. */
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
/** RFC 3394 §2.2.3.1 default initial value; RFC 5649 §3 alternative initial value. */
const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const KWP_IV = Buffer.from('a65959a6', 'hex');

// ---------------------------------------------------------------------------------------------
// Stored forms

function keyBlocks(object: StructureItem): StructureItem[] {
  return object.value.filter(
    (c): c is StructureItem => c.tag === Tag.KeyBlock && c.type === ItemType.Structure,
  );
}

/**
 * The object as the server holds it (`current`: the first Key Block) and, when it was
 * registered wrapped and unwrapped here, the object as registered.
 */
export function storedForms(object: StructureItem): {
  current: StructureItem;
  registered?: StructureItem;
} {
  const blocks = keyBlocks(object);
  if (blocks.length < 2) return { current: object };
  const rest = object.value.filter((c) => c.tag !== Tag.KeyBlock);
  return {
    current: { ...object, value: [blocks[0]!, ...rest] },
    registered: { ...object, value: [blocks[1]!, ...rest] },
  };
}

/** Whether the object's Key Block carries Key Wrapping Data. */
export function isWrapped(object: StructureItem): boolean {
  return childOf(childOf(object, Tag.KeyBlock), Tag.KeyWrappingData) !== undefined;
}

/**
 * Register of a Key Block with Key Wrapping Data: the object to store and the object in clear
 * for the attributes the server derives. When the wrapping key is not managed here, belongs to
 * someone else or may not unwrap now, the object is stored as given (wrapped). A managed,
 * usable key that fails to unwrap the value is a Cryptographic Failure.
 */
export async function acceptWrapped(
  ctx: OperationContext,
  object: StructureItem,
): Promise<{ stored: StructureItem; clear: StructureItem | undefined }> {
  if (!isWrapped(object)) return { stored: object, clear: object };
  let clear: StructureItem;
  try {
    clear = await unwrapObject(ctx, object);
  } catch (err) {
    if (err instanceof KmipError && err.reason === ResultReason.CryptographicFailure) throw err;
    return { stored: object, clear: undefined };
  }
  const registered = childOf(object, Tag.KeyBlock)!;
  return { stored: { ...clear, value: [...clear.value, registered] }, clear };
}

// ---------------------------------------------------------------------------------------------
// Unwrapping

/** The object with its Key Value unwrapped and its Key Wrapping Data removed. */
export async function unwrapObject(
  ctx: OperationContext,
  object: StructureItem,
): Promise<StructureItem> {
  const block = childOf(object, Tag.KeyBlock) as StructureItem;
  const kwdItem = childOf(block, Tag.KeyWrappingData);
  if (kwdItem === undefined) return object;
  const kwd = KeyWrappingDataSchema.read(kwdItem, ctx.version);
  const keyValue = childOf(block, Tag.KeyValue);
  const wrapped =
    bytesOf(keyValue) ??
    // The KMIP 1.4 Test Cases notes (TC-WRAP-1..3) show the wrapped bytes as Key Material.
    bytesOf(childOf(keyValue, Tag.KeyMaterial));
  if (wrapped === undefined) throw invalid('a wrapped Key Value must be a Byte String');
  const method = kwd.wrappingMethod;
  let plain: Buffer;
  switch (method) {
    case WrappingMethod.Encrypt:
      plain = await decryptWith(ctx, requireInfo(kwd.encryptionKeyInformation), kwd, wrapped);
      break;
    case WrappingMethod.MACSign:
      await verifyMac(ctx, kwd, wrapped);
      plain = Buffer.from(wrapped);
      break;
    case WrappingMethod.EncryptThenMACSign:
      await verifyMac(ctx, kwd, wrapped);
      plain = await decryptWith(ctx, requireInfo(kwd.encryptionKeyInformation), kwd, wrapped);
      break;
    case WrappingMethod.MACSignThenEncrypt:
      plain = await decryptWith(ctx, requireInfo(kwd.encryptionKeyInformation), kwd, wrapped);
      await verifyMac(ctx, kwd, plain);
      break;
    default:
      throw notSupported('this Wrapping Method');
  }
  const value = decodeKeyValue(plain, kwd.encodingOption ?? EncodingOption.TTLVEncoding);
  plain.fill(0);
  const children = block.value
    .filter((c) => c.tag !== Tag.KeyWrappingData)
    .map((c) => (c.tag === Tag.KeyValue ? value : c));
  return replaceBlock(object, item.struct(Tag.KeyBlock, children));
}

function requireInfo(info: KeyInformation | undefined): KeyInformation {
  if (info === undefined) throw invalid('Encryption Key Information is required');
  return info;
}

function decodeKeyValue(plain: Buffer, encoding: number): TtlvItem {
  if (encoding === EncodingOption.NoEncoding) {
    return item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.from(plain))]);
  }
  if (encoding !== EncodingOption.TTLVEncoding) throw encodingError('unknown Encoding Option');
  let value: TtlvItem;
  try {
    value = decodeTtlv(plain, { maxMessageBytes: plain.length });
  } catch {
    throw encodingError('the unwrapped Key Value is not TTLV encoded');
  }
  if (value.tag !== Tag.KeyValue || value.type !== ItemType.Structure) {
    throw encodingError('the unwrapped value is not a Key Value structure');
  }
  return value;
}

async function decryptWith(
  ctx: OperationContext,
  info: KeyInformation,
  kwd: KeyWrappingData,
  data: Uint8Array,
): Promise<Buffer> {
  const kek = await wrappingKey(ctx, info, 'unwrap');
  if (kek.object.tag === Tag.SymmetricKey) {
    return symmetricUnwrap(kek, symmetricKeyBytes(kek.object), kwd.ivCounterNonce, data);
  }
  const params = rsaParams(kek.params);
  try {
    return rsaDecrypt(asymmetricKey(kek.object), params, data);
  } catch (err) {
    if (err instanceof KmipError && err.reason !== ResultReason.CryptographicFailure) throw err;
    throw unwrapFailure();
  }
}

function symmetricUnwrap(
  kek: UsableKey,
  key: Buffer,
  iv: Uint8Array | undefined,
  data: Uint8Array,
): Buffer {
  const mode = aesMode(kek);
  try {
    if (mode === BlockCipherMode.GCM) {
      if (iv === undefined) throw invalid('GCM unwrapping needs the IV/Counter/Nonce');
      const tagBytes = kek.params.tagLength ?? GCM_TAG_BYTES;
      if (data.length < tagBytes) throw unwrapFailure();
      const d = createDecipheriv(gcmName(key), key, iv, { authTagLength: tagBytes });
      d.setAuthTag(Buffer.from(data.subarray(data.length - tagBytes)));
      return Buffer.concat([d.update(data.subarray(0, data.length - tagBytes)), d.final()]);
    }
    const d = createDecipheriv(
      kwName(key, mode),
      key,
      mode === BlockCipherMode.NISTKeyWrap ? KW_IV : KWP_IV,
    );
    return Buffer.concat([d.update(data), d.final()]);
  } catch (err) {
    if (err instanceof KmipError && err.reason !== ResultReason.CryptographicFailure) throw err;
    throw unwrapFailure();
  } finally {
    key.fill(0);
  }
}

async function verifyMac(ctx: OperationContext, kwd: KeyWrappingData, data: Uint8Array) {
  const info = kwd.macSignatureKeyInformation;
  if (info === undefined) throw invalid('MAC/Signature Key Information is required');
  if (kwd.macSignature === undefined) throw invalid('MAC/Signature is required');
  const key = await macKey(ctx, info, 'process');
  if (!sameBytes(hmac(key, data), kwd.macSignature)) throw unwrapFailure();
}

// ---------------------------------------------------------------------------------------------
// Wrapping

/**
 * The object with its Key Value wrapped as the Key Wrapping Specification says. The Key
 * Wrapping Data echoes the specification (its Cryptographic Parameters as given) and adds the
 * IV/Counter/Nonce and MAC/Signature the server produced.
 */
export async function wrapObject(
  ctx: OperationContext,
  mo: ManagedObject,
  object: StructureItem,
  specification: TtlvItem,
): Promise<StructureItem> {
  const spec = KeyWrappingSpecificationSchema.read(specification, ctx.version);
  const block = childOf(object, Tag.KeyBlock);
  if (block === undefined || block.type !== ItemType.Structure) {
    throw invalid('only objects with a Key Block can be wrapped');
  }
  if (childOf(block, Tag.KeyWrappingData) !== undefined) {
    throw invalid('the key is already wrapped');
  }
  const encoding = spec.encodingOption ?? EncodingOption.TTLVEncoding;
  const plain = encodeKeyValue(ctx, mo, childOf(block, Tag.KeyValue), spec, encoding);
  const extra: TtlvItem[] = [];
  let wrapped: Buffer;
  try {
    switch (spec.wrappingMethod) {
      case WrappingMethod.Encrypt:
        wrapped = await encryptWith(ctx, requireInfo(spec.encryptionKeyInformation), plain, extra);
        break;
      case WrappingMethod.MACSign:
        wrapped = Buffer.from(plain);
        extra.push(item.bytes(Tag.MACSignature, await macOf(ctx, spec, wrapped)));
        break;
      case WrappingMethod.EncryptThenMACSign:
        wrapped = await encryptWith(ctx, requireInfo(spec.encryptionKeyInformation), plain, extra);
        extra.push(item.bytes(Tag.MACSignature, await macOf(ctx, spec, wrapped)));
        break;
      case WrappingMethod.MACSignThenEncrypt: {
        const mac = await macOf(ctx, spec, plain);
        wrapped = await encryptWith(ctx, requireInfo(spec.encryptionKeyInformation), plain, extra);
        extra.push(item.bytes(Tag.MACSignature, mac));
        break;
      }
      default:
        throw notSupported('this Wrapping Method');
    }
  } finally {
    plain.fill(0);
  }
  const kwd = item.struct(Tag.KeyWrappingData, [
    ...(specification.type === ItemType.Structure ? specification.value : []).filter(
      (c) => c.tag !== Tag.AttributeName && c.tag !== Tag.EncodingOption,
    ),
    ...extra,
    ...(spec.encodingOption === undefined
      ? []
      : [item.enum(Tag.EncodingOption, spec.encodingOption)]),
  ]);
  const children = block.value.map((c) =>
    c.tag === Tag.KeyValue ? item.bytes(Tag.KeyValue, wrapped) : c,
  );
  return replaceBlock(object, item.struct(Tag.KeyBlock, [...children, kwd]));
}

function encodeKeyValue(
  ctx: OperationContext,
  mo: ManagedObject,
  keyValue: TtlvItem | undefined,
  spec: TypeOf<typeof KeyWrappingSpecificationSchema>,
  encoding: number,
): Buffer {
  if (keyValue === undefined || keyValue.type !== ItemType.Structure) {
    throw invalid('the Key Block has no Key Value to wrap');
  }
  if (encoding === EncodingOption.NoEncoding) {
    // §2.1.5: with No Encoding the Key Value carries no attributes.
    if (spec.attributeNames.length > 0) {
      throw encodingError('attributes can only be wrapped with TTLV Encoding');
    }
    const material = bytesOf(childOf(keyValue, Tag.KeyMaterial));
    if (material === undefined) {
      throw encodingError('No Encoding needs Key Material that is a Byte String');
    }
    return Buffer.from(material);
  }
  if (encoding !== EncodingOption.TTLVEncoding) throw encodingError('unknown Encoding Option');
  const material = childOf(keyValue, Tag.KeyMaterial);
  if (material === undefined) throw invalid('the Key Value has no Key Material');
  const wanted = new Set(spec.attributeNames.map(nameFromSpecName));
  const chosen = mo.attributes.filter((a) => wanted.has(a.name));
  const attributes = versionAtLeast(ctx.version, '2.0')
    ? chosen.length === 0
      ? []
      : [toAttributes2x(Tag.Attributes, chosen, ctx.version)]
    : toAttributes1x(chosen, ctx.version);
  return encodeTtlv(item.struct(Tag.KeyValue, [material, ...attributes]));
}

async function encryptWith(
  ctx: OperationContext,
  info: KeyInformation,
  plain: Buffer,
  extra: TtlvItem[],
): Promise<Buffer> {
  const kek = await wrappingKey(ctx, info, 'wrap');
  if (kek.object.tag === Tag.SymmetricKey) {
    const key = symmetricKeyBytes(kek.object);
    try {
      const mode = aesMode(kek);
      if (mode === BlockCipherMode.GCM) {
        const iv = randomBytes(
          kek.params.ivLength === undefined ? GCM_IV_BYTES : kek.params.ivLength / 8,
        );
        const tagBytes = kek.params.tagLength ?? GCM_TAG_BYTES;
        const c = createCipheriv(gcmName(key), key, iv, { authTagLength: tagBytes });
        const out = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
        extra.push(item.bytes(Tag.IVCounterNonce, iv));
        return out;
      }
      if (mode === BlockCipherMode.NISTKeyWrap && (plain.length % 8 !== 0 || plain.length < 16)) {
        throw invalid(
          'NIST Key Wrap needs a multiple of 8 bytes (16 or more); use AES Key Wrap Padding',
        );
      }
      const c = createCipheriv(
        kwName(key, mode),
        key,
        mode === BlockCipherMode.NISTKeyWrap ? KW_IV : KWP_IV,
      );
      return Buffer.concat([c.update(plain), c.final()]);
    } finally {
      key.fill(0);
    }
  }
  if (kek.object.tag !== Tag.PublicKey) {
    throw invalid('wrapping needs a Symmetric Key or a Public Key');
  }
  return rsaEncrypt(asymmetricKey(kek.object), rsaParams(kek.params), plain);
}

async function macOf(
  ctx: OperationContext,
  spec: TypeOf<typeof KeyWrappingSpecificationSchema>,
  data: Uint8Array,
): Promise<Buffer> {
  const info = spec.macSignatureKeyInformation;
  if (info === undefined) throw invalid('MAC/Signature Key Information is required');
  return hmac(await macKey(ctx, info, 'protect'), data);
}

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * The key named by Encryption Key Information. Wrapping needs an Active key with Wrap Key in its
 * usage mask (the version's wrong-state and usage-mask reasons, as for Encrypt). Unwrapping
 * accepts Unwrap Key or Wrap Key: the Test Cases register wrapped keys under a key-encryption
 * key whose mask is Wrap Key alone and expect them unwrapped (TC-WRAP-2, TC-WRAP-3). For RSA
 * the named Public Key wraps and the Private Key it links to unwraps.
 */
async function wrappingKey(
  ctx: OperationContext,
  info: KeyInformation,
  direction: 'wrap' | 'unwrap',
): Promise<UsableKey> {
  const uid = info.uniqueIdentifier;
  if (direction === 'wrap') {
    return usableKey(
      ctx,
      uid,
      'protect',
      CryptographicUsageMask.WrapKey,
      info.cryptographicParameters,
    );
  }
  const mask = CryptographicUsageMask.UnwrapKey | CryptographicUsageMask.WrapKey;
  const key = await usableKey(ctx, uid, 'process', mask, info.cryptographicParameters);
  if (key.object.tag !== Tag.PublicKey) return key;
  const link = attrs(key.mo, 'Link').find(
    (l) => numberOf(childOf(l, Tag.LinkType)) === LinkType.PrivateKeyLink,
  );
  const privateUid = textOf(childOf(link, Tag.LinkedObjectIdentifier));
  if (privateUid === undefined)
    throw invalid('the Public Key has no linked Private Key to unwrap with');
  return usableKey(ctx, privateUid, 'process', mask, info.cryptographicParameters);
}

async function macKey(
  ctx: OperationContext,
  info: KeyInformation,
  use: 'protect' | 'process',
): Promise<{ key: Buffer; hash: string }> {
  const mask =
    use === 'protect'
      ? CryptographicUsageMask.MACGenerate
      : CryptographicUsageMask.MACVerify | CryptographicUsageMask.MACGenerate;
  const k = await usableKey(ctx, info.uniqueIdentifier, use, mask, info.cryptographicParameters);
  if (k.object.tag !== Tag.SymmetricKey) {
    throw notSupported('MAC/sign wrapping with signature keys');
  }
  const algorithm = k.algorithms.find((a) => a !== CryptographicAlgorithm.AES);
  if (algorithm === undefined) throw notSupported('MAC/sign wrapping needs an HMAC key');
  return { key: symmetricKeyBytes(k.object), hash: hmacHashName(algorithm) };
}

function hmac(k: { key: Buffer; hash: string }, data: Uint8Array): Buffer {
  try {
    return createHmac(k.hash, k.key).update(data).digest();
  } finally {
    k.key.fill(0);
  }
}

function aesMode(kek: UsableKey): number {
  if (kek.algorithm !== undefined && kek.algorithm !== CryptographicAlgorithm.AES) {
    throw notSupported('symmetric wrapping with keys other than AES');
  }
  const mode = kek.params.blockCipherMode ?? BlockCipherMode.NISTKeyWrap;
  if (
    mode !== BlockCipherMode.NISTKeyWrap &&
    mode !== BlockCipherMode.AESKeyWrapPadding &&
    mode !== BlockCipherMode.GCM
  ) {
    throw notSupported('key wrapping in this Block Cipher Mode');
  }
  return mode;
}

function aesBits(key: Buffer): number {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw invalid('an AES wrapping key must be 128, 192 or 256 bits');
  }
  return key.length * 8;
}

function kwName(key: Buffer, mode: number): string {
  return `id-aes${aesBits(key)}-wrap${mode === BlockCipherMode.AESKeyWrapPadding ? '-pad' : ''}`;
}

function gcmName(key: Buffer): CipherGCMTypes {
  return `aes-${aesBits(key)}-gcm` as CipherGCMTypes;
}

/** RSA wrapping is RSA-OAEP unless the parameters name another padding. */
function rsaParams(p: CryptographicParameters): CryptographicParameters {
  return { ...p, paddingMethod: p.paddingMethod ?? PaddingMethod.OAEP };
}

function replaceBlock(object: StructureItem, block: StructureItem): StructureItem {
  let done = false;
  return {
    ...object,
    value: object.value.flatMap((c) => {
      if (c.tag !== Tag.KeyBlock) return [c];
      if (done) return [];
      done = true;
      return [block];
    }),
  };
}
