// Key wrapping on Get and unwrapping on Register (KMIP 2.1 §2.1.5 Key Wrapping Data, §2.1.6
// Key Wrapping Specification, §6.1.23 Get, §6.1.44 Register). Expected wrapped bytes come from
// RFC 3394 §4.1 and RFC 5649 §6; other outputs are opened with node:crypto as an independent
// oracle.

import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHmac,
  generateKeyPairSync,
  privateDecrypt,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf } from '../../src/kmip/items.js';
import { decodeTtlv } from '../../src/ttlv/binary.js';
import type { StructureItem, TtlvItem } from '../../src/ttlv/item.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  EncodingOption,
  HashingAlgorithm,
  KeyFormatType,
  KeyWrapType,
  LinkType,
  ObjectType,
  Operation,
  PaddingMethod,
  ResultReason,
  ResultStatus,
  Tag,
  CryptographicUsageMask as Usage,
  WrappingMethod,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';
import {
  type KeySpec,
  registerKey as register,
  registerKeyRaw as registerRaw,
} from '../helpers/register-key.js';

type Server = ReturnType<typeof testServer>;

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const _NOW = () => BigInt(Math.floor(Date.now() / 1000));
const params = (...children: TtlvItem[]) => item.struct(Tag.CryptographicParameters, children);
const mode = (m: number) => params(item.enum(Tag.BlockCipherMode, m));

// RFC 3394 §4.1: 128 bits of key data wrapped with a 128-bit KEK.
const KW_KEK = hex('000102030405060708090a0b0c0d0e0f');
const KW_KEY = hex('00112233445566778899aabbccddeeff');
const KW_WRAPPED = hex('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5');
// RFC 5649 §6: 20 octets of key data wrapped with a 192-bit KEK.
const KWP_KEK = hex('5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8');
const KWP_KEY = hex('c37b7e6492584340 bed1220780894115 5068f738');
const KWP_WRAPPED = hex('138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a');

function kek(material: Buffer, extra: Partial<KeySpec> = {}): KeySpec {
  return {
    material,
    algorithm: CryptographicAlgorithm.AES,
    length: material.length * 8,
    mask: Usage.WrapKey | Usage.UnwrapKey,
    ...extra,
  };
}

const dataKey = (material: Buffer, extra: Partial<KeySpec> = {}): KeySpec => ({
  material,
  algorithm: CryptographicAlgorithm.AES,
  length: material.length * 8,
  mask: Usage.Encrypt | Usage.Decrypt,
  ...extra,
});

function keyInfo(tag: number, uid: string, p?: TtlvItem): StructureItem {
  return item.struct(tag, [item.text(Tag.UniqueIdentifier, uid), ...(p === undefined ? [] : [p])]);
}

function specification(
  method: number,
  opts: {
    enc?: [string, TtlvItem?];
    mac?: [string, TtlvItem?];
    encoding?: number;
    names?: string[];
  },
): StructureItem {
  const children: TtlvItem[] = [item.enum(Tag.WrappingMethod, method)];
  if (opts.enc) children.push(keyInfo(Tag.EncryptionKeyInformation, opts.enc[0], opts.enc[1]));
  if (opts.mac) children.push(keyInfo(Tag.MACSignatureKeyInformation, opts.mac[0], opts.mac[1]));
  for (const n of opts.names ?? []) children.push(item.text(Tag.AttributeName, n));
  if (opts.encoding !== undefined) children.push(item.enum(Tag.EncodingOption, opts.encoding));
  return item.struct(Tag.KeyWrappingSpecification, children);
}

