// Between the operations and the ObjectStore: owner checks, attribute (de)serialisation, the
// Locate index, and key protection. The object structure is encoded to TTLV and wrapped by the
// KeyWrapper with the UID as associated data, so no key value, secret or opaque blob reaches
// the store in clear. Each durable change is reported to `ctx.changes` when one listens
// (src/objects/changes.ts).

import { GRANT_ENTRY, grantEntries, mayUse, ownsOrAdministers } from '../auth/access.js';
import { KmipError } from '../errors.js';
import { type Attribute, fromAttributes2x, toAttribute2x } from '../kmip/attributes.js';
import type { OperationContext } from '../operations/context.js';
import type { IndexEntry, StoredObject } from '../store/object-store.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { requireConstraints } from './constraints.js';
import type { ManagedObject } from './managed-object.js';
import { derSerialIdentifier } from './object-attributes.js';

/** Attribute sets are stored version-neutral, every attribute kept (1.x-only ones included). */
function encodeAttributes(list: readonly Attribute[]): Buffer {
  return encodeTtlv({
    tag: Tag.Attributes,
    type: ItemType.Structure,
    value: list.map(toAttribute2x),
  });
}

function decodeAttributes(bytes: Buffer): Attribute[] {
  return fromAttributes2x(decodeTtlv(bytes, { maxMessageBytes: Number.MAX_SAFE_INTEGER }));
}

/** What Locate can filter on: primitives as they are, Name by its text, Link by target. */
export function indexEntries(list: readonly Attribute[]): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (const a of list) {
    if (a.name === GRANT_ENTRY) continue;
    const v = indexValue(a.value);
    if (v !== undefined) out.push({ name: a.name, value: v });
  }
  return out;
}

function indexValue(item: TtlvItem): IndexEntry['value'] | undefined {
  switch (item.type) {
    case ItemType.Structure: {
      // Name and Link are found by their text; any other structure by its whole encoding, an
      // X.509 Certificate Identifier with its serial number in one form.
      const key = item.value.find(
        (c) => c.tag === Tag.NameValue || c.tag === Tag.LinkedObjectIdentifier,
      );
      if (key !== undefined) return key.type === ItemType.TextString ? key.value : undefined;
      const whole = item.tag === Tag.X_509CertificateIdentifier ? derSerialIdentifier(item) : item;
      return `s:${encodeTtlv({ ...whole, tag: 0 })
        .subarray(8)
        .toString('hex')}`;
    }
    case ItemType.Boolean:
      return item.value ? 1 : 0;
    case ItemType.ByteString:
    case ItemType.BigInteger:
      return Buffer.from(item.value).toString('hex');
    default:
      return item.value;
  }
}

/** KMIP 2.x names the missing object Object Not Found; 1.x has Item Not Found. */
export function notFound(ctx: OperationContext, uid: string): KmipError {
  return new KmipError(
    versionAtLeast(ctx.version, '2.0') ? ResultReason.ObjectNotFound : ResultReason.ItemNotFound,
    `no object with identifier ${uid}`,
  );
}

/** Stores a new object, once it satisfies the server's constraints (src/objects/constraints.ts). */
export async function insertObject(ctx: OperationContext, mo: ManagedObject): Promise<void> {
  await requireConstraints(ctx, [mo]);
  await ctx.store.insert(await toStored(ctx, mo));
  mo.revision = 1;
  ctx.onUndo(async () => {
    await ctx.store.remove(mo.uid);
  });
  ctx.changes?.({ kind: 'created', object: mo });
}

/**
 * Loads an object the caller may use (owner, admin, or a grant of the current operation: see
 * src/auth/access.ts). Any other object is reported as not found, so that its existence does
 * not leak (KMIP 2.1 §3 access control is server policy).
 */
