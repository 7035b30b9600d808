// Server constraints (KMIP 2.1 Set Constraints, Get Constraints; Result Reason Constraint
// Violation): rules an administrator sets on the objects the server may make. Each Constraint
// names Object Types, optionally Object Groups, and Attributes.
//
// Semantics, as kmipd applies them:
// - A constraint applies to a new object when the object's Object Type is in its Object Types.
// - A new object matches a constraint that applies to it when
//   (a) the constraint gives no Object Groups, or the object has an Object Group attribute
//       whose value is one of them, and
//   (b) for every attribute the constraint lists, the object has an instance of that attribute
//       (same name, vendor attributes included) whose value has the same TTLV encoding: same
//       item type and value; structures compare child by child, in order.
//   The object's attributes are its full set as stored: those the client gave and those the
//   server derived or defaulted (Cryptographic Algorithm and Length read from a key, State, ...).
// - When at least one constraint applies, the object must match at least one of them, or the
//   operation fails with Constraint Violation and nothing is stored. Constraints are
//   alternatives: "AES-256 in Group1, or AES-192 in any group".
// - An object whose type no constraint names is not constrained.
// Every operation that makes an object is held to them: Create, Create Key Pair, Register,
// Import, Re-key, Re-key Key Pair, Derive Key, Certify, Re-certify, Create Split Key, Join
// Split Key (they all store through src/objects/repository.ts), and so is `kmipd import
// --from-pykmip`, which stores the same way. An attribute edit (Add, Modify, Delete, Set
// Attribute) fails with Constraint Violation when the object matched a constraint before it
// and matches none after; lifecycle changes (Activate, Revoke, ...) are not checked.
//
// The list is kept in the ObjectStore as one setting (the Constraints structure in TTLV), so
// it survives restarts and every server process on the store enforces the same list. It is
// read once per request message: a batch sees one list, its own Set Constraints included.

import { KmipError } from '../errors.js';
import { attributeSet } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { enumeration, many, opt, struct, type TypeOf, text } from '../kmip/schema.js';
import type { OperationContext } from '../operations/context.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { enumName, enumValueExistsIn, type KmipVersion } from '../ttlv/spec/index.js';
import type { ManagedObject } from './managed-object.js';

/**
 * Most constraints one Set Constraints may set. Every new object is compared with each of them
 * and every request that makes one reads the whole list: an unbounded list would make every
 * Create slow and every read of the setting large.
 */
export const MAX_CONSTRAINTS = 64;
/** Most Object Types, Object Groups, and Attributes (each) in one Constraint, for the same reason. */
export const MAX_CONSTRAINT_ENTRIES = 32;

/** Name of the store setting that holds the list. */
export const CONSTRAINTS_SETTING = 'kmip.constraints';

/** The version the list is encoded in, in the store: the one that defines it. */
const STORED_VERSION: KmipVersion = '2.1';

const ObjectTypes = struct({ objectTypes: many(enumeration(Tag.ObjectType)) });
const ObjectGroups = struct({ objectGroups: many(text(Tag.ObjectGroup)) });

const Constraint = struct({
  objectTypes: ObjectTypes.at(Tag.ObjectTypes),
  objectGroups: opt(ObjectGroups.at(Tag.ObjectGroups)),
  attributes: opt(attributeSet(Tag.Attributes)),
});

/** The Constraints structure: Constraint, repeated. */
export const Constraints = struct({ constraints: many(Constraint.at(Tag.Constraint)) });

export type Constraint = TypeOf<typeof Constraint>;

const loaded = new WeakMap<OperationContext, readonly Constraint[]>();

/** Refuses a list over the limits, a Constraint without Object Types, an unknown Object Type. */
export function validateConstraints(list: readonly Constraint[], version: KmipVersion): void {
  if (list.length > MAX_CONSTRAINTS) {
    throw new KmipError(
      ResultReason.InvalidField,
      `at most ${MAX_CONSTRAINTS} constraints may be set, not ${list.length}`,
      ['Constraints'],
    );
  }
  list.forEach((c, i) => {
    const path = ['Constraints', `Constraint[${i + 1}]`];
    const types = c.objectTypes.objectTypes;
    if (types.length === 0) {
      throw new KmipError(ResultReason.InvalidField, 'a Constraint needs an Object Type', path);
    }
    const counts: Array<[string, number]> = [
      ['Object Types', types.length],
      ['Object Groups', c.objectGroups?.objectGroups.length ?? 0],
      ['Attributes', c.attributes?.length ?? 0],
    ];
    for (const [what, n] of counts) {
      if (n > MAX_CONSTRAINT_ENTRIES) {
        throw new KmipError(
          ResultReason.InvalidField,
          `a Constraint may hold at most ${MAX_CONSTRAINT_ENTRIES} ${what}, not ${n}`,
          path,
        );
      }
    }
    for (const t of types) {
      if (!enumValueExistsIn(Tag.ObjectType, t, version)) {
        throw new KmipError(ResultReason.InvalidField, `unknown Object Type 0x${t.toString(16)}`, [
          ...path,
          'ObjectTypes',
        ]);
      }
    }
  });
}

