// KMIP 2.1 §6.1.17 Derive Key (KMIP 1.4 §4.6): derived material checked against published
// vectors (KMIP Test Cases 1.4 TC-DERIVEKEY-1..5, RFC 6070 PBKDF2-HMAC-SHA1, RFC 5869 HKDF,
// NIST CAVP KBKDF counter mode) and, where none is published, against node:crypto or a naive
// second implementation; the Links, the base object's usability and the refusals.

import { createECDH, createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_ITERATION_COUNT } from '../../src/crypto/derive.js';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  DerivationMethod,
  HashingAlgorithm,
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  SecretDataType,
  Tag,
  CryptographicUsageMask as Usage,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { attributesFor, find, payloadOf, testServer } from '../helpers/kmip-test-client.js';

type Server = ReturnType<typeof testServer>;

const hex = (s: string) => Buffer.from(s, 'hex');
const NOW = () => BigInt(Math.floor(Date.now() / 1000));

async function call(s: Server, version: KmipVersion, operation: number, payload: TtlvItem[]) {
  const res = await s.send(version, [{ operation, payload }]);
  const bi = res.batchItems[0]!;
  return { status: bi.resultStatus, reason: bi.resultReason, payload: payloadOf(bi) };
}

interface Base {
  objectType: number;
  object: TtlvItem;
  mask?: number;
  active?: boolean;
}

const aes128 = (material = hex('00112233445566778899aabbccddeeff')): Base => ({
  objectType: ObjectType.SymmetricKey,
  object: item.struct(Tag.SymmetricKey, [
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
      item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, material)]),
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      item.int(Tag.CryptographicLength, material.length * 8),
    ]),
  ]),
});

const secret = (material: Uint8Array): Base => ({
  objectType: ObjectType.SecretData,
  object: item.struct(Tag.SecretData, [
    item.enum(Tag.SecretDataType, SecretDataType.Seed),
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, KeyFormatType.Opaque),
      item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, material)]),
    ]),
  ]),
});

function ecHalf(tag: number, der: Buffer, format: number): Base {
  return {
    objectType: tag === Tag.PrivateKey ? ObjectType.PrivateKey : ObjectType.PublicKey,
    object: item.struct(tag, [
      item.struct(Tag.KeyBlock, [
        item.enum(Tag.KeyFormatType, format),
        item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, der)]),
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
        item.int(Tag.CryptographicLength, 256),
      ]),
    ]),
  };
}

async function register(s: Server, version: KmipVersion, b: Base): Promise<string> {
  const attrs = [item.int(Tag.CryptographicUsageMask, b.mask ?? Usage.DeriveKey)];
  if (b.active !== false) attrs.push(item.date(Tag.ActivationDate, NOW() - 3600n));
  const r = await call(s, version, Operation.Register, [
    item.enum(Tag.ObjectType, b.objectType),
    attributesFor(version, attrs),
    b.object,
  ]);
  expect(r.status).toBe(ResultStatus.Success);
  return textOf(find(r.payload, Tag.UniqueIdentifier))!;
}

interface Derivation {
  uids: string[];
  method: number;
  params: TtlvItem[];
  objectType?: number;
  bits: number;
}

function deriveRequest(version: KmipVersion, d: Derivation): TtlvItem[] {
  const objectType = d.objectType ?? ObjectType.SymmetricKey;
  const attrs = [
    item.int(Tag.CryptographicLength, d.bits),
    item.int(Tag.CryptographicUsageMask, Usage.Encrypt | Usage.Decrypt),
  ];
  if (objectType === ObjectType.SymmetricKey) {
    attrs.unshift(item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES));
  }
  return [
    item.enum(Tag.ObjectType, objectType),
    ...d.uids.map((u) => item.text(Tag.UniqueIdentifier, u)),
    item.enum(Tag.DerivationMethod, d.method),
    item.struct(Tag.DerivationParameters, d.params),
    attributesFor(version, attrs),
  ];
}

/** Derives, then reads the new object's Key Material with Get. */
async function derived(s: Server, version: KmipVersion, d: Derivation) {
  const r = await call(s, version, Operation.DeriveKey, deriveRequest(version, d));
  expect(r.status, JSON.stringify(r.reason)).toBe(ResultStatus.Success);
  const uid = textOf(find(r.payload, Tag.UniqueIdentifier))!;
  const got = await call(s, version, Operation.Get, [item.text(Tag.UniqueIdentifier, uid)]);
  const tag = d.objectType === ObjectType.SecretData ? Tag.SecretData : Tag.SymmetricKey;
  const block = childOf(find(got.payload, tag), Tag.KeyBlock);
  const material = bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial));
  return { uid, hex: Buffer.from(material ?? []).toString('hex'), block };
}

