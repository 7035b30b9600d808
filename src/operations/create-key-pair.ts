// KMIP 2.1 §6.1.9 Create Key Pair (KMIP 1.4 §4.2): RSA, EC (P-256/384/521, secp256k1), DSA,
// Ed25519. Attributes come as common plus private- and public-specific ones (1.x
// Template-Attribute or 2.x Attributes forms). The two objects are linked both ways (Link
// attribute). See storedForms for the formats the keys are kept in.

import { rsaPrivatePkcs8ToPkcs1, rsaPublicSpkiToPkcs1 } from '../crypto/key-formats.js';
import { generateKeyPair, type KeyPairSpec } from '../crypto/keygen.js';
import { KmipError } from '../errors.js';
import { attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { childOf, item, numberOf } from '../kmip/items.js';
import { opt, struct, text } from '../kmip/schema.js';
import { requireConstraints } from '../objects/constraints.js';
import { attr } from '../objects/managed-object.js';
import { keyBlock, newManagedObject } from '../objects/new-object.js';
import { generatorFor, keyPairRandom } from '../objects/random-generators.js';
import { insertObject } from '../objects/repository.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  LinkType,
  ObjectType,
  ResultReason,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import { operation } from './context.js';
import { requireQuantumSafe } from './create.js';

const CreateKeyPairRequest = struct({
  commonTemplateAttribute: opt(templateAttribute(Tag.CommonTemplateAttribute)),
  privateKeyTemplateAttribute: opt(templateAttribute(Tag.PrivateKeyTemplateAttribute)),
  publicKeyTemplateAttribute: opt(templateAttribute(Tag.PublicKeyTemplateAttribute)),
  commonAttributes: opt(attributeSet(Tag.CommonAttributes)),
  privateKeyAttributes: opt(attributeSet(Tag.PrivateKeyAttributes)),
  publicKeyAttributes: opt(attributeSet(Tag.PublicKeyAttributes)),
});

const CreateKeyPairResponse = struct({
  privateKeyUniqueIdentifier: text(Tag.PrivateKeyUniqueIdentifier),
  publicKeyUniqueIdentifier: text(Tag.PublicKeyUniqueIdentifier),
});

function pick(lists: Attribute[][], name: string): number | undefined {
  for (const list of lists) {
    const v = numberOf(attr({ attributes: list }, name));
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Recommended Curve, given directly (1.x-2.x attribute) or inside Cryptographic Domain Parameters. */
function curveOf(lists: Attribute[][]): number | undefined {
  for (const list of lists) {
    const direct = numberOf(attr({ attributes: list }, 'RecommendedCurve'));
    if (direct !== undefined) return direct;
    const params = attr({ attributes: list }, 'CryptographicDomainParameters');
    const nested = numberOf(childOf(params, Tag.RecommendedCurve));
    if (nested !== undefined) return nested;
  }
  return undefined;
}

function keyPairSpec(
  algorithm: number,
  length: number | undefined,
  curve: number | undefined,
): KeyPairSpec {
  const need = (what: string) => new KmipError(ResultReason.InvalidField, `${what} is required`);
  switch (algorithm) {
    case CryptographicAlgorithm.RSA:
      if (length === undefined) throw need('Cryptographic Length');
      return { algorithm: 'RSA', lengthBits: length };
    case CryptographicAlgorithm.DSA:
      if (length === undefined) throw need('Cryptographic Length');
      return { algorithm: 'DSA', lengthBits: length };
    case CryptographicAlgorithm.EC:
    case CryptographicAlgorithm.ECDSA:
    case CryptographicAlgorithm.ECDH: {
      const curveName = curve === undefined ? undefined : enumName(Tag.RecommendedCurve, curve);
      return { algorithm: 'EC', curve: curveName, lengthBits: length };
    }
    case CryptographicAlgorithm.Ed25519:
      return { algorithm: 'Ed25519' };
    default:
      throw new KmipError(
        ResultReason.FeatureNotSupported,
        `key pair generation for ${enumName(Tag.CryptographicAlgorithm, algorithm) ?? algorithm} is not supported`,
      );
  }
}

export const createKeyPair = operation({
  request: CreateKeyPairRequest,
  response: CreateKeyPairResponse,
  async run(req, ctx) {
    const common = [...(req.commonTemplateAttribute ?? []), ...(req.commonAttributes ?? [])];
    const priv = [...(req.privateKeyTemplateAttribute ?? []), ...(req.privateKeyAttributes ?? [])];
    const pub = [...(req.publicKeyTemplateAttribute ?? []), ...(req.publicKeyAttributes ?? [])];
    const lists = [common, priv, pub];
    const algorithm = pick(lists, 'CryptographicAlgorithm');
    if (algorithm === undefined) {
      throw new KmipError(ResultReason.InvalidField, 'Cryptographic Algorithm is required');
    }
    requireQuantumSafe([...common, ...priv, ...pub], false);
    // KMIP 2.1 §4.46: one generator makes the pair, whichever list names it.
    const generator = generatorFor([...common, ...priv, ...pub], ctx.version);
    const pair = await generateKeyPair(
      keyPairSpec(algorithm, pick(lists, 'CryptographicLength'), curveOf(lists)),
      keyPairRandom(generator),
    );
    const derived: Attribute[] = [
      { name: 'CryptographicAlgorithm', value: item.enum(Tag.CryptographicAlgorithm, algorithm) },
      { name: 'CryptographicLength', value: item.int(Tag.CryptographicLength, pair.lengthBits) },
    ];
    const half = (objectType: number, tag: number, stored: StoredKey, given: Attribute[]) =>
      newManagedObject(ctx, {
        objectType,
        object: item.struct(tag, [
          keyBlock(
            stored.format,
            item.bytes(Tag.KeyMaterial, stored.der),
            algorithm,
            pair.lengthBits,
          ),
        ]),
        given,
        derived,
        digestOf: { bytes: stored.der, keyFormatType: stored.format },
        generator,
      });
    const [privateForm, publicForm] = storedForms(algorithm, pair.privateKeyDer, pair.publicKeyDer);
    const privateKey = half(ObjectType.PrivateKey, Tag.PrivateKey, privateForm, [
      ...common,
      ...priv,
    ]);
    const publicKey = half(ObjectType.PublicKey, Tag.PublicKey, publicForm, [...common, ...pub]);
    privateKey.attributes.push(link(LinkType.PublicKeyLink, publicKey.uid));
    publicKey.attributes.push(link(LinkType.PrivateKeyLink, privateKey.uid));
    await requireConstraints(ctx, [privateKey, publicKey]);
    await insertObject(ctx, privateKey);
    await insertObject(ctx, publicKey);
    return {
      privateKeyUniqueIdentifier: privateKey.uid,
      publicKeyUniqueIdentifier: publicKey.uid,
    };
  },
});

interface StoredKey {
  format: number;
  der: Buffer;
}

/**
 * The formats new keys are kept in, which Get returns unless asked otherwise and which the
 * Digest is taken over: RSA keys as PKCS#1, the default format of KMIP 1.4 §3.17 and 2.1
 * §4.13 and the one the KMIP test cases and PyKMIP's server use; other keys as PKCS#8 and
 * X.509 SubjectPublicKeyInfo. Get converts to any other supported format on request.
 */
function storedForms(algorithm: number, pkcs8: Buffer, spki: Buffer): [StoredKey, StoredKey] {
  if (algorithm === CryptographicAlgorithm.RSA) {
    return [
      { format: KeyFormatType.PKCS_1, der: rsaPrivatePkcs8ToPkcs1(pkcs8) },
      { format: KeyFormatType.PKCS_1, der: rsaPublicSpkiToPkcs1(spki) },
    ];
  }
  return [
    { format: KeyFormatType.PKCS_8, der: pkcs8 },
    { format: KeyFormatType.X_509, der: spki },
  ];
}

function link(type: number, uid: string): Attribute {
  return {
    name: 'Link',
    value: item.struct(Tag.Link, [
      item.enum(Tag.LinkType, type),
      item.text(Tag.LinkedObjectIdentifier, uid),
    ]),
  };
}
