// The client's declarations of the cryptographic services (KMIP 2.1 §6.1: Encrypt, Decrypt,
// Sign, Signature Verify, MAC, MAC Verify, Hash, RNG Retrieve), in the form of operations.ts:
// Operation value, the server's payload schemas, typed arguments to the request payload and
// the response payload to a typed result.

import type { CryptographicParameters } from '../kmip/cryptographic-parameters.js';
import { decrypt } from '../operations/decrypt.js';
import { encrypt } from '../operations/encrypt.js';
import { hash } from '../operations/hash.js';
import { mac } from '../operations/mac.js';
import { macVerify } from '../operations/mac-verify.js';
import { rngRetrieve } from '../operations/rng-retrieve.js';
import { sign } from '../operations/sign.js';
import { signatureVerify } from '../operations/signature-verify.js';
import { Operation, Tag, ValidityIndicator } from '../ttlv/spec/generated.js';
import { tagDef } from '../ttlv/spec/index.js';
import { type EnumInput, enumArg } from './attributes.js';
import { op, type Target, type UidResult } from './operations.js';

/** Cryptographic Parameters with enumerations by name: `{ blockCipherMode: 'GCM', tagLength: 16 }`. */
export type CryptoParamsInput = {
  [K in keyof CryptographicParameters]?: CryptographicParameters[K] extends number | undefined
    ? EnumInput
    : CryptographicParameters[K];
};

const PARAM_TAGS: Record<string, number> = {
  blockCipherMode: Tag.BlockCipherMode,
  paddingMethod: Tag.PaddingMethod,
  hashingAlgorithm: Tag.HashingAlgorithm,
  keyRoleType: Tag.KeyRoleType,
  digitalSignatureAlgorithm: Tag.DigitalSignatureAlgorithm,
  cryptographicAlgorithm: Tag.CryptographicAlgorithm,
  maskGenerator: Tag.MaskGenerator,
  maskGeneratorHashingAlgorithm: Tag.MaskGeneratorHashingAlgorithm,
};

export function cryptoParams(
  p: CryptoParamsInput | undefined,
): CryptographicParameters | undefined {
  if (p === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    const tag = PARAM_TAGS[k];
    out[k] = tag !== undefined && tagDef(tag) !== undefined ? enumArg(tag, v as EnumInput) : v;
  }
  return out as CryptographicParameters;
}

export interface CryptoArgs extends Target {
  data: Uint8Array;
  cryptographicParameters?: CryptoParamsInput;
}

export interface EncryptArgs extends CryptoArgs {
  ivCounterNonce?: Uint8Array;
  /** AEAD additional data (GCM). */
  aad?: Uint8Array;
}

export interface EncryptResult extends UidResult {
  data: Buffer;
  ivCounterNonce?: Buffer;
  /** AEAD tag (GCM). */
  tag?: Buffer;
}

const buf = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b));

export const encryptOp = op({
  operation: Operation.Encrypt,
  schemas: encrypt,
  payload: (a: EncryptArgs) => ({
    uniqueIdentifier: a.uid,
    cryptographicParameters: cryptoParams(a.cryptographicParameters),
    data: a.data,
    ivCounterNonce: a.ivCounterNonce,
    authenticatedEncryptionAdditionalData: a.aad,
  }),
  result: (r): EncryptResult => ({
    uid: r.uniqueIdentifier,
    data: buf(r.data) ?? Buffer.alloc(0),
    ivCounterNonce: buf(r.ivCounterNonce),
    tag: buf(r.authenticatedEncryptionTag),
  }),
});

export interface DecryptArgs extends EncryptArgs {
  tag?: Uint8Array;
}

export const decryptOp = op({
  operation: Operation.Decrypt,
  schemas: decrypt,
  payload: (a: DecryptArgs) => ({
    uniqueIdentifier: a.uid,
    cryptographicParameters: cryptoParams(a.cryptographicParameters),
    data: a.data,
    ivCounterNonce: a.ivCounterNonce,
    authenticatedEncryptionAdditionalData: a.aad,
    authenticatedEncryptionTag: a.tag,
  }),
  result: (r): UidResult & { data: Buffer } => ({
    uid: r.uniqueIdentifier,
    data: buf(r.data) ?? Buffer.alloc(0),
  }),
});

export const signOp = op({
  operation: Operation.Sign,
  schemas: sign,
  payload: (a: CryptoArgs) => ({
    uniqueIdentifier: a.uid,
    cryptographicParameters: cryptoParams(a.cryptographicParameters),
    data: a.data,
  }),
  result: (r): UidResult & { signature: Buffer } => ({
    uid: r.uniqueIdentifier,
    signature: buf(r.signatureData) ?? Buffer.alloc(0),
  }),
});

export interface VerifyArgs extends CryptoArgs {
  signature: Uint8Array;
}

export interface ValidityResult extends UidResult {
  valid: boolean;
}

const valid = (v: number | undefined) => v === ValidityIndicator.Valid;

export const signatureVerifyOp = op({
  operation: Operation.SignatureVerify,
  schemas: signatureVerify,
  payload: (a: VerifyArgs) => ({
    uniqueIdentifier: a.uid,
    cryptographicParameters: cryptoParams(a.cryptographicParameters),
    data: a.data,
    signatureData: a.signature,
  }),
  result: (r): ValidityResult => ({ uid: r.uniqueIdentifier, valid: valid(r.validityIndicator) }),
});

export const macOp = op({
  operation: Operation.MAC,
  schemas: mac,
  payload: (a: CryptoArgs) => ({
    uniqueIdentifier: a.uid,
    cryptographicParameters: cryptoParams(a.cryptographicParameters),
    data: a.data,
  }),
  result: (r): UidResult & { mac: Buffer } => ({
    uid: r.uniqueIdentifier,
    mac: buf(r.macData) ?? Buffer.alloc(0),
  }),
});

export interface MacVerifyArgs extends CryptoArgs {
  mac: Uint8Array;
}

export const macVerifyOp = op({
  operation: Operation.MACVerify,
  schemas: macVerify,
  payload: (a: MacVerifyArgs) => ({
    uniqueIdentifier: a.uid,
    cryptographicParameters: cryptoParams(a.cryptographicParameters),
    data: a.data,
    macData: a.mac,
  }),
  result: (r): ValidityResult => ({ uid: r.uniqueIdentifier, valid: valid(r.validityIndicator) }),
});

export interface HashArgs {
  data: Uint8Array;
  /** Default SHA-256. */
  algorithm?: EnumInput;
}

export const hashOp = op({
  operation: Operation.Hash,
  schemas: hash,
  payload: (a: HashArgs) => ({
    cryptographicParameters: {
      hashingAlgorithm: enumArg(Tag.HashingAlgorithm, a.algorithm ?? 'SHA_256'),
    },
    data: a.data,
  }),
  result: (r): Buffer => buf(r.data) ?? Buffer.alloc(0),
});

export const rngRetrieveOp = op({
  operation: Operation.RNGRetrieve,
  schemas: rngRetrieve,
  payload: (a: { length: number }) => ({ dataLength: a.length }),
  result: (r): Buffer => Buffer.from(r.data),
});