async function refused(s: Server, version: KmipVersion, d: Derivation) {
  const r = await call(s, version, Operation.DeriveKey, deriveRequest(version, d));
  expect(r.status).toBe(ResultStatus.OperationFailed);
  return r.reason;
}

const sha = (alg: number) =>
  item.struct(Tag.CryptographicParameters, [item.enum(Tag.HashingAlgorithm, alg)]);
const PASSWORD = Buffer.from('password');
const SALT = item.bytes(Tag.Salt, Buffer.from('salt'));

describe.each(['1.0', '1.4', '2.1'] as KmipVersion[])(
  'Derive Key vectors at KMIP %s (TC-DERIVEKEY-1..5)',
  (version) => {
    it('HASH: SHA-256 of the base key, truncated to the length (TC-DERIVEKEY-1)', async () => {
      const s = testServer();
      const uid = await register(s, version, aes128());
      const d = await derived(s, version, {
        uids: [uid],
        method: DerivationMethod.HASH,
        params: [sha(HashingAlgorithm.SHA_256)],
        bits: 128,
      });
      expect(d.hex).toBe('a8faed6abbf35c12a4b26e40f6feb19d');
      expect(numberOf(childOf(d.block, Tag.CryptographicAlgorithm))).toBe(
        CryptographicAlgorithm.AES,
      );
      expect(numberOf(childOf(d.block, Tag.CryptographicLength))).toBe(128);
    });

    it('HMAC: HMAC-SHA-256 over the Derivation Data (TC-DERIVEKEY-2)', async () => {
      const s = testServer();
      const uid = await register(s, version, aes128());
      const d = await derived(s, version, {
        uids: [uid],
        method: DerivationMethod.HMAC,
        params: [sha(HashingAlgorithm.SHA_256), item.bytes(Tag.DerivationData, hex('0102'))],
        bits: 128,
      });
      expect(d.hex).toBe('1e15c1f1da233629f770fb0a04a5020e');
    });

    it('PBKDF2 defaults to HMAC-SHA-1 (TC-DERIVEKEY-3/4, RFC 6070 §2)', async () => {
      const s = testServer();
      const uid = await register(s, version, secret(PASSWORD));
      const pbkdf2 = (count: number) =>
        derived(s, version, {
          uids: [uid],
          method: DerivationMethod.PBKDF2,
          params: [SALT, item.int(Tag.IterationCount, count)],
          bits: 128,
        });
      expect((await pbkdf2(1)).hex).toBe('0c60c80f961f0e71f3a9b524af601206');
      expect((await pbkdf2(4096)).hex).toBe('4b007901b765489abead49d926f721d0');
    });

    it('PBKDF2 with SHA-256 from the Cryptographic Parameters (TC-DERIVEKEY-5)', async () => {
      const s = testServer();
      const uid = await register(s, version, secret(PASSWORD));
      const d = await derived(s, version, {
        uids: [uid],
        method: DerivationMethod.PBKDF2,
        params: [sha(HashingAlgorithm.SHA_256), SALT, item.int(Tag.IterationCount, 4096)],
        bits: 256,
      });
      expect(d.hex).toBe('c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a');
    });
  },
);

