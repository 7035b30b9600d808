// KMIP 2.1 §4.46 Random Number Generator: a Create, Create Key Pair, Derive Key, Re-key or
// Re-key Key Pair that names generators gets key material from one of them, recorded on the
// new object; one kmipd lacks fails the request. Query RNGs (§6.1.40, §7.36) lists what there
// is. RNG Retrieve (§6.1.49) names none and uses the default. Through the message layer, with
// the generators' draws watched to show whose bytes became the key.

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesOf, childOf, item, textOf } from '../../src/kmip/items.js';
import { DEFAULT_GENERATOR, GENERATORS } from '../../src/objects/random-generators.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  DerivationMethod,
  DRBGAlgorithm,
  HashingAlgorithm,
  ObjectType,
  Operation,
  QueryFunction,
  RecommendedCurve,
  ResultReason,
  ResultStatus,
  RNGAlgorithm,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import {
  attributesFor,
  find,
  oneItemCalls,
  payloadOf,
  testServer,
} from '../helpers/kmip-test-client.js';

const s = testServer();
const { call, succeeded } = oneItemCalls(s);

const [OPENSSL, HMAC_SHA256, HMAC_SHA1, HASH_SHA256] = GENERATORS;

/** The RNG Parameters entries of TC-Q-RNGS-4-14, as a client would name them. */
const rng = (...fields: TtlvItem[]) => item.struct(Tag.RandomNumberGenerator, fields);
const DRBG = item.enum(Tag.RNGAlgorithm, RNGAlgorithm.DRBG);
const PR = item.bool(Tag.PredictionResistance, true);
const ASK_HMAC_SHA256 = rng(
  DRBG,
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256),
  item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.HMAC),
  PR,
);
const ASK_HMAC_SHA1 = rng(
  DRBG,
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA1),
  item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.HMAC),
  PR,
);
const ASK_CTR = rng(
  DRBG,
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
  item.int(Tag.CryptographicLength, 256),
  item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.CTR),
);
const ASK_HASH_SHA256 = rng(
  DRBG,
  item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
  item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.Hash),
  PR,
);

const fieldsOf = (i: TtlvItem | undefined) =>
  (i?.type === ItemType.Structure ? i.value : []).map((c) => [c.tag, c.value]);

/** The RNG Parameters fields kmipd writes for each generator, in the spec's order. */
const EXPECTED = [
  [
    [Tag.RNGAlgorithm, RNGAlgorithm.DRBG],
    [Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES],
    [Tag.CryptographicLength, 256],
    [Tag.DRBGAlgorithm, DRBGAlgorithm.CTR],
  ],
  [
    [Tag.RNGAlgorithm, RNGAlgorithm.DRBG],
    [Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256],
    [Tag.DRBGAlgorithm, DRBGAlgorithm.HMAC],
    [Tag.PredictionResistance, true],
  ],
  [
    [Tag.RNGAlgorithm, RNGAlgorithm.DRBG],
    [Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA1],
    [Tag.DRBGAlgorithm, DRBGAlgorithm.HMAC],
    [Tag.PredictionResistance, true],
  ],
  [
    [Tag.RNGAlgorithm, RNGAlgorithm.DRBG],
    [Tag.HashingAlgorithm, HashingAlgorithm.SHA_256],
    [Tag.DRBGAlgorithm, DRBGAlgorithm.Hash],
    [Tag.PredictionResistance, true],
  ],
];

/** Watches a generator: every draw is copied (key generation may zeroise its own buffer). */
function watch(g: (typeof GENERATORS)[number]) {
  const original = g.random;
  const draws: Buffer[] = [];
  const spy = vi.spyOn(g, 'random').mockImplementation((bytes, strength) => {
    const out = original(bytes, strength);
    draws.push(Buffer.from(out));
    return out;
  });
  return { spy, draws };
}

afterEach(() => {
  vi.restoreAllMocks();
});

