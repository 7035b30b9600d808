// Cryptographic service operations beyond the conformance cases: key state, dates and usage
// mask (KMIP 2.1 §4.57, §4.46, §4.48, §4.19), streaming (§6.1.20 Correlation Value), error
// reasons, and round trips checked against node:crypto as an independent oracle.

import {
  constants,
  createHash,
  createHmac,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesOf, item, numberOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  DigitalSignatureAlgorithm,
  HashingAlgorithm,
  KeyFormatType,
  ObjectType,
  Operation,
  PaddingMethod,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  Tag,
  CryptographicUsageMask as Usage,
  ValidityIndicator,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';
import { type KeySpec, registerKey as register } from '../helpers/register-key.js';

type Server = ReturnType<typeof testServer>;

const hex = (s: string) => Buffer.from(s, 'hex');
const _NOW = () => BigInt(Math.floor(Date.now() / 1000));
const params = (...children: TtlvItem[]) => item.struct(Tag.CryptographicParameters, children);

async function call(
  s: Server,
  version: KmipVersion,
  operation: number,
  payload: TtlvItem[],
  identity = 'alice',
) {
  const res = await s.send(version, [{ operation, payload }], { identity });
  const bi = res.batchItems[0]!;
  const out = payloadOf(bi);
  return {
    status: bi.resultStatus,
    reason: bi.resultReason,
    message: bi.resultMessage,
    tags: out.map((i) => i.tag),
    bytes: (tag: number) => bytesOf(find(out, tag)),
    number: (tag: number) => numberOf(find(out, tag)),
  };
}

/** Registers a new 256-bit EC pair: the private key in PKCS#8, or in SEC1 with `sec1`. */
async function registerEcPair(
  s: Server,
  version: KmipVersion,
  namedCurve: string,
  opts: { algorithm: number; sec1?: boolean },
) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
  const priv = await register(s, version, {
    objectType: ObjectType.PrivateKey,
    format: opts.sec1 ? KeyFormatType.ECPrivateKey : KeyFormatType.PKCS_8,
    material: privateKey.export({ type: opts.sec1 ? 'sec1' : 'pkcs8', format: 'der' }),
    algorithm: opts.algorithm,
    length: 256,
    mask: Usage.Sign,
  });
  const pub = await register(s, version, {
    objectType: ObjectType.PublicKey,
    format: KeyFormatType.X_509,
    material: publicKey.export({ type: 'spki', format: 'der' }),
    algorithm: opts.algorithm,
    length: 256,
    mask: Usage.Verify,
  });
  return { priv, pub, publicKey, privateKey };
}

const aesKey = (extra: Partial<KeySpec> = {}): KeySpec => ({
  material: hex('0123456789abcdef0123456789abcdef'),
  algorithm: CryptographicAlgorithm.AES,
  length: 128,
  mask: Usage.Encrypt | Usage.Decrypt,
  ...extra,
});

const uidItem = (uid: string) => item.text(Tag.UniqueIdentifier, uid);
const ecb = params(item.enum(Tag.BlockCipherMode, BlockCipherMode.ECB));
const BLOCK = hex('01020304050607080910111213141516');
const BLOCK_ECB = 'd9bcce11b0b437b90239552df3a360c9'; // CS-BC-M-4