describe('Derive Key: the other methods', () => {
  it('NIST800-108-C: the CAVP KBKDF counter-mode vector (HMAC-SHA-256, counter before)', async () => {
    const s = testServer();
    const uid = await register(
      s,
      '1.4',
      secret(hex('dd1d91b7d90b2bd3138533ce92b272fbf8a369316aefe242e659cc0ae238afe0')),
    );
    const fixed = hex(
      '01322b96b30acd197979444e468e1c5c6859bf1b1cf951b7e725303e237e46b864a145fab25e517b08f8683d0315bb2911d80a0e8aba17f3b413faac',
    );
    const d = await derived(s, '1.4', {
      uids: [uid],
      method: DerivationMethod.NIST800_108_C,
      params: [sha(HashingAlgorithm.SHA_256), item.bytes(Tag.DerivationData, fixed)],
      bits: 128,
    });
    expect(d.hex).toBe('10621342bfb0fd40046c0e29f2cfdbf0');
  });

  it('NIST800-108-C over two PRF blocks matches pyca/cryptography KBKDFHMAC', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', secret(hex('00112233445566778899aabbccddeeff')));
    const d = await derived(s, '1.4', {
      uids: [uid],
      method: DerivationMethod.NIST800_108_C,
      params: [sha(HashingAlgorithm.SHA_256), item.bytes(Tag.DerivationData, hex('0102030405'))],
      objectType: ObjectType.SecretData,
      bits: 384,
    });
    expect(d.hex).toBe(
      '96be34b2cd40fe64d99a827d27a332f3f1a64c497896480e81dd8d6bebb3bb08ade11db09a138b3f104974a8db783809',
    );
  });

  it('NIST800-108-F and -DPI follow SP 800-108 §4.2 and §4.3', async () => {
    const s = testServer();
    const key = hex('00112233445566778899aabbccddeeff');
    const fixed = hex('a1a2a3');
    const iv = hex('0f0e0d0c');
    const uid = await register(s, '1.4', secret(key));
    const hmac = (...parts: Buffer[]) => {
      const h = createHmac('sha256', key);
      for (const p of parts) h.update(p);
      return h.digest();
    };
    const ctr = (i: number) => Buffer.from([0, 0, 0, i]);
    const k1 = hmac(iv, ctr(1), fixed);
    const feedback = Buffer.concat([k1, hmac(k1, ctr(2), fixed)]).subarray(0, 40);
    const a1 = hmac(fixed);
    const a2 = hmac(a1);
    const pipeline = Buffer.concat([hmac(a1, ctr(1), fixed), hmac(a2, ctr(2), fixed)]).subarray(
      0,
      40,
    );
    const run = (method: number, extra: TtlvItem[]) =>
      derived(s, '1.4', {
        uids: [uid],
        method,
        params: [sha(HashingAlgorithm.SHA_256), item.bytes(Tag.DerivationData, fixed), ...extra],
        objectType: ObjectType.SecretData,
        bits: 320,
      });
    const f = await run(DerivationMethod.NIST800_108_F, [item.bytes(Tag.InitializationVector, iv)]);
    expect(f.hex).toBe(feedback.toString('hex'));
    expect((await run(DerivationMethod.NIST800_108_DPI, [])).hex).toBe(pipeline.toString('hex'));
  });

  it('HKDF (KMIP 2.x): RFC 5869 Appendix A.1', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', secret(Buffer.alloc(22, 0x0b)));
    const d = await derived(s, '2.1', {
      uids: [uid],
      method: DerivationMethod.HKDF,
      params: [
        sha(HashingAlgorithm.SHA_256),
        item.bytes(Tag.DerivationData, hex('f0f1f2f3f4f5f6f7f8f9')),
        item.bytes(Tag.Salt, hex('000102030405060708090a0b0c')),
      ],
      objectType: ObjectType.SecretData,
      bits: 336,
    });
    expect(d.hex).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('ENCRYPT: the Derivation Data under the base key (AES-128 ECB, FIPS 197 C.1)', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', aes128(hex('000102030405060708090a0b0c0d0e0f')));
    const d = await derived(s, '1.4', {
      uids: [uid],
      method: DerivationMethod.ENCRYPT,
      params: [
        item.struct(Tag.CryptographicParameters, [item.enum(Tag.BlockCipherMode, 1 /* CBC */)]),
        item.bytes(Tag.InitializationVector, Buffer.alloc(16)),
        item.bytes(Tag.DerivationData, hex('00112233445566778899aabbccddeeff')),
      ],
      bits: 128,
    });
    // CBC with a zero IV over one block is the bare AES block: FIPS 197 Appendix C.1.
    expect(d.hex).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
  });

  it('Asymmetric Key (KMIP 1.4+): ECDH between a private key and the peer public key', async () => {
    const s = testServer();
    const a = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const b = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const priv = await register(
      s,
      '1.4',
      ecHalf(
        Tag.PrivateKey,
        a.privateKey.export({ format: 'der', type: 'pkcs8' }),
        KeyFormatType.PKCS_8,
      ),
    );
    const pub = await register(
      s,
      '1.4',
      ecHalf(
        Tag.PublicKey,
        b.publicKey.export({ format: 'der', type: 'spki' }),
        KeyFormatType.X_509,
      ),
    );
    const d = await derived(s, '1.4', {
      uids: [priv, pub],
      method: DerivationMethod.AsymmetricKey,
      params: [],
      bits: 256,
    });
    // Independent oracle: the legacy ECDH API over the raw scalar and point.
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(b.privateKey.export({ format: 'jwk' }).d!, 'base64url'));
    const jwk = a.publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
    expect(d.hex).toBe(ecdh.computeSecret(point).toString('hex'));
  });

  it('links the new object to its base and the base to the new object', async () => {
    const s = testServer();
    const base = await register(s, '2.1', aes128());
    const d = await derived(s, '2.1', {
      uids: [base],
      method: DerivationMethod.HASH,
      params: [sha(HashingAlgorithm.SHA_256)],
      bits: 128,
    });
    const links = async (uid: string) => {
      const r = await call(s, '2.1', Operation.GetAttributes, [
        item.text(Tag.UniqueIdentifier, uid),
      ]);
      const all = find(r.payload, Tag.Attributes);
      return (all?.type === ItemType.Structure ? all.value : [])
        .filter((a) => a.tag === Tag.Link)
        .map((l) => [
          numberOf(childOf(l, Tag.LinkType)),
          textOf(childOf(l, Tag.LinkedObjectIdentifier)),
        ]);
    };
    expect(await links(d.uid)).toEqual([[LinkType.DerivationBaseObjectLink, base]]);
    expect(await links(base)).toEqual([[LinkType.DerivedKeyLink, d.uid]]);
  });
});