function deep(items: TtlvItem[], tag: number): TtlvItem | undefined {
  for (const i of items) {
    if (i.tag === tag) return i;
    if (i.type === ItemType.Structure) {
      const hit = deep(i.value, tag);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

async function keyMaterial(version: KmipVersion, uid: string): Promise<Buffer> {
  const res = await call(version, Operation.Get, [item.text(Tag.UniqueIdentifier, uid)]);
  return Buffer.from(bytesOf(deep(payloadOf(res), Tag.KeyMaterial)) ?? []);
}

async function recordedRng(uid: string): Promise<TtlvItem | undefined> {
  const res = await call('2.1', Operation.GetAttributes, [
    item.text(Tag.UniqueIdentifier, uid),
    item.enum(Tag.AttributeReference, Tag.RandomNumberGenerator),
  ]);
  return childOf(find(payloadOf(res), Tag.Attributes), Tag.RandomNumberGenerator);
}

function createAes(version: KmipVersion, bits: number, ...extra: TtlvItem[]) {
  return call(version, Operation.Create, [
    item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
    attributesFor(version, [
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      item.int(Tag.CryptographicLength, bits),
      item.int(Tag.CryptographicUsageMask, 12),
      ...extra,
    ]),
  ]);
}

const uidOf = (res: Awaited<ReturnType<typeof call>>) =>
  textOf(find(payloadOf(res), Tag.UniqueIdentifier)) ?? '';

describe('Query RNGs lists every generator with its parameters', () => {
  for (const version of ['1.3', '1.4', '2.0', '2.1'] as const) {
    it(`KMIP ${version}: the default first, then HMAC-SHA256, HMAC-SHA1 and Hash SHA-256 DRBGs`, async () => {
      const res = await call(version, Operation.Query, [
        item.enum(Tag.QueryFunction, QueryFunction.QueryRNGs),
      ]);
      const entries = payloadOf(res).filter((i) => i.tag === Tag.RNGParameters);
      expect(entries.map(fieldsOf)).toEqual(EXPECTED);
    });
  }
});

describe('Create with a named generator (KMIP 2.1 §4.46)', () => {
  const cases = [
    ['HMAC_DRBG over HMAC-SHA256', ASK_HMAC_SHA256, HMAC_SHA256!, 1],
    ['HMAC_DRBG over HMAC-SHA1', ASK_HMAC_SHA1, HMAC_SHA1!, 2],
    ['Hash_DRBG over SHA-256', ASK_HASH_SHA256, HASH_SHA256!, 3],
  ] as const;
  for (const version of ['1.4', '2.1'] as const) {
    for (const [name, asked, generator, index] of cases) {
      it(`KMIP ${version}: ${name} makes the key and is recorded`, async () => {
        const used = watch(generator);
        const fallback = watch(OPENSSL!);
        const uid = uidOf(await createAes(version, 128, asked));
        expect(used.draws).toHaveLength(1);
        expect(fallback.draws).toHaveLength(0);
        expect(await keyMaterial(version, uid)).toEqual(used.draws[0]);
        expect(used.spy).toHaveBeenCalledWith(16, 128);
        expect(fieldsOf(await recordedRng(uid))).toEqual(EXPECTED[index]);
      });
    }
  }

  it('without a name, the default (OpenSSL CTR_DRBG) makes the key and is recorded', async () => {
    const fallback = watch(OPENSSL!);
    const uid = uidOf(await createAes('2.1', 256));
    expect(fallback.draws).toHaveLength(1);
    expect(await keyMaterial('2.1', uid)).toEqual(fallback.draws[0]);
    expect(fieldsOf(await recordedRng(uid))).toEqual(EXPECTED[0]);
  });

  it('naming the default explicitly uses it', async () => {
    const fallback = watch(OPENSSL!);
    const uid = uidOf(await createAes('2.1', 128, ASK_CTR));
    expect(fallback.draws).toHaveLength(1);
    expect(fieldsOf(await recordedRng(uid))).toEqual(EXPECTED[0]);
  });

  it('an HMAC DRBG named by its Hashing Algorithm, without prediction resistance asked', async () => {
    const used = watch(HMAC_SHA256!);
    const uid = uidOf(
      await createAes(
        '2.1',
        256,
        rng(
          DRBG,
          item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
          item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.HMAC),
        ),
      ),
    );
    expect(used.draws).toHaveLength(1);
    // The record says what was used, prediction resistance included.
    expect(fieldsOf(await recordedRng(uid))).toEqual(EXPECTED[1]);
  });

  it('Secret Data comes from the named generator too', async () => {
    const used = watch(HASH_SHA256!);
    const uid = uidOf(
      await call('2.1', Operation.Create, [
        item.enum(Tag.ObjectType, ObjectType.SecretData),
        item.struct(Tag.Attributes, [item.int(Tag.CryptographicLength, 256), ASK_HASH_SHA256]),
      ]),
    );
    expect(await keyMaterial('2.1', uid)).toEqual(used.draws[0]);
    expect(fieldsOf(await recordedRng(uid))).toEqual(EXPECTED[3]);
  });

  it('of several names, the first kmipd has is used', async () => {
    const used = watch(HMAC_SHA1!);
    const x931 = rng(item.enum(Tag.RNGAlgorithm, RNGAlgorithm.ANSIX9_31));
    const uid = uidOf(await createAes('1.4', 128, x931, ASK_HMAC_SHA1, ASK_HMAC_SHA256));
    expect(used.draws).toHaveLength(1);
    expect(fieldsOf(await recordedRng(uid))).toEqual(EXPECTED[2]);
  });
});

describe('a generator kmipd lacks fails the request', () => {
  const lacking: Array<[string, TtlvItem]> = [
    ['ANSI X9.31', rng(item.enum(Tag.RNGAlgorithm, RNGAlgorithm.ANSIX9_31))],
    [
      'HMAC_DRBG over HMAC-SHA512',
      rng(
        DRBG,
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA512),
        item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.HMAC),
      ),
    ],
    [
      'CTR_DRBG with prediction resistance',
      rng(DRBG, item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.CTR), PR),
    ],
    [
      'CTR_DRBG over AES-128',
      rng(
        DRBG,
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 128),
      ),
    ],
  ];
  for (const version of ['1.4', '2.1'] as const) {
    for (const [name, asked] of lacking) {
      it(`KMIP ${version}: ${name} → Feature Not Supported, nothing created`, async () => {
        const before = await s.store.count();
        const res = await createAes(version, 128, asked);
        expect(res.resultStatus).toBe(ResultStatus.OperationFailed);
        expect(res.resultReason).toBe(ResultReason.FeatureNotSupported);
        expect(await s.store.count()).toBe(before);
      });
    }
  }

  it('a key stronger than the named generator: AES-256 from HMAC-SHA1 (128 bits)', async () => {
    const res = await createAes('2.1', 256, ASK_HMAC_SHA1);
    expect(res.resultReason).toBe(ResultReason.FeatureNotSupported);
    expect(res.resultMessage).toMatch(/128 bits; this key needs 256/);
  });

  it('an RNG Parameters without its RNG Algorithm is Invalid Field', async () => {
    const res = await createAes('2.1', 128, rng(item.enum(Tag.DRBGAlgorithm, DRBGAlgorithm.HMAC)));
    expect(res.resultReason).toBe(ResultReason.InvalidField);
  });

  it('Derive Key naming one kmipd lacks fails too', async () => {
    const base = await succeeded('2.1', Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 256),
        item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.DeriveKey),
        item.date(Tag.ActivationDate, BigInt(Math.floor(Date.now() / 1000) - 60)),
      ]),
    ]);
    const derive = (...extra: TtlvItem[]) =>
      call('2.1', Operation.DeriveKey, [
        item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
        item.text(Tag.UniqueIdentifier, base),
        item.enum(Tag.DerivationMethod, DerivationMethod.HASH),
        item.struct(Tag.DerivationParameters, [
          item.struct(Tag.CryptographicParameters, [
            item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
          ]),
        ]),
        item.struct(Tag.Attributes, [
          item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
          item.int(Tag.CryptographicLength, 128),
          ...extra,
        ]),
      ]);
    const plain = await derive();
    expect(plain.resultMessage).toBeUndefined();
    expect(plain.resultStatus).toBe(ResultStatus.Success);
    expect((await derive(ASK_HMAC_SHA256)).resultStatus).toBe(ResultStatus.Success);
    const res = await derive(rng(item.enum(Tag.RNGAlgorithm, RNGAlgorithm.NRBG)));
    expect(res.resultReason).toBe(ResultReason.FeatureNotSupported);
  });
});

