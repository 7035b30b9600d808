// KMIP 2.1 §6.1.44 Register (KMIP 1.4 §4.3): a client-supplied object: Symmetric Key, Public
// Key, Private Key, Certificate, Secret Data (Password, Seed, ...), Opaque Object. The object
// is kept exactly as given; attributes the server can read from it (algorithm, length,
// certificate fields) are added when the client did not give them. A Key Block with Key
// Wrapping Data is unwrapped and stored in clear when its wrapping key is managed here and may
// unwrap (the Key Block as registered is kept for Get As Registered); otherwise it is stored
// wrapped, as given (src/objects/key-wrapping.ts). A Private Key in Key Format Type PKCS#12 is
// opened, and its key and certificates registered apart (src/operations/pkcs12-register.ts).

import { KmipError } from '../errors.js';
import { attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { numberOf } from '../kmip/items.js';
import { OBJECT_KEYS, type ObjectKey, objectFields } from '../kmip/object-fields.js';
import { enumeration, opt, struct, text } from '../kmip/schema.js';
import { digestSources } from '../objects/digest.js';
import { acceptMetadataOnly } from '../objects/key-value.js';
import { acceptWrapped } from '../objects/key-wrapping.js';
import { attr, type ManagedObject, objectTagFor } from '../objects/managed-object.js';
import { newManagedObject } from '../objects/new-object.js';
import { derivedAttributes } from '../objects/object-attributes.js';
import { isPkcs12 } from '../objects/pkcs12-password.js';
import { insertObject } from '../objects/repository.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { type OperationContext, operation } from './context.js';
import { registerPkcs12 } from './pkcs12-register.js';

const RegisterRequest = struct({
  objectType: enumeration(Tag.ObjectType),
  templateAttribute: opt(templateAttribute(Tag.TemplateAttribute)),
  attributes: opt(attributeSet(Tag.Attributes)),
  ...objectFields(),
});

const RegisterResponse = struct({ uniqueIdentifier: text(Tag.UniqueIdentifier) });

export const register = operation({
  request: RegisterRequest,
  response: RegisterResponse,
  async run(req, ctx) {
    const object = payloadObject(req);
    const given: Attribute[] = [...(req.templateAttribute ?? []), ...(req.attributes ?? [])];
    acceptMetadataOnly(ctx.version, object);
    if (isPkcs12(object)) {
      return { uniqueIdentifier: await registerPkcs12(ctx, req.objectType, object, given) };
    }
    const mo = registeredObject(ctx, req.objectType, await acceptWrapped(ctx, object), given);
    await insertObject(ctx, mo);
    return { uniqueIdentifier: mo.uid };
  },
});

/** The one object structure of a Register or Import payload, of the type Object Type names. */
export function payloadObject(
  req: { objectType: number } & { [K in ObjectKey]?: TtlvItem },
): StructureItem {
  const present = OBJECT_KEYS.map((k) => req[k]).filter((o) => o !== undefined);
  if (present.length !== 1) {
    throw new KmipError(ResultReason.InvalidField, 'the request needs exactly one object');
  }
  const object = present[0]!;
  if (object.type !== ItemType.Structure || objectTagFor(req.objectType) !== object.tag) {
    throw new KmipError(ResultReason.InvalidField, 'the object does not match Object Type');
  }
  return object;
}

/**
 * A new managed object holding a client-supplied object (`stored`, and `clear` when it could be
 * read in clear), with the attributes given and those the server reads from the object.
 */
export function registeredObject(
  ctx: OperationContext,
  objectType: number,
  { stored, clear }: { stored: StructureItem; clear: StructureItem | undefined },
  given: readonly Attribute[],
  uid?: string,
): ManagedObject {
  const readable = clear ?? stored;
  const derived = derivedAttributes(objectType, readable, given);
  const algorithm = numberOf(
    attr({ attributes: [...derived, ...given] }, 'CryptographicAlgorithm'),
  );
  return newManagedObject(ctx, {
    objectType,
    object: stored,
    given,
    derived,
    digestOf: digestSources(objectType, readable, algorithm),
    registered: true,
    uid,
  });
}