describe.each(['1.4', '2.1'] as KmipVersion[])('key usability at KMIP %s', (version) => {
  const wrongState =
    version === '2.1' ? ResultReason.WrongKeyLifecycleState : ResultReason.PermissionDenied;

  it('refuses Encrypt and Decrypt with a Pre-Active key with the version’s reason', async () => {
    const s = testServer();
    const uid = await register(s, version, aesKey({ active: false }));
    for (const op of [Operation.Encrypt, Operation.Decrypt]) {
      const r = await call(s, version, op, [uidItem(uid), ecb, item.bytes(Tag.Data, BLOCK)]);
      expect([r.status, r.reason]).toEqual([ResultStatus.OperationFailed, wrongState]);
    }
  });

  it('lets a Deactivated key decrypt but not encrypt (KMIP 2.1 §4.57)', async () => {
    const s = testServer();
    const uid = await register(s, version, aesKey());
    const revoke = await call(s, version, Operation.Revoke, [
      uidItem(uid),
      item.struct(Tag.RevocationReason, [
        item.enum(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation),
      ]),
    ]);
    expect(revoke.status).toBe(ResultStatus.Success);
    const enc = await call(s, version, Operation.Encrypt, [
      uidItem(uid),
      ecb,
      item.bytes(Tag.Data, BLOCK),
    ]);
    expect(enc.reason).toBe(wrongState);
    const dec = await call(s, version, Operation.Decrypt, [
      uidItem(uid),
      ecb,
      item.bytes(Tag.Data, hex(BLOCK_ECB)),
    ]);
    expect(dec.status).toBe(ResultStatus.Success);
    expect(Buffer.from(dec.bytes(Tag.Data)!)).toEqual(BLOCK);
  });

  it('refuses an operation the Cryptographic Usage Mask does not allow', async () => {
    const s = testServer();
    const uid = await register(s, version, aesKey({ mask: Usage.Decrypt }));
    const r = await call(s, version, Operation.Encrypt, [
      uidItem(uid),
      ecb,
      item.bytes(Tag.Data, BLOCK),
    ]);
    expect(r.reason).toBe(
      version === '2.1'
        ? ResultReason.IncompatibleCryptographicUsageMask
        : ResultReason.PermissionDenied,
    );
  });

  it('does not let another identity use the key', async () => {
    const s = testServer();
    const uid = await register(s, version, aesKey());
    const r = await call(
      s,
      version,
      Operation.Encrypt,
      [uidItem(uid), ecb, item.bytes(Tag.Data, BLOCK)],
      'mallory',
    );
    expect(r.reason).toBe(
      version === '2.1' ? ResultReason.ObjectNotFound : ResultReason.ItemNotFound,
    );
  });
});

