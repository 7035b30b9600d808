// The password of a PKCS#12 object (KMIP 1.4 Key Format Type PKCS#12 and Link Type PKCS#12
// Password Link; KMIP 2.1 Result Reason Bad Password: "Key Format Type is PKCS#12, but missing or
// multiple PKCS#12 Password Links, or not Secret Data, or not Active"). A Key Block in PKCS#12
// format is protected with the password held by the one Secret Data object its PKCS#12 Password
// Link names, and that object may only be used while Active.
//
// The test cases answer a password object that is not Active with the version's wrong-state
// reason, Permission Denied for 1.4 and Wrong Key Lifecycle State for 2.0 (TC-PKCS12-2-14,
// TC-PKCS12-2-20), so that case follows them; a missing, repeated or wrong-type link is Bad
// Password, or Invalid Field for 1.x clients, which have no Bad Password.

import { KmipError } from '../errors.js';
import type { Attribute } from '../kmip/attributes.js';
import { bytesOf, childOf, numberOf, textOf } from '../kmip/items.js';
import type { OperationContext } from '../operations/context.js';
import type { StructureItem } from '../ttlv/item.js';
import {
  KeyFormatType,
  LinkType,
  ObjectType,
  ResultReason,
  State,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumValueExistsIn } from '../ttlv/spec/index.js';
import { stateName } from './lifecycle.js';
import { wrongState } from './managed-object.js';
import { loadObject } from './repository.js';

/** Whether the object's Key Block is a PKCS#12 container. */
export function isPkcs12(object: StructureItem): boolean {
  return (
    numberOf(childOf(childOf(object, Tag.KeyBlock), Tag.KeyFormatType)) === KeyFormatType.PKCS_12
  );
}

/** Bad Password where the client's version has it (2.0+), Invalid Field before. */
export function badPassword(ctx: OperationContext, message: string): KmipError {
  const reason = enumValueExistsIn(Tag.ResultReason, ResultReason.BadPassword, ctx.version)
    ? ResultReason.BadPassword
    : ResultReason.InvalidField;
  return new KmipError(reason, message);
}

/**
 * The password bytes of the Secret Data object named by the one PKCS#12 Password Link among
 * `links` (Link attribute values), once it is Active; refused otherwise.
 */
export async function pkcs12Password(
  ctx: OperationContext,
  links: readonly Attribute[],
): Promise<Uint8Array> {
  const targets = links
    .filter((a) => a.name === 'Link')
    .filter((a) => numberOf(childOf(a.value, Tag.LinkType)) === LinkType.PKCS_12PasswordLink)
    .map((a) => textOf(childOf(a.value, Tag.LinkedObjectIdentifier)));
  if (targets.length !== 1 || targets[0] === undefined) {
    throw badPassword(
      ctx,
      `a PKCS#12 object needs one PKCS#12 Password Link; it has ${targets.length}`,
    );
  }
  const uid = targets[0];
  const password = await loadObject(ctx, uid, { material: true });
  if (password.objectType !== ObjectType.SecretData) {
    throw badPassword(ctx, `the PKCS#12 Password Link names ${uid}, which is not Secret Data`);
  }
  if (password.state !== State.Active) {
    throw wrongState(
      ctx.version,
      `the PKCS#12 password ${uid} is ${stateName(password.state)}, not Active`,
    );
  }
  const bytes = bytesOf(
    childOf(
      childOf(childOf(password.object ?? undefined, Tag.KeyBlock), Tag.KeyValue),
      Tag.KeyMaterial,
    ),
  );
  if (bytes === undefined) {
    throw badPassword(ctx, `the PKCS#12 password ${uid} holds no password the server can read`);
  }
  return bytes;
}