describe('key pairs', () => {
  it('Create Key Pair: an EC private scalar from Hash_DRBG (FIPS 186-5 A.2.2), recorded on both keys', async () => {
    const used = watch(HASH_SHA256!);
    const res = await call('2.1', Operation.CreateKeyPair, [
      item.struct(Tag.CommonAttributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
        item.enum(Tag.RecommendedCurve, RecommendedCurve.P_256),
        ASK_HASH_SHA256,
      ]),
      item.struct(Tag.PrivateKeyAttributes, [item.int(Tag.CryptographicUsageMask, 1)]),
      item.struct(Tag.PublicKeyAttributes, [item.int(Tag.CryptographicUsageMask, 2)]),
    ]);
    expect(res.resultStatus).toBe(ResultStatus.Success);
    const priv = textOf(find(payloadOf(res), Tag.PrivateKeyUniqueIdentifier))!;
    const pub = textOf(find(payloadOf(res), Tag.PublicKeyUniqueIdentifier))!;
    expect(used.spy).toHaveBeenCalledWith(32, 128);
    const key = createPrivateKey({
      key: await keyMaterial('2.1', priv),
      format: 'der',
      type: 'pkcs8',
    });
    const d = BigInt(
      `0x${Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url').toString('hex')}`,
    );
    const c = BigInt(`0x${used.draws.at(-1)!.toString('hex')}`);
    expect(d).toBe(c + 1n);
    expect(createPublicKey(key).export({ type: 'spki', format: 'der' })).toEqual(
      await keyMaterial('2.1', pub),
    );
    expect(fieldsOf(await recordedRng(priv))).toEqual(EXPECTED[3]);
    expect(fieldsOf(await recordedRng(pub))).toEqual(EXPECTED[3]);
  });

  it('Create Key Pair: an Ed25519 seed from HMAC-SHA256, named in the private key attributes (1.4)', async () => {
    const used = watch(HMAC_SHA256!);
    const template = (tag: number, list: TtlvItem[]) => ({ ...attributesFor('1.4', list), tag });
    const res = await call('1.4', Operation.CreateKeyPair, [
      template(Tag.CommonTemplateAttribute, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.Ed25519),
      ]),
      template(Tag.PrivateKeyTemplateAttribute, [ASK_HMAC_SHA256]),
    ]);
    expect(res.resultStatus).toBe(ResultStatus.Success);
    expect(used.spy).toHaveBeenCalledWith(32, 128);
    const priv = textOf(find(payloadOf(res), Tag.PrivateKeyUniqueIdentifier))!;
    const key = createPrivateKey({
      key: await keyMaterial('1.4', priv),
      format: 'der',
      type: 'pkcs8',
    });
    expect(Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url')).toEqual(used.draws[0]);
    expect(fieldsOf(await recordedRng(priv))).toEqual(EXPECTED[1]);
  });

  it('Create Key Pair: RSA primes are drawn inside OpenSSL, so a named DRBG is refused', async () => {
    const res = await call('2.1', Operation.CreateKeyPair, [
      item.struct(Tag.CommonAttributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
        item.int(Tag.CryptographicLength, 2048),
        ASK_HMAC_SHA256,
      ]),
    ]);
    expect(res.resultReason).toBe(ResultReason.FeatureNotSupported);
  });
});