describe('Encrypt and Decrypt', () => {
  it('answers Invalid Field for unpadded data that is not whole blocks and for a bad IV length', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', aesKey());
    const short = await call(s, '2.1', Operation.Encrypt, [
      uidItem(uid),
      ecb,
      item.bytes(Tag.Data, hex('0102')),
    ]);
    expect(short.reason).toBe(ResultReason.InvalidField);
    const cbc = params(item.enum(Tag.BlockCipherMode, BlockCipherMode.CBC));
    const iv = await call(s, '2.1', Operation.Encrypt, [
      uidItem(uid),
      cbc,
      item.bytes(Tag.Data, BLOCK),
      item.bytes(Tag.IVCounterNonce, hex('0102')),
    ]);
    expect(iv.reason).toBe(ResultReason.InvalidField);
    expect(iv.message).not.toContain('0123456789abcdef');
  });

  it('answers Cryptographic Failure for bad PKCS#5 padding', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', aesKey());
    const p = params(
      item.enum(Tag.BlockCipherMode, BlockCipherMode.ECB),
      item.enum(Tag.PaddingMethod, PaddingMethod.PKCS5),
    );
    // One block whose plaintext is 0102...16: its last byte 0x16 is no valid padding.
    const r = await call(s, '2.1', Operation.Decrypt, [
      uidItem(uid),
      p,
      item.bytes(Tag.Data, hex(BLOCK_ECB)),
    ]);
    expect([r.status, r.reason]).toEqual([
      ResultStatus.OperationFailed,
      ResultReason.CryptographicFailure,
    ]);
  });

  it('generates and returns a GCM nonce when none is given, and the tag', async () => {
    const s = testServer();
    const key = Buffer.alloc(32, 9);
    const uid = await register(s, '2.1', aesKey({ material: key, length: 256 }));
    const gcm = params(item.enum(Tag.BlockCipherMode, BlockCipherMode.GCM));
    const plain = Buffer.from('attack at dawn');
    const enc = await call(s, '2.1', Operation.Encrypt, [
      uidItem(uid),
      gcm,
      item.bytes(Tag.Data, plain),
      item.bytes(Tag.AuthenticatedEncryptionAdditionalData, hex('aa')),
    ]);
    expect(enc.tags).toEqual([
      Tag.UniqueIdentifier,
      Tag.Data,
      Tag.IVCounterNonce,
      Tag.AuthenticatedEncryptionTag,
    ]);
    const nonce = enc.bytes(Tag.IVCounterNonce)!;
    expect(nonce.length).toBe(12);
    const dec = await call(s, '2.1', Operation.Decrypt, [
      uidItem(uid),
      gcm,
      item.bytes(Tag.Data, enc.bytes(Tag.Data)!),
      item.bytes(Tag.IVCounterNonce, nonce),
      item.bytes(Tag.AuthenticatedEncryptionAdditionalData, hex('aa')),
      item.bytes(Tag.AuthenticatedEncryptionTag, enc.bytes(Tag.AuthenticatedEncryptionTag)!),
    ]);
    expect(Buffer.from(dec.bytes(Tag.Data)!).toString()).toBe('attack at dawn');
    const missingTag = await call(s, '2.1', Operation.Decrypt, [
      uidItem(uid),
      gcm,
      item.bytes(Tag.Data, enc.bytes(Tag.Data)!),
      item.bytes(Tag.IVCounterNonce, nonce),
    ]);
    expect(missingTag.reason).toBe(ResultReason.InvalidMessage);
  });

  it('round-trips AES-CTR with a client counter block', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', aesKey());
    const ctr = params(item.enum(Tag.BlockCipherMode, BlockCipherMode.CTR));
    const counter = item.bytes(Tag.IVCounterNonce, Buffer.alloc(16, 1));
    const plain = Buffer.from('seventeen bytes!!');
    const enc = await call(s, '2.1', Operation.Encrypt, [
      uidItem(uid),
      ctr,
      item.bytes(Tag.Data, plain),
      counter,
    ]);
    expect(enc.tags).toEqual([Tag.UniqueIdentifier, Tag.Data]);
    expect(enc.bytes(Tag.Data)!.length).toBe(plain.length);
    const dec = await call(s, '2.1', Operation.Decrypt, [
      uidItem(uid),
      ctr,
      item.bytes(Tag.Data, enc.bytes(Tag.Data)!),
      counter,
    ]);
    expect(Buffer.from(dec.bytes(Tag.Data)!)).toEqual(plain);
  });

  // TC-STREAM-ENC-2-14: 3DES-ECB of 0102030405060708 under 0101…01 is cead373db80eabf8.
  it('streams 3DES-ECB across requests and answers Data only when a block completes', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', {
      material: Buffer.alloc(24, 1),
      algorithm: CryptographicAlgorithm.DES3,
      length: 168,
      mask: Usage.Encrypt | Usage.Decrypt,
    });
    const first = await call(s, '1.4', Operation.Encrypt, [
      uidItem(uid),
      ecb,
      item.bytes(Tag.Data, hex('01020304')),
      item.bool(Tag.InitIndicator, true),
    ]);
    expect(first.tags).toEqual([Tag.UniqueIdentifier, Tag.CorrelationValue]);
    const cv = item.bytes(Tag.CorrelationValue, first.bytes(Tag.CorrelationValue)!);
    const mid = await call(s, '1.4', Operation.Encrypt, [
      uidItem(uid),
      item.bytes(Tag.Data, hex('050607')),
      cv,
    ]);
    expect(mid.tags).toEqual([Tag.UniqueIdentifier, Tag.CorrelationValue]);
    const last = await call(s, '1.4', Operation.Encrypt, [
      uidItem(uid),
      item.bytes(Tag.Data, hex('08')),
      cv,
      item.bool(Tag.FinalIndicator, true),
    ]);
    expect(last.tags).toEqual([Tag.UniqueIdentifier, Tag.Data]);
    expect(Buffer.from(last.bytes(Tag.Data)!).toString('hex')).toBe('cead373db80eabf8');
    const closed = await call(s, '1.4', Operation.Encrypt, [
      uidItem(uid),
      item.bytes(Tag.Data, hex('08')),
      cv,
    ]);
    expect(closed.reason).toBe(ResultReason.InvalidField);
  });

  it('keeps a stream to the identity that opened it', async () => {
    const s = testServer({});
    const uid = await register(s, '2.1', aesKey());
    const first = await call(s, '2.1', Operation.Encrypt, [
      uidItem(uid),
      ecb,
      item.bytes(Tag.Data, BLOCK),
      item.bool(Tag.InitIndicator, true),
    ]);
    const cv = item.bytes(Tag.CorrelationValue, first.bytes(Tag.CorrelationValue)!);
    const hash = params(item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256));
    const other = await call(
      s,
      '2.1',
      Operation.Hash,
      [hash, item.bytes(Tag.Data, BLOCK), cv],
      'bob',
    );
    expect(other.reason).toBe(ResultReason.InvalidCorrelationValue);
  });

  it('encrypts with RSA OAEP and PKCS#1 v1.5 so that the private key decrypts; refuses v1.5 decryption', async () => {
    const s = testServer();
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = await register(s, '2.1', {
      objectType: ObjectType.PublicKey,
      format: KeyFormatType.X_509,
      material: publicKey.export({ type: 'spki', format: 'der' }),
      algorithm: CryptographicAlgorithm.RSA,
      length: 2048,
      mask: Usage.Encrypt,
    });
    const priv = await register(s, '2.1', {
      objectType: ObjectType.PrivateKey,
      format: KeyFormatType.PKCS_1,
      material: privateKey.export({ type: 'pkcs1', format: 'der' }),
      algorithm: CryptographicAlgorithm.RSA,
      length: 2048,
      mask: Usage.Decrypt,
    });
    const msg = Buffer.from('a secret');
    const oaep = (mgf: number) =>
      params(
        item.enum(Tag.PaddingMethod, PaddingMethod.OAEP),
        item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
        item.enum(Tag.MaskGeneratorHashingAlgorithm, mgf),
      );
    const same = await call(s, '2.1', Operation.Encrypt, [
      uidItem(pub),
      oaep(HashingAlgorithm.SHA_256),
      item.bytes(Tag.Data, msg),
    ]);
    const oracle = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      same.bytes(Tag.Data)!,
    );
    expect(oracle).toEqual(msg);
    // MGF1 with another hash takes the server's own EME-OAEP encoding.
    const mixed = await call(s, '2.1', Operation.Encrypt, [
      uidItem(pub),
      oaep(HashingAlgorithm.SHA_1),
      item.bytes(Tag.Data, msg),
    ]);
    const back = await call(s, '2.1', Operation.Decrypt, [
      uidItem(priv),
      oaep(HashingAlgorithm.SHA_1),
      item.bytes(Tag.Data, mixed.bytes(Tag.Data)!),
    ]);
    expect(Buffer.from(back.bytes(Tag.Data)!)).toEqual(msg);
    const wrong = await call(s, '2.1', Operation.Decrypt, [
      uidItem(priv),
      oaep(HashingAlgorithm.SHA_256),
      item.bytes(Tag.Data, mixed.bytes(Tag.Data)!),
    ]);
    expect(wrong.reason).toBe(ResultReason.CryptographicFailure);

    const v15 = params(item.enum(Tag.PaddingMethod, PaddingMethod.PKCS1V1_5));
    const enc = await call(s, '2.1', Operation.Encrypt, [
      uidItem(pub),
      v15,
      item.bytes(Tag.Data, msg),
    ]);
    expect(enc.status).toBe(ResultStatus.Success);
    const dec = await call(s, '2.1', Operation.Decrypt, [
      uidItem(priv),
      v15,
      item.bytes(Tag.Data, enc.bytes(Tag.Data)!),
    ]);
    expect(dec.reason).toBe(ResultReason.FeatureNotSupported);
  });
});

