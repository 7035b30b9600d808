// KMIP 2.1 §6.1.41 Re-key Key Pair (KMIP 1.4 §4.5): a replacement key pair of the same algorithm
// and size as an existing private key and the public key it links to. Each new half takes the
// attributes of the half it replaces as Re-key does (rekey.ts: dates and Offset, Usage Limits,
// names moving, Replaced/Replacement Object links), then the common and half-specific
// attributes of the request. The new halves link to each other like a Create Key Pair result.

import { generateKeyPair, type KeyPairSpec } from '../crypto/keygen.js';
import { KmipError } from '../errors.js';
import { attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { childOf, item, numberOf } from '../kmip/items.js';
import { interval, opt, struct, text } from '../kmip/schema.js';
import { requireConstraints } from '../objects/constraints.js';
import { attr, type ManagedObject } from '../objects/managed-object.js';
import { keyBlock } from '../objects/new-object.js';
import { generatorFor, keyPairRandom } from '../objects/random-generators.js';
import { insertObject, loadObject, saveObject } from '../objects/repository.js';
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
import { requiredNumber } from './create.js';
import { linkedUid, linkTo, replacementOf, requireReplaceable, retire } from './rekey.js';
import { targetUid } from './target.js';

const ReKeyKeyPairRequest = struct({
  privateKeyUniqueIdentifier: opt(text(Tag.PrivateKeyUniqueIdentifier)),
  offset: opt(interval(Tag.Offset)),
  commonTemplateAttribute: opt(templateAttribute(Tag.CommonTemplateAttribute)),
  privateKeyTemplateAttribute: opt(templateAttribute(Tag.PrivateKeyTemplateAttribute)),
  publicKeyTemplateAttribute: opt(templateAttribute(Tag.PublicKeyTemplateAttribute)),
  commonAttributes: opt(attributeSet(Tag.CommonAttributes)),
  privateKeyAttributes: opt(attributeSet(Tag.PrivateKeyAttributes)),
  publicKeyAttributes: opt(attributeSet(Tag.PublicKeyAttributes)),
});

const ReKeyKeyPairResponse = struct({
  privateKeyUniqueIdentifier: text(Tag.PrivateKeyUniqueIdentifier),
  publicKeyUniqueIdentifier: text(Tag.PublicKeyUniqueIdentifier),
});

/** What generates a pair like the existing one: its algorithm, size and (EC) curve. */
function sameKind(old: ManagedObject): KeyPairSpec {
  const algorithm = requiredNumber(old.attributes, 'CryptographicAlgorithm');
  const length = requiredNumber(old.attributes, 'CryptographicLength');
  switch (algorithm) {
    case CryptographicAlgorithm.RSA:
      return { algorithm: 'RSA', lengthBits: length };
    case CryptographicAlgorithm.DSA:
      return { algorithm: 'DSA', lengthBits: length };
    case CryptographicAlgorithm.EC:
    case CryptographicAlgorithm.ECDSA:
    case CryptographicAlgorithm.ECDH: {
      const curve =
        numberOf(attr(old, 'RecommendedCurve')) ??
        numberOf(childOf(attr(old, 'CryptographicDomainParameters'), Tag.RecommendedCurve));
      const curveName = curve === undefined ? undefined : enumName(Tag.RecommendedCurve, curve);
      return { algorithm: 'EC', curve: curveName, lengthBits: length };
    }
    case CryptographicAlgorithm.Ed25519:
      return { algorithm: 'Ed25519' };
    default:
      throw new KmipError(
        ResultReason.FeatureNotSupported,
        `re-key of ${enumName(Tag.CryptographicAlgorithm, algorithm) ?? algorithm} key pairs is not supported`,
      );
  }
}

export const reKeyKeyPair = operation({
  request: ReKeyKeyPairRequest,
  response: ReKeyKeyPairResponse,
  async run(req, ctx) {
    const uid = targetUid(req.privateKeyUniqueIdentifier, ctx);
    const oldPrivate = await loadObject(ctx, uid);
    requireReplaceable(ctx, oldPrivate, ObjectType.PrivateKey);
    const publicUid = linkedUid(oldPrivate, LinkType.PublicKeyLink);
    if (publicUid === undefined) {
      throw new KmipError(ResultReason.InvalidField, `private key ${uid} links to no public key`);
    }
    const oldPublic = await loadObject(ctx, publicUid);
    requireReplaceable(ctx, oldPublic, ObjectType.PublicKey);

    const common = [...(req.commonTemplateAttribute ?? []), ...(req.commonAttributes ?? [])];
    const privateRequested = [
      ...(req.privateKeyTemplateAttribute ?? []),
      ...(req.privateKeyAttributes ?? []),
    ];
    const publicRequested = [
      ...(req.publicKeyTemplateAttribute ?? []),
      ...(req.publicKeyAttributes ?? []),
    ];
    // KMIP 2.1 §4.46: one generator makes the pair, whichever list names it.
    const generator = generatorFor(
      [...common, ...privateRequested, ...publicRequested],
      ctx.version,
    );
    const pair = await generateKeyPair(sameKind(oldPrivate), keyPairRandom(generator));
    const algorithm = requiredNumber(oldPrivate.attributes, 'CryptographicAlgorithm');
    const derived: Attribute[] = [
      { name: 'CryptographicAlgorithm', value: item.enum(Tag.CryptographicAlgorithm, algorithm) },
      { name: 'CryptographicLength', value: item.int(Tag.CryptographicLength, pair.lengthBits) },
    ];
    const half = (
      old: ManagedObject,
      objectType: number,
      tag: number,
      format: number,
      der: Buffer,
      requested: Attribute[],
    ) =>
      replacementOf(ctx, old, [...common, ...requested], req.offset, {
        objectType,
        object: item.struct(tag, [
          keyBlock(format, item.bytes(Tag.KeyMaterial, der), algorithm, pair.lengthBits),
        ]),
        derived,
        digestOf: { bytes: der, keyFormatType: format },
        generator,
      });
    const newPrivate = await half(
      oldPrivate,
      ObjectType.PrivateKey,
      Tag.PrivateKey,
      KeyFormatType.PKCS_8,
      pair.privateKeyDer,
      privateRequested,
    );
    const newPublic = await half(
      oldPublic,
      ObjectType.PublicKey,
      Tag.PublicKey,
      KeyFormatType.X_509,
      pair.publicKeyDer,
      publicRequested,
    );
    newPrivate.attributes.push(linkTo(LinkType.PublicKeyLink, newPublic.uid));
    newPublic.attributes.push(linkTo(LinkType.PrivateKeyLink, newPrivate.uid));
    retire(ctx, oldPrivate, newPrivate.uid);
    retire(ctx, oldPublic, newPublic.uid);
    await requireConstraints(ctx, [newPrivate, newPublic]);
    await insertObject(ctx, newPrivate);
    await insertObject(ctx, newPublic);
    await saveObject(ctx, oldPrivate);
    await saveObject(ctx, oldPublic);
    pair.privateKeyDer.fill(0);
    return {
      privateKeyUniqueIdentifier: newPrivate.uid,
      publicKeyUniqueIdentifier: newPublic.uid,
    };
  },
});