describe('Derive Key refusals', () => {
  const hash = (uid: string, bits = 128): Derivation => ({
    uids: [uid],
    method: DerivationMethod.HASH,
    params: [sha(HashingAlgorithm.SHA_256)],
    bits,
  });

  it('needs Derive Key in the base object’s usage mask, with the version’s reason', async () => {
    const s = testServer();
    for (const [version, reason] of [
      ['1.4', ResultReason.PermissionDenied],
      ['2.1', ResultReason.IncompatibleCryptographicUsageMask],
    ] as const) {
      const uid = await register(s, version, { ...aes128(), mask: Usage.Encrypt });
      expect(await refused(s, version, hash(uid))).toBe(reason);
    }
  });

  it('needs an Active base object', async () => {
    const s = testServer();
    const uid = await register(s, '2.1', { ...aes128(), active: false });
    expect(await refused(s, '2.1', hash(uid))).toBe(ResultReason.WrongKeyLifecycleState);
  });

  it('refuses a length the method cannot give, or the algorithm does not have', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', aes128());
    // HASH with SHA-256 gives at most 256 bits; AES has no 100-bit keys.
    expect(await refused(s, '1.4', { ...hash(uid, 512), objectType: ObjectType.SecretData })).toBe(
      ResultReason.InvalidField,
    );
    expect(await refused(s, '1.4', hash(uid, 100))).toBe(ResultReason.InvalidField);
  });

  it('refuses HMAC without Derivation Data and PBKDF2 without Salt or Iteration Count', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', secret(PASSWORD));
    const base = { uids: [uid], bits: 128 };
    expect(
      await refused(s, '1.4', {
        ...base,
        method: DerivationMethod.HMAC,
        params: [sha(HashingAlgorithm.SHA_256)],
      }),
    ).toBe(ResultReason.InvalidField);
    expect(
      await refused(s, '1.4', { ...base, method: DerivationMethod.PBKDF2, params: [SALT] }),
    ).toBe(ResultReason.InvalidField);
  });

  it('caps the PBKDF2 Iteration Count (CPU exhaustion)', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', secret(PASSWORD));
    expect(
      await refused(s, '1.4', {
        uids: [uid],
        method: DerivationMethod.PBKDF2,
        params: [SALT, item.int(Tag.IterationCount, MAX_ITERATION_COUNT + 1)],
        bits: 128,
      }),
    ).toBe(ResultReason.InvalidField);
  });

  it('refuses HKDF before KMIP 2.0, where the method does not exist', async () => {
    const s = testServer();
    const uid = await register(s, '1.4', secret(PASSWORD));
    const r = await call(
      s,
      '1.4',
      Operation.DeriveKey,
      deriveRequest('1.4', {
        uids: [uid],
        method: DerivationMethod.HKDF,
        params: [sha(HashingAlgorithm.SHA_256), SALT],
        bits: 128,
      }),
    );
    expect(r.status).toBe(ResultStatus.OperationFailed);
  });

  it('never puts key material in the Result Message', async () => {
    const s = testServer();
    const material = hex('00112233445566778899aabbccddeeff');
    const uid = await register(s, '1.4', { ...aes128(material), mask: Usage.Encrypt });
    const res = await s.send('1.4', [
      { operation: Operation.DeriveKey, payload: deriveRequest('1.4', hash(uid)) },
    ]);
    const message = res.batchItems[0]?.resultMessage ?? '';
    expect(message).not.toContain(material.toString('hex'));
    expect(message).not.toContain(material.toString('base64'));
  });
});