async function get(
  s: Server,
  version: KmipVersion,
  uid: string,
  extra: TtlvItem[] = [],
  identity = 'alice',
) {
  const res = await s.send(
    version,
    [{ operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, uid), ...extra] }],
    { identity },
  );
  const bi = res.batchItems[0]!;
  const object = payloadOf(bi).find(
    (i) => i.tag !== Tag.ObjectType && i.tag !== Tag.UniqueIdentifier,
  );
  const block = childOf(object, Tag.KeyBlock) as StructureItem | undefined;
  return {
    status: bi.resultStatus,
    reason: bi.resultReason,
    message: bi.resultMessage ?? '',
    block,
    keyValue: childOf(block, Tag.KeyValue),
    material: bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial)),
    kwd: childOf(block, Tag.KeyWrappingData) as StructureItem | undefined,
  };
}

const wrapWith = (spec: StructureItem) => [spec];

/** The HMAC-SHA1 key of the RFC 5649 §6 example, the target of the padded key-wrap cases. */
const KWP_TARGET = {
  material: KWP_KEY,
  algorithm: CryptographicAlgorithm.HMAC_SHA1,
  length: 160,
  mask: Usage.MACGenerate,
};

describe.each(['1.4', '2.1'] as KmipVersion[])(
  'Get with a Key Wrapping Specification at KMIP %s',
  (version) => {
    const wrongState =
      version === '2.1' ? ResultReason.WrongKeyLifecycleState : ResultReason.PermissionDenied;
    const wrongMask =
      version === '2.1'
        ? ResultReason.IncompatibleCryptographicUsageMask
        : ResultReason.PermissionDenied;
    const notFound = version === '2.1' ? ResultReason.ObjectNotFound : ResultReason.ItemNotFound;

    it('wraps with AES key wrap (RFC 3394 §4.1) and echoes the specification as Key Wrapping Data', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK));
      const uid = await register(s, version, dataKey(KW_KEY));
      const spec = specification(WrappingMethod.Encrypt, {
        enc: [k, mode(BlockCipherMode.NISTKeyWrap)],
        encoding: EncodingOption.NoEncoding,
      });
      const r = await get(s, version, uid, wrapWith(spec));
      expect(r.status, r.message).toBe(ResultStatus.Success);
      // §2.1.3: a wrapped Key Value is a Byte String.
      expect(Buffer.from(bytesOf(r.keyValue)!)).toEqual(KW_WRAPPED);
      expect(r.kwd?.value).toEqual(spec.value);
      expect(numberOf(childOf(r.block, Tag.CryptographicAlgorithm))).toBe(
        CryptographicAlgorithm.AES,
      );
    });

    it('uses the Cryptographic Parameters of the wrapping key when the request names none', async () => {
      const s = testServer();
      const k = await register(
        s,
        version,
        kek(KWP_KEK, { extra: [mode(BlockCipherMode.AESKeyWrapPadding)] }),
      );
      const uid = await register(s, version, KWP_TARGET);
      const r = await get(
        s,
        version,
        uid,
        wrapWith(
          specification(WrappingMethod.Encrypt, { enc: [k], encoding: EncodingOption.NoEncoding }),
        ),
      );
      expect(r.status, r.message).toBe(ResultStatus.Success);
      expect(Buffer.from(bytesOf(r.keyValue)!)).toEqual(KWP_WRAPPED);
    });

    it('wraps with AES key wrap with padding (RFC 5649 §6)', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KWP_KEK));
      const uid = await register(s, version, KWP_TARGET);
      const r = await get(
        s,
        version,
        uid,
        wrapWith(
          specification(WrappingMethod.Encrypt, {
            enc: [k, mode(BlockCipherMode.AESKeyWrapPadding)],
            encoding: EncodingOption.NoEncoding,
          }),
        ),
      );
      expect(r.status, r.message).toBe(ResultStatus.Success);
      expect(Buffer.from(bytesOf(r.keyValue)!)).toEqual(KWP_WRAPPED);
    });

    it('refuses NIST key wrap of a length that is not a multiple of 8 bytes', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KWP_KEK));
      const uid = await register(s, version, KWP_TARGET);
      const r = await get(
        s,
        version,
        uid,
        wrapWith(
          specification(WrappingMethod.Encrypt, {
            enc: [k, mode(BlockCipherMode.NISTKeyWrap)],
            encoding: EncodingOption.NoEncoding,
          }),
        ),
      );
      expect(r.status).toBe(ResultStatus.OperationFailed);
      expect(r.reason).toBe(ResultReason.InvalidField);
    });

    it('wraps the TTLV-encoded Key Value by default (§2.1.5), here with AES-GCM', async () => {
      const s = testServer();
      const kekBytes = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
      const k = await register(s, version, kek(kekBytes));
      const uid = await register(s, version, dataKey(KW_KEY));
      const r = await get(
        s,
        version,
        uid,
        wrapWith(specification(WrappingMethod.Encrypt, { enc: [k, mode(BlockCipherMode.GCM)] })),
      );
      expect(r.status, r.message).toBe(ResultStatus.Success);
      const iv = bytesOf(childOf(r.kwd, Tag.IVCounterNonce))!;
      expect(iv).toHaveLength(12);
      expect(childOf(r.kwd, Tag.EncodingOption)).toBeUndefined();
      const wrapped = Buffer.from(bytesOf(r.keyValue)!);
      const d = createDecipheriv('aes-256-gcm', kekBytes, iv);
      d.setAuthTag(wrapped.subarray(wrapped.length - 16));
      const plain = Buffer.concat([d.update(wrapped.subarray(0, wrapped.length - 16)), d.final()]);
      const value = decodeTtlv(plain);
      expect(value.tag).toBe(Tag.KeyValue);
      expect(Buffer.from(bytesOf(childOf(value, Tag.KeyMaterial))!)).toEqual(KW_KEY);
    });

    it('wraps named attributes inside the TTLV-encoded Key Value, and refuses them with No Encoding', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK));
      const uid = await register(s, version, dataKey(KW_KEY));
      const name = version === '2.1' ? 'CryptographicUsageMask' : 'Cryptographic Usage Mask';
      const ok = await get(
        s,
        version,
        uid,
        wrapWith(specification(WrappingMethod.Encrypt, { enc: [k], names: [name] })),
      );
      expect(ok.status, ok.message).toBe(ResultStatus.Success);
      const d = createDecipheriv('id-aes128-wrap', KW_KEK, hex('a6a6a6a6a6a6a6a6'));
      const value = decodeTtlv(Buffer.concat([d.update(bytesOf(ok.keyValue)!), d.final()]));
      const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
      expect(text).toContain(String(Usage.Encrypt | Usage.Decrypt));
      expect(childOf(ok.kwd, Tag.AttributeName)).toBeUndefined();
      const bad = await get(
        s,
        version,
        uid,
        wrapWith(
          specification(WrappingMethod.Encrypt, {
            enc: [k],
            names: [name],
            encoding: EncodingOption.NoEncoding,
          }),
        ),
      );
      expect(bad.status).toBe(ResultStatus.OperationFailed);
      expect(bad.reason).toBe(ResultReason.EncodingOptionError);
    });

    it('wraps with RSA-OAEP (SHA-256) under a Public Key', async () => {
      const s = testServer();
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
      const pub = await register(s, version, {
        objectType: ObjectType.PublicKey,
        format: KeyFormatType.X_509,
        material: spki,
        algorithm: CryptographicAlgorithm.RSA,
        length: 2048,
        mask: Usage.WrapKey,
      });
      const uid = await register(s, version, dataKey(KW_KEY));
      const p = params(
        item.enum(Tag.PaddingMethod, PaddingMethod.OAEP),
        item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
        item.enum(Tag.MaskGeneratorHashingAlgorithm, HashingAlgorithm.SHA_256),
      );
      const r = await get(
        s,
        version,
        uid,
        wrapWith(
          specification(WrappingMethod.Encrypt, {
            enc: [pub, p],
            encoding: EncodingOption.NoEncoding,
          }),
        ),
      );
      expect(r.status, r.message).toBe(ResultStatus.Success);
      const plain = privateDecrypt(
        { key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        bytesOf(r.keyValue)!,
      );
      expect(plain).toEqual(KW_KEY);
    });

    it('wraps with Encrypt-then-MAC/sign: AES key wrap, then HMAC over the wrapped bytes', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK));
      const macBytes = hex('0b'.repeat(32));
      const m = await register(s, version, {
        material: macBytes,
        algorithm: CryptographicAlgorithm.HMAC_SHA256,
        length: 256,
        mask: Usage.MACGenerate | Usage.MACVerify,
      });
      const uid = await register(s, version, dataKey(KW_KEY));
      const r = await get(
        s,
        version,
        uid,
        wrapWith(
          specification(WrappingMethod.EncryptThenMACSign, {
            enc: [k],
            mac: [m],
            encoding: EncodingOption.NoEncoding,
          }),
        ),
      );
      expect(r.status, r.message).toBe(ResultStatus.Success);
      expect(Buffer.from(bytesOf(r.keyValue)!)).toEqual(KW_WRAPPED);
      const mac = bytesOf(childOf(r.kwd, Tag.MACSignature))!;
      expect(Buffer.from(mac)).toEqual(createHmac('sha256', macBytes).update(KW_WRAPPED).digest());
      // The same block registered back unwraps after the MAC checks out.
      const back = await register(s, version, { ...dataKey(KW_KEY), block: r.block });
      const clear = await get(s, version, back, [
        item.enum(Tag.KeyWrapType, KeyWrapType.NotWrapped),
      ]);
      expect(Buffer.from(clear.material!)).toEqual(KW_KEY);
      // A changed MAC is refused.
      const forged = structuredClone(r.block!) as StructureItem;
      const kwd = childOf(forged, Tag.KeyWrappingData) as StructureItem;
      const sig = kwd.value.find((c) => c.tag === Tag.MACSignature)!;
      (sig.value as Uint8Array)[0]! ^= 1;
      const bad = await registerRaw(s, version, { ...dataKey(KW_KEY), block: forged });
      expect(bad.reason).toBe(ResultReason.CryptographicFailure);
    });

    it('refuses a wrapping key without Wrap Key in its mask, or not Active, with the version’s reason', async () => {
      const s = testServer();
      const uid = await register(s, version, dataKey(KW_KEY));
      const noMask = await register(s, version, kek(KW_KEK, { mask: Usage.Encrypt }));
      const preActive = await register(s, version, kek(KW_KEK, { active: false }));
      const a = await get(
        s,
        version,
        uid,
        wrapWith(specification(WrappingMethod.Encrypt, { enc: [noMask] })),
      );
      expect([a.status, a.reason]).toEqual([ResultStatus.OperationFailed, wrongMask]);
      const b = await get(
        s,
        version,
        uid,
        wrapWith(specification(WrappingMethod.Encrypt, { enc: [preActive] })),
      );
      expect([b.status, b.reason]).toEqual([ResultStatus.OperationFailed, wrongState]);
    });

    it('does not wrap with another identity’s key', async () => {
      const s = testServer();
      const theirs = await register(s, version, kek(KW_KEK), 'bob');
      const uid = await register(s, version, dataKey(KW_KEY));
      const r = await get(
        s,
        version,
        uid,
        wrapWith(specification(WrappingMethod.Encrypt, { enc: [theirs] })),
      );
      expect([r.status, r.reason]).toEqual([ResultStatus.OperationFailed, notFound]);
    });

    it('gives a Sensitive key out wrapped only; never a non-extractable one', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK));
      const sensitive = await register(
        s,
        version,
        dataKey(KW_KEY, { extra: [item.bool(Tag.Sensitive, true)] }),
      );
      const locked = await register(
        s,
        version,
        dataKey(KW_KEY, { extra: [item.bool(Tag.Extractable, false)] }),
      );
      const spec = specification(WrappingMethod.Encrypt, {
        enc: [k],
        encoding: EncodingOption.NoEncoding,
      });
      expect((await get(s, version, sensitive)).reason).toBe(ResultReason.Sensitive);
      const wrapped = await get(s, version, sensitive, wrapWith(spec));
      expect(Buffer.from(bytesOf(wrapped.keyValue)!)).toEqual(KW_WRAPPED);
      expect((await get(s, version, locked, wrapWith(spec))).reason).toBe(
        ResultReason.NotExtractable,
      );
    });

    it('refuses an unsupported Wrapping Method and never names key bytes in a failure', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK));
      const uid = await register(s, version, dataKey(KW_KEY));
      const r = await get(
        s,
        version,
        uid,
        wrapWith(specification(WrappingMethod.TR_31, { enc: [k] })),
      );
      expect([r.status, r.reason]).toEqual([
        ResultStatus.OperationFailed,
        ResultReason.FeatureNotSupported,
      ]);
      for (const secret of [KW_KEY, KW_KEK]) {
        expect(r.message.toLowerCase()).not.toContain(secret.toString('hex'));
      }
    });
  },
);