describe('Sign and Signature Verify', () => {
  it('signs with ECDSA P-256 / SHA-256 (DER) and verifies; a changed message is Invalid', async () => {
    const s = testServer();
    const { priv, pub, publicKey } = await registerEcPair(s, '2.1', 'P-256', {
      algorithm: CryptographicAlgorithm.ECDSA,
    });
    const p = params(
      item.enum(Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.ECDSAWithSHA256),
    );
    const data = Buffer.from('signed message');
    const signed = await call(s, '2.1', Operation.Sign, [
      uidItem(priv),
      p,
      item.bytes(Tag.Data, data),
    ]);
    const sig = signed.bytes(Tag.SignatureData)!;
    expect(nodeVerify('sha256', data, publicKey, sig)).toBe(true);
    const ok = await call(s, '2.1', Operation.SignatureVerify, [
      uidItem(pub),
      p,
      item.bytes(Tag.Data, data),
      item.bytes(Tag.SignatureData, sig),
    ]);
    expect(ok.number(Tag.ValidityIndicator)).toBe(ValidityIndicator.Valid);
    const bad = await call(s, '2.1', Operation.SignatureVerify, [
      uidItem(pub),
      p,
      item.bytes(Tag.Data, hex('00')),
      item.bytes(Tag.SignatureData, sig),
    ]);
    expect(bad.number(Tag.ValidityIndicator)).toBe(ValidityIndicator.Invalid);
    const garbage = await call(s, '2.1', Operation.SignatureVerify, [
      uidItem(pub),
      p,
      item.bytes(Tag.Data, data),
      item.bytes(Tag.SignatureData, hex('3000')),
    ]);
    expect(garbage.number(Tag.ValidityIndicator)).toBe(ValidityIndicator.Invalid);
    const withPublic = await call(s, '2.1', Operation.Sign, [
      uidItem(pub),
      p,
      item.bytes(Tag.Data, data),
    ]);
    expect(withPublic.status).toBe(ResultStatus.OperationFailed);
  });

  it('signs Digested Data with RSA PKCS#1 v1.5 exactly as signing the data would', async () => {
    const s = testServer();
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const priv = await register(s, '2.1', {
      objectType: ObjectType.PrivateKey,
      format: KeyFormatType.PKCS_8,
      material: privateKey.export({ type: 'pkcs8', format: 'der' }),
      algorithm: CryptographicAlgorithm.RSA,
      length: 2048,
      mask: Usage.Sign,
    });
    const p = params(
      item.enum(Tag.PaddingMethod, PaddingMethod.PKCS1V1_5),
      item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
    );
    const data = Buffer.from('document');
    const whole = await call(s, '2.1', Operation.Sign, [
      uidItem(priv),
      p,
      item.bytes(Tag.Data, data),
    ]);
    const digest = createHash('sha256').update(data).digest();
    const pre = await call(s, '2.1', Operation.Sign, [
      uidItem(priv),
      p,
      item.bytes(Tag.DigestedData, digest),
    ]);
    expect(Buffer.from(pre.bytes(Tag.SignatureData)!)).toEqual(
      Buffer.from(whole.bytes(Tag.SignatureData)!),
    );
    expect(nodeVerify('sha256', data, publicKey, pre.bytes(Tag.SignatureData)!)).toBe(true);
  });

  it('signs and verifies Digested Data with ECDSA as node:crypto does over the data', async () => {
    const s = testServer();
    const { priv, pub, publicKey, privateKey } = await registerEcPair(s, '1.4', 'secp256k1', {
      algorithm: CryptographicAlgorithm.EC,
      sec1: true,
    });
    const p = params(
      item.enum(Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.ECDSAWithSHA256),
    );
    const data = Buffer.from('document');
    const digest = createHash('sha256').update(data).digest();
    const signed = await call(s, '1.4', Operation.Sign, [
      uidItem(priv),
      p,
      item.bytes(Tag.DigestedData, digest),
    ]);
    const sig = signed.bytes(Tag.SignatureData)!;
    expect(nodeVerify('sha256', data, publicKey, sig)).toBe(true);
    const verifyDigest = (bytes: Buffer, signature: Uint8Array) =>
      call(s, '1.4', Operation.SignatureVerify, [
        uidItem(pub),
        item.bytes(Tag.DigestedData, bytes),
        item.bytes(Tag.SignatureData, signature),
      ]);
    const theirs = nodeSign('sha256', data, privateKey);
    expect((await verifyDigest(digest, theirs)).number(Tag.ValidityIndicator)).toBe(
      ValidityIndicator.Valid,
    );
    const other = createHash('sha256').update('other').digest();
    expect((await verifyDigest(other, theirs)).number(Tag.ValidityIndicator)).toBe(
      ValidityIndicator.Invalid,
    );
    const short = await call(s, '1.4', Operation.Sign, [
      uidItem(priv),
      p,
      item.bytes(Tag.DigestedData, digest.subarray(0, 16)),
    ]);
    expect(short.reason).toBe(ResultReason.InvalidField);
  });
});

