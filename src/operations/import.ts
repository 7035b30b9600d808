// KMIP 2.1 Import (KMIP 1.4 Import): an object stored under the Unique Identifier the client
// gives, typically one that Export returned, with its attributes as supplied: "all attributes
// MUST be set to the supplied values rather than any server generated values" (State, dates,
// Digest, Fresh, ...). Attributes not supplied are set as Register sets them. The Short Unique
// Identifier stays the server's, derived from the Unique Identifier, so that it stays unique.
//
// An existing object is replaced only when Replace Existing is true, and only for a caller that
// may Import it (owner, admin or a grant of Import, src/auth/access.ts); it keeps its owner.
// Otherwise the answer is Object Already Exists (TC-IMPEXP-3-20).
//
// Key Wrap Type: Not Wrapped unwraps a wrapped object before storing it and fails when it
// cannot; As Registered stores it as given; without one, a wrapped object is handled as
// Register handles it (src/objects/key-wrapping.ts).

import { mayUse } from '../auth/access.js';
import { KmipError } from '../errors.js';
import { attribute1x, attributeSet } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { numberOf, textOf } from '../kmip/items.js';
import { objectFields } from '../kmip/object-fields.js';
import { bool, enumeration, many, opt, struct, text, versions } from '../kmip/schema.js';
import { acceptWrapped, isWrapped, unwrapObject } from '../objects/key-wrapping.js';
import { attr } from '../objects/managed-object.js';
import { insertObject, replaceObject } from '../objects/repository.js';
import { objectAlreadyExists } from '../store/object-store.js';
import type { StructureItem } from '../ttlv/item.js';
import { KeyWrapType, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import { type OperationContext, operation } from './context.js';
import { payloadObject, registeredObject } from './register.js';
import { UidResult } from './uid-payload.js';

const ImportRequest = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  objectType: enumeration(Tag.ObjectType),
  replaceExisting: opt(bool(Tag.ReplaceExisting)),
  keyWrapType: opt(enumeration(Tag.KeyWrapType)),
  attributeList: many(versions(attribute1x(), { until: '1.4' })),
  attributes: opt(attributeSet(Tag.Attributes)),
  ...objectFields(),
});

/** Attributes the server sets from the request's Unique Identifier and Object Type. */
const IDENTITY = new Set(['UniqueIdentifier', 'ShortUniqueIdentifier', 'ObjectType']);

export const importObject = operation({
  request: ImportRequest,
  response: UidResult,
  async run(req, ctx) {
    const uid = req.uniqueIdentifier;
    const object = payloadObject(req);
    const supplied = [...req.attributeList, ...(req.attributes ?? [])];
    requireSameIdentity(supplied, uid, req.objectType);
    const existing = await ctx.store.get(uid);
    if (existing !== undefined) {
      if (req.replaceExisting !== true) throw objectAlreadyExists(uid);
      if (!mayUse(ctx, existing)) {
        throw new KmipError(ResultReason.PermissionDenied, `object ${uid} may not be replaced`);
      }
    }
    const forms = await importedForms(ctx, object, req.keyWrapType);
    const mo = registeredObject(ctx, req.objectType, forms, supplied, uid);
    const own = supplied.filter((a) => !IDENTITY.has(a.name));
    const names = new Set(own.map((a) => a.name));
    mo.attributes = [
      ...mo.attributes.filter((a) => IDENTITY.has(a.name)),
      ...own,
      ...mo.attributes.filter((a) => !IDENTITY.has(a.name) && !names.has(a.name)),
    ];
    const state = numberOf(attr(mo, 'State'));
    if (state === undefined || enumName(Tag.State, state) === undefined) {
      throw new KmipError(ResultReason.InvalidField, 'State is not a State enumeration value');
    }
    mo.state = state;
    if (existing === undefined) {
      await insertObject(ctx, mo);
      return { uniqueIdentifier: uid };
    }
    // The replacement keeps the owner and takes the old object's place in one atomic write.
    mo.owner = existing.owner;
    await replaceObject(ctx, mo, existing);
    return { uniqueIdentifier: uid };
  },
});

/** Supplied Unique Identifier and Object Type attributes must name what the request names. */
function requireSameIdentity(supplied: readonly Attribute[], uid: string, objectType: number) {
  for (const a of supplied) {
    if (a.name === 'UniqueIdentifier' && textOf(a.value) !== uid) {
      throw new KmipError(
        ResultReason.InvalidField,
        'the Unique Identifier attribute differs from the Unique Identifier',
      );
    }
    if (a.name === 'ObjectType' && numberOf(a.value) !== objectType) {
      throw new KmipError(
        ResultReason.InvalidField,
        'the Object Type attribute differs from the Object Type',
      );
    }
  }
}

/** The object to store and, when it can be read, the object in clear. */
async function importedForms(
  ctx: OperationContext,
  object: StructureItem,
  keyWrapType: number | undefined,
): Promise<{ stored: StructureItem; clear: StructureItem | undefined }> {
  if (!isWrapped(object) || keyWrapType === undefined) return acceptWrapped(ctx, object);
  if (keyWrapType === KeyWrapType.AsRegistered) return { stored: object, clear: undefined };
  if (keyWrapType === KeyWrapType.NotWrapped) {
    const clear = await unwrapObject(ctx, object);
    return { stored: clear, clear };
  }
  throw new KmipError(ResultReason.InvalidField, 'unknown Key Wrap Type');
}
