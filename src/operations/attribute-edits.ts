// Shared steps of the attribute-changing operations (Add, Modify, Delete, Set Attribute):
// load the caller's object, apply the change under the attribute rules and the server's
// constraints, let a due Activation Date take effect, stamp Last Change Date, save.

import { KmipError } from '../errors.js';
import type { Attribute } from '../kmip/attributes.js';
import { dateOf, item } from '../kmip/items.js';
import { requireConstraintsKept } from '../objects/constraints.js';
import { DESTROYED_STATES, transition } from '../objects/lifecycle.js';
import { type ManagedObject, setAttr, wrongState } from '../objects/managed-object.js';
import { loadObject, saveObject } from '../objects/repository.js';
import { ResultReason, State, Tag } from '../ttlv/spec/generated.js';
import type { OperationContext } from './context.js';
import { targetUid } from './target.js';

export async function editAttributes(
  ctx: OperationContext,
  uid: string | undefined,
  change: (mo: ManagedObject) => Promise<Attribute | undefined> | Attribute | undefined,
): Promise<{ uid: string; attribute: Attribute | undefined }> {
  const target = targetUid(uid, ctx);
  const mo = await loadObject(ctx, target);
  if (DESTROYED_STATES.includes(mo.state)) {
    throw wrongState(ctx.version, 'the object has been destroyed');
  }
  const before = { objectType: mo.objectType, attributes: [...mo.attributes] };
  const attribute = await change(mo);
  await requireConstraintsKept(ctx, before, mo);
  activateWhenDue(ctx, mo);
  setAttr(mo, item.date(Tag.LastChangeDate, ctx.now));
  await saveObject(ctx, mo);
  return { uid: target, attribute };
}

/**
 * An Activation Date at or before now makes a Pre-Active object Active (KMIP 1.4 §3.24,
 * KMIP 2.1 §4.1), whichever operation set it; the client's date is kept.
 */
function activateWhenDue(ctx: OperationContext, mo: ManagedObject): void {
  if (mo.state !== State.PreActive) return;
  const activation = dateOf(mo.attributes.find((a) => a.name === 'ActivationDate')?.value);
  if (activation !== undefined && activation <= ctx.now) transition(ctx, mo, State.Active);
}

/** Instances of one attribute, with their positions in the object's list. */
export function instancesOf(mo: ManagedObject, name: string): number[] {
  const at: number[] = [];
  mo.attributes.forEach((a, i) => {
    if (a.name === name) at.push(i);
  });
  return at;
}

export function noAttribute(): KmipError {
  return new KmipError(ResultReason.InvalidField, 'no attribute given');
}
