// The object lifecycle (KMIP 2.1 §4.57 State, Figure "Cryptographic Object States and
// Transitions"; KMIP 1.4 §3.22): which state an operation moves an object to, and the date
// attribute that records it.

import { item } from '../kmip/items.js';
import type { OperationContext } from '../operations/context.js';
import { State, Tag } from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import { type ManagedObject, setAttr, wrongState } from './managed-object.js';

export function stateName(state: number): string {
  return enumName(Tag.State, state) ?? String(state);
}

/** Moves the object to `state`, stamping the given date attribute and Last Change Date. */
export function transition(
  ctx: OperationContext,
  mo: ManagedObject,
  state: number,
  dateTag?: number,
): void {
  mo.state = state;
  setAttr(mo, item.enum(Tag.State, state));
  if (dateTag !== undefined) setAttr(mo, item.date(dateTag, ctx.now));
  setAttr(mo, item.date(Tag.LastChangeDate, ctx.now));
}

export function requireState(
  ctx: OperationContext,
  mo: ManagedObject,
  allowed: readonly number[],
  action: string,
): void {
  if (!allowed.includes(mo.state)) {
    throw wrongState(ctx.version, `cannot ${action} an object in state ${stateName(mo.state)}`);
  }
}

export const DESTROYED_STATES: readonly number[] = [State.Destroyed, State.DestroyedCompromised];