describe('Re-key', () => {
  it('the replacement records the generator the Re-key names, not the old key’s', async () => {
    const old = uidOf(await createAes('2.1', 128, ASK_HMAC_SHA1));
    const used = watch(HASH_SHA256!);
    const res = await call('2.1', Operation.ReKey, [
      item.text(Tag.UniqueIdentifier, old),
      item.struct(Tag.Attributes, [ASK_HASH_SHA256]),
    ]);
    const fresh = uidOf(res);
    expect(used.draws).toHaveLength(1);
    expect(fieldsOf(await recordedRng(fresh))).toEqual(EXPECTED[3]);
  });

  it('without a name the replacement gets the default, not the old key’s generator', async () => {
    const old = uidOf(await createAes('2.1', 128, ASK_HMAC_SHA1));
    const fresh = await succeeded('2.1', Operation.ReKey, [item.text(Tag.UniqueIdentifier, old)]);
    expect(fieldsOf(await recordedRng(fresh))).toEqual(EXPECTED[0]);
  });

  it('Re-key Key Pair: an EC pair from the generator named in the common attributes', async () => {
    const created = await call('2.1', Operation.CreateKeyPair, [
      item.struct(Tag.CommonAttributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
        item.enum(Tag.RecommendedCurve, RecommendedCurve.P_384),
      ]),
    ]);
    const priv = textOf(find(payloadOf(created), Tag.PrivateKeyUniqueIdentifier))!;
    const used = watch(HMAC_SHA256!);
    const res = await call('2.1', Operation.ReKeyKeyPair, [
      item.text(Tag.PrivateKeyUniqueIdentifier, priv),
      item.struct(Tag.CommonAttributes, [ASK_HMAC_SHA256]),
    ]);
    expect(res.resultStatus).toBe(ResultStatus.Success);
    expect(used.spy).toHaveBeenCalledWith(48, 192);
    const freshPriv = textOf(find(payloadOf(res), Tag.PrivateKeyUniqueIdentifier))!;
    expect(fieldsOf(await recordedRng(freshPriv))).toEqual(EXPECTED[1]);
  });
});

describe('RNG Retrieve (KMIP 2.1 §6.1.49: Data Length only)', () => {
  it('draws from the default generator', async () => {
    const fallback = watch(DEFAULT_GENERATOR);
    const drbgs = GENERATORS.slice(1).map(watch);
    const res = await call('2.1', Operation.RNGRetrieve, [item.int(Tag.DataLength, 48)]);
    const data = Buffer.from(bytesOf(find(payloadOf(res), Tag.Data)) ?? []);
    expect(data).toHaveLength(48);
    expect(fallback.draws).toEqual([data]);
    expect(drbgs.every((w) => w.draws.length === 0)).toBe(true);
  });
});