describe.each(['1.4', '2.1'] as KmipVersion[])(
  'Register of a wrapped Key Block at KMIP %s',
  (version) => {
    const wrappedBlock = (kekUid: string, value: TtlvItem = item.bytes(Tag.KeyValue, KW_WRAPPED)) =>
      item.struct(Tag.KeyBlock, [
        item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
        value,
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 128),
        item.struct(Tag.KeyWrappingData, [
          item.enum(Tag.WrappingMethod, WrappingMethod.Encrypt),
          keyInfo(Tag.EncryptionKeyInformation, kekUid, mode(BlockCipherMode.NISTKeyWrap)),
          item.enum(Tag.EncodingOption, EncodingOption.NoEncoding),
        ]),
      ]);

    it('unwraps with a managed key: Get gives it in clear, As Registered gives the block as sent, and it encrypts', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK, { mask: Usage.WrapKey }));
      const block = wrappedBlock(k);
      const uid = await register(s, version, { ...dataKey(KW_KEY), block });
      const clear = await get(s, version, uid);
      expect(clear.status, clear.message).toBe(ResultStatus.Success);
      expect(Buffer.from(clear.material!)).toEqual(KW_KEY);
      expect(clear.kwd).toBeUndefined();
      const asRegistered = await get(s, version, uid, [
        item.enum(Tag.KeyWrapType, KeyWrapType.AsRegistered),
      ]);
      expect(asRegistered.block).toEqual(block);
      // The key is usable: AES-ECB of the RFC 3394 key data under itself, checked with node:crypto.
      const res = await s.send(version, [
        {
          operation: Operation.Encrypt,
          payload: [
            item.text(Tag.UniqueIdentifier, uid),
            mode(BlockCipherMode.ECB),
            item.bytes(Tag.Data, KW_KEK),
          ],
        },
      ]);
      const data = bytesOf(find(payloadOf(res.batchItems[0]), Tag.Data));
      const c = createCipheriv('aes-128-ecb', KW_KEY, null).setAutoPadding(false);
      expect(Buffer.from(data!)).toEqual(Buffer.concat([c.update(KW_KEK), c.final()]));
    });

    it('accepts the wrapped bytes as Key Material, as the 1.4 Test Cases write them (TC-WRAP-2)', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK, { mask: Usage.WrapKey }));
      const uid = await register(s, version, {
        ...dataKey(KW_KEY),
        block: wrappedBlock(
          k,
          item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, KW_WRAPPED)]),
        ),
      });
      const r = await get(s, version, uid, [item.enum(Tag.KeyWrapType, KeyWrapType.NotWrapped)]);
      expect(Buffer.from(r.material!)).toEqual(KW_KEY);
    });

    it('keeps the block as given when the wrapping key is not managed here', async () => {
      const s = testServer();
      const block = wrappedBlock('no-such-key');
      const uid = await register(s, version, { ...dataKey(KW_KEY), block });
      const r = await get(s, version, uid);
      expect(r.status, r.message).toBe(ResultStatus.Success);
      expect(r.block).toEqual(block);
      const clear = await get(s, version, uid, [
        item.enum(Tag.KeyWrapType, KeyWrapType.NotWrapped),
      ]);
      expect(clear.status).toBe(ResultStatus.OperationFailed);
    });

    it('keeps the block as given when the wrapping key may not unwrap', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK, { mask: Usage.Encrypt }));
      const block = wrappedBlock(k);
      const uid = await register(s, version, { ...dataKey(KW_KEY), block });
      expect((await get(s, version, uid)).block).toEqual(block);
    });

    it('refuses a block that the managed wrapping key fails to unwrap', async () => {
      const s = testServer();
      const k = await register(s, version, kek(KW_KEK));
      const tampered = Buffer.from(KW_WRAPPED);
      tampered[3]! ^= 0x80;
      const r = await registerRaw(s, version, {
        ...dataKey(KW_KEY),
        block: wrappedBlock(k, item.bytes(Tag.KeyValue, tampered)),
      });
      expect([r.status, r.reason]).toEqual([
        ResultStatus.OperationFailed,
        ResultReason.CryptographicFailure,
      ]);
    });

    it('re-wraps under another key on Get', async () => {
      const s = testServer();
      const k1 = await register(s, version, kek(KW_KEK));
      const k2 = await register(s, version, kek(KWP_KEK));
      const uid = await register(s, version, { ...dataKey(KW_KEY), block: wrappedBlock(k1) });
      const r = await get(
        s,
        version,
        uid,
        wrapWith(
          specification(WrappingMethod.Encrypt, {
            enc: [k2, mode(BlockCipherMode.AESKeyWrapPadding)],
            encoding: EncodingOption.NoEncoding,
          }),
        ),
      );
      expect(r.status, r.message).toBe(ResultStatus.Success);
      const d = createDecipheriv('id-aes192-wrap-pad', KWP_KEK, hex('a65959a6'));
      expect(Buffer.concat([d.update(bytesOf(r.keyValue)!), d.final()])).toEqual(KW_KEY);
    });

    it('unwraps RSA-OAEP with the Private Key linked to the named Public Key', async () => {
      const s = testServer();
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const priv = await register(s, version, {
        objectType: ObjectType.PrivateKey,
        format: KeyFormatType.PKCS_8,
        material: pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
        algorithm: CryptographicAlgorithm.RSA,
        length: 2048,
        mask: Usage.UnwrapKey,
      });
      const pub = await register(s, version, {
        objectType: ObjectType.PublicKey,
        format: KeyFormatType.X_509,
        material: pair.publicKey.export({ type: 'spki', format: 'der' }),
        algorithm: CryptographicAlgorithm.RSA,
        length: 2048,
        mask: Usage.WrapKey,
        extra: [
          item.struct(Tag.Link, [
            item.enum(Tag.LinkType, LinkType.PrivateKeyLink),
            item.text(Tag.LinkedObjectIdentifier, priv),
          ]),
        ],
      });
      const uid = await register(s, version, dataKey(KW_KEY));
      const wrapped = await get(
        s,
        version,
        uid,
        wrapWith(specification(WrappingMethod.Encrypt, { enc: [pub] })),
      );
      expect(wrapped.status, wrapped.message).toBe(ResultStatus.Success);
      const back = await register(s, version, { ...dataKey(KW_KEY), block: wrapped.block });
      const clear = await get(s, version, back);
      expect(Buffer.from(clear.material!)).toEqual(KW_KEY);
    });
  },
);
