// KMIP 2.1 §6.1.23 Get (KMIP 1.4 §4.11): the object in its stored format, or converted to the
// requested Key Format Type, and wrapped when the request carries a Key Wrapping Specification
// (src/objects/key-wrapping.ts). Key Wrap Type (KMIP 1.4 §9.1.3.2.42): Not Wrapped unwraps a
// key stored wrapped; As Registered returns a key registered wrapped as it was sent. Pre-Active
// objects can be fetched (Barbican never activates).

import { KmipError } from '../errors.js';
import { childOf, item, numberOf } from '../kmip/items.js';
import { type ObjectKey, objectFields, objectKeyForTag } from '../kmip/object-fields.js';
import { enumeration, opt, raw, struct, type TypeOf, text } from '../kmip/schema.js';
import { convertKeyFormat } from '../objects/key-format.js';
import { requireKeyValue } from '../objects/key-value.js';
import { isWrapped, storedForms, unwrapObject, wrapObject } from '../objects/key-wrapping.js';
import { attr, type ManagedObject, objectTagFor, setAttr } from '../objects/managed-object.js';
import { loadObject, saveObject } from '../objects/repository.js';
import type { StructureItem } from '../ttlv/item.js';
import { KeyFormatType, KeyWrapType, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { requireOnline } from './archive.js';
import { type OperationContext, operation } from './context.js';
import { pkcs12Object } from './pkcs12-container.js';
import { targetUid } from './target.js';

/** Export takes the same fields with the same meaning (src/operations/export.ts). */
export const GetRequest = struct({
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
    const { field, object } = await objectForClient(ctx, mo, req);
    return { objectType: mo.objectType, uniqueIdentifier: uid, [field]: object };
  },
});

/**
 * The object of `mo`, loaded with its material, as Get returns it for these request fields,
 * with the payload key of its type. The object is no longer Fresh afterwards.
 */
export async function objectForClient(
  ctx: OperationContext,
  mo: ManagedObject,
  req: Omit<TypeOf<typeof GetRequest>, 'uniqueIdentifier'>,
): Promise<{ field: ObjectKey; object: StructureItem }> {
  const uid = mo.uid;
  const forms = mo.object === null ? undefined : storedForms(mo.object);
  const wrapped =
    req.keyWrappingSpecification !== undefined ||
    (req.keyWrapType === KeyWrapType.AsRegistered && forms?.registered !== undefined) ||
    (req.keyWrapType !== KeyWrapType.NotWrapped && forms !== undefined && isWrapped(forms.current));
  // KMIP 2.1 §4.54 Sensitive: the key may leave wrapped only (TC-SENSITIVE-1). §4.20
  // Extractable: such key material never leaves, wrapped or not (TC-EXTRACTABLE-1).
  if (attr(mo, 'Sensitive')?.value === true && !wrapped) {
    throw new KmipError(ResultReason.Sensitive, `object ${uid} is sensitive`);
  }
  if (attr(mo, 'Extractable')?.value === false) {
    throw new KmipError(ResultReason.NotExtractable, `object ${uid} is not extractable`);
  }
  if (forms === undefined) {
    throw new KmipError(
      versionAtLeast(ctx.version, '2.0') ? ResultReason.ObjectDestroyed : ResultReason.ItemNotFound,
      `object ${uid} has been destroyed`,
    );
  }
  if (req.keyCompressionType !== undefined) {
    throw new KmipError(
      ResultReason.FeatureNotSupported,
      'key compression on Get is not supported',
    );
  }
  const { current, registered } = forms;
  // A meta-data-only object goes back as registered: it has no key to convert or wrap.
  const convert = (o: StructureItem) => {
    if (req.keyFormatType === undefined) return o;
    if (keyFormatOf(o) !== req.keyFormatType) requireKeyValue(ctx.version, uid, o, 'convert');
    return convertKeyFormat(o, req.keyFormatType);
  };
  let object: StructureItem;
  if (req.keyWrappingSpecification !== undefined) {
    requireKeyValue(ctx.version, uid, current, 'wrap');
    const clear = isWrapped(current) ? await unwrapObject(ctx, current) : current;
    object = await wrapObject(ctx, mo, convert(clear), req.keyWrappingSpecification);
  } else if (req.keyWrapType === KeyWrapType.AsRegistered && registered !== undefined) {
    object = registered;
  } else if (req.keyWrapType === KeyWrapType.NotWrapped && isWrapped(current)) {
    object = convert(await unwrapObject(ctx, current));
  } else if (req.keyFormatType === KeyFormatType.PKCS_12) {
    object = await pkcs12Object(ctx, mo, current);
  } else {
    object = convert(current);
  }
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
  return { field, object };
}

function keyFormatOf(object: StructureItem): number | undefined {
  return numberOf(childOf(childOf(object, Tag.KeyBlock), Tag.KeyFormatType));
}
