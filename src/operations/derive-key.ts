// KMIP 2.1 §6.1.17 Derive Key (KMIP 1.4 §4.6): a new Symmetric Key or Secret Data derived from
// one or two managed objects. Each base object must be Active and allow Derive Key in its
// Cryptographic Usage Mask. The new object gets the request's attributes (Cryptographic Length
// always; Cryptographic Algorithm for a key), a Derivation Base Object Link to each base object,
// and each base object a Derived Key Link to it (KMIP 1.4 §3.35 Link). The derivation itself is
// in src/crypto/derive.ts.
//
// Base objects: the first is the key (or, for PBKDF2, the password). For Asymmetric Key (ECDH)
// the two are a private key and the peer's public key. For the other methods a second object
// must be Secret Data, whose value is the Derivation Data when the request gives none.

import { asymmetricKey, hashName, symmetricKeyBytes as keyBytesOf } from '../crypto/cipher.js';
import {
  ecdhDerive,
  encryptDerive,
  hashDerive,
  hkdfDerive,
  hmacDerive,
  pbkdf2Derive,
  type Sp800108Mode,
  sp800108Derive,
} from '../crypto/derive.js';
import { symmetricKeyBytes } from '../crypto/keygen.js';
import { KmipError } from '../errors.js';
import { attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import { cryptographicParametersField } from '../kmip/cryptographic-parameters.js';
import { bytesOf, childOf, item } from '../kmip/items.js';
import { bytes, enumeration, int, many, opt, struct, text } from '../kmip/schema.js';
import type { ManagedObject } from '../objects/managed-object.js';
import { keyBlock, newManagedObject } from '../objects/new-object.js';
import { generatorFor } from '../objects/random-generators.js';
import { insertObject, saveObject } from '../objects/repository.js';
import {
  CryptographicUsageMask,
  DerivationMethod,
  HashingAlgorithm,
  KeyFormatType,
  LinkType,
  ObjectType,
  ResultReason,
  SecretDataType,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumName, enumValueExistsIn } from '../ttlv/spec/index.js';
import { requireOnline } from './archive.js';
import { operation } from './context.js';
import { givenAttributes, requiredNumber } from './create.js';
import { type UsableKey, usableKey } from './crypto-usage.js';
import { linkTo } from './rekey.js';
import { targetUid } from './target.js';
import { UidResult } from './uid-payload.js';

/** Derivation Parameters (KMIP 2.1 §6.1.17, KMIP 1.4 §4.6). */
const DerivationParameters = struct({
  cryptographicParameters: cryptographicParametersField(),
  initializationVector: opt(bytes(Tag.InitializationVector)),
  derivationData: opt(bytes(Tag.DerivationData)),
  salt: opt(bytes(Tag.Salt)),
  iterationCount: opt(int(Tag.IterationCount)),
});

const DeriveKeyRequest = struct({
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifiers: many(text(Tag.UniqueIdentifier)),
  derivationMethod: enumeration(Tag.DerivationMethod),
  derivationParameters: opt(DerivationParameters.at(Tag.DerivationParameters)),
  templateAttribute: opt(templateAttribute(Tag.TemplateAttribute)),
  attributes: opt(attributeSet(Tag.Attributes)),
});

type Params = NonNullable<ReturnType<typeof DeriveKeyRequest.read>['derivationParameters']>;

/** Longest Secret Data Derive Key makes; keys are bounded by their algorithm. */
const MAX_SECRET_BITS = 8192;

const invalid = (what: string) => new KmipError(ResultReason.InvalidField, what);

const SP800_108: ReadonlyMap<number, Sp800108Mode> = new Map([
  [DerivationMethod.NIST800_108_C, 'counter'],
  [DerivationMethod.NIST800_108_F, 'feedback'],
  [DerivationMethod.NIST800_108_DPI, 'double-pipeline'],
]);

export const deriveKey = operation({
  request: DeriveKeyRequest,
  response: UidResult,
  async run(req, ctx) {
    if (req.objectType !== ObjectType.SymmetricKey && req.objectType !== ObjectType.SecretData) {
      throw invalid('Derive Key makes a Symmetric Key or Secret Data');
    }
    const method = req.derivationMethod;
    if (!enumValueExistsIn(Tag.DerivationMethod, method, ctx.version)) {
      throw invalid('Derivation Method not defined in this protocol version');
    }
    const uids = req.uniqueIdentifiers?.length
      ? req.uniqueIdentifiers
      : [targetUid(undefined, ctx)];
    if (uids.length > 2) throw invalid('at most two Unique Identifiers may be given');
    const given = givenAttributes(req);
    // KMIP 2.1 §4.46 names Derive Key too. Derivation draws no random bits, so nothing is
    // recorded; a generator kmipd lacks still fails the request, as the section requires.
    generatorFor(given, ctx.version);
    const bits = requiredNumber(given, 'CryptographicLength');
    let algorithm: number | undefined;
    let size = bits / 8;
    if (req.objectType === ObjectType.SymmetricKey) {
      algorithm = requiredNumber(given, 'CryptographicAlgorithm');
      const name = enumName(Tag.CryptographicAlgorithm, algorithm) ?? `0x${algorithm.toString(16)}`;
      size = symmetricKeyBytes(name, bits);
    } else if (bits <= 0 || bits % 8 !== 0 || bits > MAX_SECRET_BITS) {
      throw invalid(`Cryptographic Length must be a multiple of 8 from 8 to ${MAX_SECRET_BITS}`);
    }
    const params = req.derivationParameters ?? {};
    const bases: UsableKey[] = [];
    for (const uid of uids) {
      const base = await usableKey(
        ctx,
        uid,
        'protect',
        CryptographicUsageMask.DeriveKey,
        params.cryptographicParameters,
      );
      requireOnline(base.mo);
      bases.push(base);
    }
    const material = await derive(method, bases, params, size);
    const mo = newManagedObject(ctx, {
      objectType: req.objectType,
      object:
        req.objectType === ObjectType.SymmetricKey
          ? item.struct(Tag.SymmetricKey, [
              keyBlock(KeyFormatType.Raw, item.bytes(Tag.KeyMaterial, material), algorithm, bits),
            ])
          : item.struct(Tag.SecretData, [
              item.enum(Tag.SecretDataType, SecretDataType.Seed),
              keyBlock(KeyFormatType.Opaque, item.bytes(Tag.KeyMaterial, material)),
            ]),
      given: given.filter((a) => a.name !== 'Link'),
      derived: [
        ...(algorithm === undefined
          ? []
          : [
              {
                name: 'CryptographicAlgorithm',
                value: item.enum(Tag.CryptographicAlgorithm, algorithm),
              },
            ]),
        { name: 'CryptographicLength', value: item.int(Tag.CryptographicLength, bits) },
        ...bases.map((b) => linkTo(LinkType.DerivationBaseObjectLink, b.mo.uid)),
      ],
      digestOf: {
        bytes: material,
        keyFormatType:
          req.objectType === ObjectType.SymmetricKey ? KeyFormatType.Raw : KeyFormatType.Opaque,
      },
    });
    await insertObject(ctx, mo);
    // The stored copy is wrapped now; the clear bytes are not needed again.
    material.fill(0);
    for (const b of bases) await linkDerived(ctx, b.mo, mo.uid);
    return { uniqueIdentifier: mo.uid };
  },
});

async function linkDerived(
  ctx: Parameters<typeof saveObject>[0],
  base: ManagedObject,
  uid: string,
): Promise<void> {
  base.attributes.push(linkTo(LinkType.DerivedKeyLink, uid));
  await saveObject(ctx, base);
}

/** The value of a Symmetric Key or Secret Data base object. */
function secretBytes(b: UsableKey): Buffer {
  if (b.object.tag === Tag.SymmetricKey) return keyBytesOf(b.object);
  if (b.object.tag === Tag.SecretData) {
    const block = childOf(b.object, Tag.KeyBlock);
    if (childOf(block, Tag.KeyWrappingData) === undefined) {
      const value = bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial));
      if (value !== undefined) return Buffer.from(value);
    }
  }
  throw invalid(`object ${b.mo.uid} is not a usable Symmetric Key or Secret Data`);
}