describe('MAC, Hash and RNG Retrieve', () => {
  const macKey = aesKey({
    mask: Usage.MACGenerate | Usage.MACVerify,
    extra: [params(item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256))],
  });

  it('streams a MAC and verifies it (TC-STREAM-MAC-1-14 data); a wrong MAC is Invalid', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', macKey);
    const first = await call(s, '1.4', Operation.MAC, [
      uidItem(uid),
      item.bytes(Tag.Data, hex('0102')),
      item.bool(Tag.InitIndicator, true),
    ]);
    expect(first.tags).toEqual([Tag.UniqueIdentifier, Tag.CorrelationValue]);
    const cv = item.bytes(Tag.CorrelationValue, first.bytes(Tag.CorrelationValue)!);
    await call(s, '1.4', Operation.MAC, [
      uidItem(uid),
      item.bytes(Tag.Data, hex('030405060708091011121314')),
      cv,
    ]);
    const last = await call(s, '1.4', Operation.MAC, [
      uidItem(uid),
      item.bytes(Tag.Data, hex('1516')),
      cv,
      item.bool(Tag.FinalIndicator, true),
    ]);
    const expected = createHmac('sha256', hex('0123456789abcdef0123456789abcdef'))
      .update(BLOCK)
      .digest();
    expect(Buffer.from(last.bytes(Tag.MACData)!)).toEqual(expected);
    expect(expected.toString('hex')).toBe(
      'c911e78196d64c30f631bb079ea37b97a95936d4da764d6a171df030c895ecf9',
    );
    const wrong = Buffer.from(expected);
    wrong[0]! ^= 1;
    const v = await call(s, '1.4', Operation.MACVerify, [
      uidItem(uid),
      item.bytes(Tag.Data, BLOCK),
      item.bytes(Tag.MACData, wrong),
    ]);
    expect(v.number(Tag.ValidityIndicator)).toBe(ValidityIndicator.Invalid);
    const short = await call(s, '1.4', Operation.MACVerify, [
      uidItem(uid),
      item.bytes(Tag.Data, BLOCK),
      item.bytes(Tag.MACData, hex('c9')),
    ]);
    expect(short.number(Tag.ValidityIndicator)).toBe(ValidityIndicator.Invalid);
  });

  it('hashes in one request or streamed (FIPS 180-2 "abc"), and SHA3-256', async () => {
    const s = testServer();
    const sha = (a: number) => params(item.enum(Tag.HashingAlgorithm, a));
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    const one = await call(s, '1.4', Operation.Hash, [
      sha(HashingAlgorithm.SHA_256),
      item.bytes(Tag.Data, hex('616263')),
    ]);
    expect(Buffer.from(one.bytes(Tag.Data)!).toString('hex')).toBe(abc);
    const a = await call(s, '1.4', Operation.Hash, [
      sha(HashingAlgorithm.SHA_256),
      item.bytes(Tag.Data, hex('61')),
      item.bool(Tag.InitIndicator, true),
    ]);
    expect(a.tags).toEqual([Tag.CorrelationValue]);
    const cv = item.bytes(Tag.CorrelationValue, a.bytes(Tag.CorrelationValue)!);
    const b = await call(s, '1.4', Operation.Hash, [
      sha(HashingAlgorithm.SHA_256),
      item.bytes(Tag.Data, hex('62')),
      cv,
    ]);
    expect(b.tags).toEqual([Tag.CorrelationValue]);
    const c = await call(s, '1.4', Operation.Hash, [
      sha(HashingAlgorithm.SHA_256),
      item.bytes(Tag.Data, hex('63')),
      cv,
      item.bool(Tag.FinalIndicator, true),
    ]);
    expect(c.tags).toEqual([Tag.Data]);
    expect(Buffer.from(c.bytes(Tag.Data)!).toString('hex')).toBe(abc);
    const sha3 = await call(s, '2.1', Operation.Hash, [
      sha(HashingAlgorithm.SHA3_256),
      item.bytes(Tag.Data, hex('616263')),
    ]);
    expect(Buffer.from(sha3.bytes(Tag.Data)!).toString('hex')).toBe(
      '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
    );
    const none = await call(s, '2.1', Operation.Hash, [item.bytes(Tag.Data, hex('61'))]);
    expect(none.reason).toBe(ResultReason.InvalidField);
    const md2 = await call(s, '2.1', Operation.Hash, [
      sha(HashingAlgorithm.MD2),
      item.bytes(Tag.Data, hex('61')),
    ]);
    expect(md2.reason).toBe(ResultReason.FeatureNotSupported);
  });

  it('returns Data Length random bytes and refuses lengths out of range', async () => {
    const s = testServer();
    const r = await call(s, '2.1', Operation.RNGRetrieve, [item.int(Tag.DataLength, 48)]);
    expect(r.bytes(Tag.Data)!.length).toBe(48);
    for (const n of [0, -1, 1 << 20]) {
      const bad = await call(s, '2.1', Operation.RNGRetrieve, [item.int(Tag.DataLength, n)]);
      expect(bad.reason).toBe(ResultReason.InvalidField);
    }
  });
});