export async function loadObject(
  ctx: OperationContext,
  uid: string,
  opts: { material?: boolean } = {},
): Promise<ManagedObject> {
  // The index entries hold the grants, which only a caller other than the owner needs.
  let stored = await ctx.store.get(uid, { index: false });
  if (stored !== undefined && !ownsOrAdministers(ctx, stored)) stored = await ctx.store.get(uid);
  if (stored === undefined || !mayUse(ctx, stored)) {
    throw notFound(ctx, uid);
  }
  let object: StructureItem | null = null;
  if (opts.material && stored.material !== null) {
    const clear = await ctx.wrapper.unwrap(stored.material, uid);
    object = decodeTtlv(clear, { maxMessageBytes: Number.MAX_SAFE_INTEGER }) as StructureItem;
    clear.fill(0);
  }
  return {
    uid: stored.uid,
    owner: stored.owner,
    objectType: stored.objectType,
    state: stored.state,
    attributes: decodeAttributes(stored.attributes),
    object,
    revision: stored.revision,
    createdAt: stored.createdAt,
  };
}

/**
 * Saves changes made to a loaded object. `dropMaterial` removes the wrapped value (Destroy);
 * otherwise the stored material is kept as it is. A concurrent change is a failure the client
 * may retry.
 */
export async function saveObject(
  ctx: OperationContext,
  mo: ManagedObject,
  opts: { dropMaterial?: boolean } = {},
): Promise<void> {
  const before = await ctx.store.get(mo.uid);
  if (before === undefined) throw new KmipError(ResultReason.ItemNotFound, `no object ${mo.uid}`);
  const next: StoredObject = {
    ...before,
    state: mo.state,
    attributes: encodeAttributes(mo.attributes),
    // Grants are not attributes: they survive every attribute change.
    index: [...indexEntries(mo.attributes), ...grantEntries(before.index)],
    material: opts.dropMaterial ? null : before.material,
    revision: mo.revision + 1,
  };
  // Compare against the revision the handler read, not the one just fetched: a change made
  // by another request (or node) after the handler loaded the object must not be overwritten.
  if (before.revision !== mo.revision || !(await ctx.store.update(next, mo.revision))) {
    throw new KmipError(
      ResultReason.GeneralFailure,
      `object ${mo.uid} was changed concurrently; retry`,
    );
  }
  mo.revision = next.revision;
  ctx.onUndo(async () => {
    await ctx.store.update({ ...before, revision: next.revision + 1 }, next.revision);
  });
  ctx.changes?.({
    kind: 'changed',
    uid: mo.uid,
    owner: before.owner,
    before: decodeAttributes(before.attributes),
    after: mo.attributes,
  });
}

/**
 * Puts MO in the place of the stored object EXISTING (same Unique Identifier; Import with
 * Replace Existing) in one atomic store write, so a crash leaves one of the two, never neither.
 */
export async function replaceObject(
  ctx: OperationContext,
  mo: ManagedObject,
  existing: StoredObject,
): Promise<void> {
  await requireConstraints(ctx, [mo]);
  if (!(await ctx.store.replace(await toStored(ctx, mo), existing.revision))) {
    throw new KmipError(
      ResultReason.GeneralFailure,
      `object ${mo.uid} was changed concurrently; retry`,
    );
  }
  mo.revision = existing.revision + 1;
  ctx.onUndo(async () => {
    await ctx.store.replace(existing, mo.revision);
  });
  ctx.changes?.({ kind: 'replaced', object: mo });
}

async function toStored(ctx: OperationContext, mo: ManagedObject): Promise<StoredObject> {
  let material: StoredObject['material'] = null;
  if (mo.object !== null) {
    const clear = encodeTtlv(mo.object);
    material = await ctx.wrapper.wrap(clear, mo.uid);
    clear.fill(0);
  }
  return {
    uid: mo.uid,
    owner: mo.owner,
    objectType: mo.objectType,
    state: mo.state,
    attributes: encodeAttributes(mo.attributes),
    index: indexEntries(mo.attributes),
    material,
    revision: 1,
    createdAt: mo.createdAt,
  };
}