function hashOf(p: Params, fallback?: number): string {
  const algorithm = p.cryptographicParameters?.hashingAlgorithm ?? fallback;
  if (algorithm === undefined) {
    throw invalid('Cryptographic Parameters must name a Hashing Algorithm for this method');
  }
  return hashName(algorithm);
}

async function derive(
  method: number,
  bases: UsableKey[],
  p: Params,
  length: number,
): Promise<Buffer> {
  if (method === DerivationMethod.AsymmetricKey) {
    const priv = bases.find((b) => b.object.tag === Tag.PrivateKey);
    const pub = bases.find((b) => b.object.tag === Tag.PublicKey);
    if (bases.length !== 2 || priv === undefined || pub === undefined) {
      throw invalid('Asymmetric Key derivation needs a private key and a public key');
    }
    return ecdhDerive(asymmetricKey(priv.object), asymmetricKey(pub.object), length);
  }
  const [first, second] = bases as [UsableKey, UsableKey | undefined];
  const base = secretBytes(first);
  let data = p.derivationData;
  if (second !== undefined) {
    if (second.object.tag !== Tag.SecretData) {
      throw invalid('a second base object must be Secret Data');
    }
    if (data !== undefined) throw invalid('give Derivation Data or a Secret Data object, not both');
    data = secretBytes(second);
  }
  const needData = () => {
    if (data === undefined) throw invalid('Derivation Data is required for this method');
    return data;
  };
  switch (method) {
    case DerivationMethod.PBKDF2: {
      if (p.salt === undefined || p.iterationCount === undefined) {
        throw invalid('PBKDF2 needs a Salt and an Iteration Count');
      }
      // KMIP 1.4 §2.1.6: PBKDF2 defaults to HMAC with SHA-1 (TC-DERIVEKEY-3/4).
      const hash = hashOf(p, HashingAlgorithm.SHA_1);
      return pbkdf2Derive(base, p.salt, p.iterationCount, hash, length);
    }
    case DerivationMethod.HASH:
      return hashDerive(hashOf(p), base, data, length);
    case DerivationMethod.HMAC:
      return hmacDerive(hashOf(p), base, needData(), length);
    case DerivationMethod.ENCRYPT: {
      if (first.algorithm === undefined) throw invalid('the base key names no algorithm');
      return encryptDerive(
        first.algorithm,
        base,
        first.params,
        p.initializationVector,
        needData(),
        length,
      );
    }
    case DerivationMethod.HKDF:
      return hkdfDerive(hashOf(p), base, p.salt, data, length);
    default: {
      const mode = SP800_108.get(method);
      if (mode === undefined) {
        const name = enumName(Tag.DerivationMethod, method) ?? `0x${method.toString(16)}`;
        throw new KmipError(ResultReason.FeatureNotSupported, `Derivation Method ${name}`);
      }
      return sp800108Derive(mode, hashOf(p), base, needData(), p.initializationVector, length);
    }
  }
}