/** The list the store holds; empty when none is set. Read once per request message. */
export async function currentConstraints(ctx: OperationContext): Promise<readonly Constraint[]> {
  const seen = loaded.get(ctx);
  if (seen !== undefined) return seen;
  const bytes = await ctx.store.getSetting(CONSTRAINTS_SETTING);
  const list =
    bytes === undefined
      ? []
      : Constraints.read(
          decodeTtlv(bytes, { maxMessageBytes: Number.MAX_SAFE_INTEGER }),
          STORED_VERSION,
        ).constraints;
  loaded.set(ctx, list);
  return list;
}

/**
 * Replaces the list (an empty one removes the setting). Under Batch Error Continuation Option
 * Undo, the list before is put back.
 */
export async function replaceConstraints(
  ctx: OperationContext,
  list: readonly Constraint[],
): Promise<void> {
  const before = await ctx.store.getSetting(CONSTRAINTS_SETTING);
  const bytes =
    list.length === 0
      ? undefined
      : encodeTtlv(Constraints.write(Tag.Constraints, { constraints: [...list] }, STORED_VERSION));
  await ctx.store.putSetting(CONSTRAINTS_SETTING, bytes);
  loaded.set(ctx, list);
  ctx.onUndo(async () => {
    await ctx.store.putSetting(CONSTRAINTS_SETTING, before);
  });
}

function encoded(a: Attribute): Buffer {
  return encodeTtlv({ ...a.value, tag: 0 });
}

/** Does the object match this constraint (module comment, (a) and (b))? */
export function matchesConstraint(c: Constraint, mo: Pick<ManagedObject, 'attributes'>): boolean {
  const groups = c.objectGroups?.objectGroups ?? [];
  if (groups.length > 0) {
    const has = mo.attributes.some(
      (a) =>
        a.name === 'ObjectGroup' &&
        a.value.tag === Tag.ObjectGroup &&
        typeof a.value.value === 'string' &&
        groups.includes(a.value.value),
    );
    if (!has) return false;
  }
  return (c.attributes ?? []).every((want) => {
    const bytes = encoded(want);
    return mo.attributes.some((a) => a.name === want.name && encoded(a).equals(bytes));
  });
}

/**
 * Fails with Constraint Violation unless every object satisfies the constraints that apply to
 * its type. Operations that store several objects check them all before storing the first.
 */
type Constrained = Pick<ManagedObject, 'objectType' | 'attributes'>;

function applyingTo(list: readonly Constraint[], objectType: number): Constraint[] {
  return list.filter((c) => c.objectTypes.objectTypes.includes(objectType));
}

function violation(objectType: number, what: string, applying: number): KmipError {
  const type = enumName(Tag.ObjectType, objectType) ?? `0x${objectType.toString(16)}`;
  return new KmipError(
    ResultReason.ConstraintViolation,
    `${what.replace('$TYPE', type)} the ${applying} constraints set for its object type`,
  );
}

export async function requireConstraints(
  ctx: OperationContext,
  objects: ReadonlyArray<Constrained>,
): Promise<void> {
  const list = await currentConstraints(ctx);
  if (list.length === 0) return;
  for (const mo of objects) {
    const applying = applyingTo(list, mo.objectType);
    if (applying.length === 0 || applying.some((c) => matchesConstraint(c, mo))) continue;
    throw violation(mo.objectType, 'the new $TYPE matches none of', applying.length);
  }
}

/**
 * An attribute edit may not take an object out of the constraints it matched: BEFORE and
 * AFTER are the object's attributes around the edit. An object that matched none before (made
 * before the constraints were set) may still be edited.
 */
export async function requireConstraintsKept(
  ctx: OperationContext,
  before: Constrained,
  after: Constrained,
): Promise<void> {
  const list = await currentConstraints(ctx);
  if (list.length === 0) return;
  const applying = applyingTo(list, after.objectType);
  if (!applying.some((c) => matchesConstraint(c, before))) return;
  if (applying.some((c) => matchesConstraint(c, after))) return;
  throw violation(
    after.objectType,
    'the change leaves the $TYPE matching none of',
    applying.length,
  );
}