describe('One Time Pad (KMIP 1.3+, TC-OTP-*)', () => {
  const pad = hex('fc932e1428bd');
  const otp = (extra: Partial<KeySpec> = {}): KeySpec => ({
    material: pad,
    algorithm: CryptographicAlgorithm.OneTimePad,
    length: 48,
    mask: Usage.Encrypt | Usage.Decrypt,
    ...extra,
  });

  it('Encrypt and Decrypt XOR the data with the leading pad bytes', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', otp());
    const data = hex('0102030405');
    const enc = await call(s, '1.4', Operation.Encrypt, [uidItem(uid), item.bytes(Tag.Data, data)]);
    expect(Buffer.from(enc.bytes(Tag.Data)!).toString('hex')).toBe('fd912d102d');
    const dec = await call(s, '1.4', Operation.Decrypt, [
      uidItem(uid),
      item.bytes(Tag.Data, enc.bytes(Tag.Data)!),
    ]);
    expect(Buffer.from(dec.bytes(Tag.Data)!)).toEqual(data);
  });

  it('refuses data longer than the pad, and streaming', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', otp());
    const long = await call(s, '1.4', Operation.Encrypt, [
      uidItem(uid),
      item.bytes(Tag.Data, hex('01020304050607')),
    ]);
    expect([long.reason, long.message]).toEqual([
      ResultReason.InvalidField,
      'the data (7 bytes) is longer than the pad (6 bytes)',
    ]);
    const streamed = await call(s, '1.4', Operation.Encrypt, [
      uidItem(uid),
      item.bytes(Tag.Data, hex('01')),
      item.bool(Tag.InitIndicator, true),
    ]);
    expect(streamed.reason).toBe(ResultReason.FeatureNotSupported);
  });
});
