// KMIP 2.1 §6.1.23 Get (KMIP 1.4 §4.11): the object in its stored format, or converted to the
// requested Key Format Type. Pre-Active objects can be fetched (Barbican never activates).

import { KmipError } from '../errors.js';
import { item } from '../kmip/items.js';
import { objectFields, objectKeyForTag } from '../kmip/object-fields.js';
import { enumeration, opt, raw, struct, text } from '../kmip/schema.js';
import { convertKeyFormat } from '../objects/key-format.js';
import { attr, objectTagFor, setAttr } from '../objects/managed-object.js';
import { loadObject, saveObject } from '../objects/repository.js';
import type { StructureItem } from '../ttlv/item.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { requireOnline } from './archive.js';
import { operation } from './context.js';
import { targetUid } from './target.js';

const GetRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  keyFormatType: opt(enumeration(Tag.KeyFormatType)),
  keyWrapType: opt(enumeration(Tag.KeyWrapType)),
  keyCompressionType: opt(enumeration(Tag.KeyCompressionType)),
  keyWrappingSpecification: opt(raw(Tag.KeyWrappingSpecification)),
});

/** The response carries the object under its own tag (Symmetric Key, Certificate, ...). */
const GetResponse = struct({
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  ...objectFields(),
});

export const get = operation({
  request: GetRequest,
  response: GetResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid, { material: true });
    requireOnline(mo);
    // KMIP 2.1 §4.54 Sensitive, §4.20 Extractable: such key material never leaves in clear.
    if (attr(mo, 'Sensitive')?.value === true) {
      throw new KmipError(ResultReason.Sensitive, `object ${uid} is sensitive`);
    }
    if (attr(mo, 'Extractable')?.value === false) {
      throw new KmipError(ResultReason.NotExtractable, `object ${uid} is not extractable`);
    }
    if (mo.object === null) {
      throw new KmipError(
        versionAtLeast(ctx.version, '2.0')
          ? ResultReason.ObjectDestroyed
          : ResultReason.ItemNotFound,
        `object ${uid} has been destroyed`,
      );
    }
    if (req.keyWrappingSpecification !== undefined || req.keyCompressionType !== undefined) {
      throw new KmipError(
        ResultReason.FeatureNotSupported,
        'key wrapping and compression on Get are not supported',
      );
    }
    const object: StructureItem =
      req.keyFormatType === undefined ? mo.object : convertKeyFormat(mo.object, req.keyFormatType);
    const tag = objectTagFor(mo.objectType);
    const field = tag === undefined ? undefined : objectKeyForTag(tag);
    if (field === undefined) {
      throw new KmipError(ResultReason.GeneralFailure, `object ${uid} has an unknown type`);
    }
    // KMIP 2.1 §4.22 Fresh: false once the object has been given to a client.
    if (attr(mo, 'Fresh')?.value === true) {
      setAttr(mo, item.bool(Tag.Fresh, false));
      await saveObject(ctx, mo);
    }
    return { objectType: mo.objectType, uniqueIdentifier: uid, [field]: object };
  },
});
