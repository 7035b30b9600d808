// Locate's scope: the caller's own objects (every object for an admin), plus the objects
// granted to the caller, its groups, or its object types' default policy, for Locate.

import type { OperationContext } from '../operations/context.js';
import type { LocateFilter } from '../store/object-store.js';
import { ObjectType } from '../ttlv/spec/generated.js';
import { authOf, callerGrantees, GRANT_ENTRY, grantEntryValue } from './access.js';

/** Matching uids in insertion order, as ObjectStore.locate answers. */
export async function locateScope(
  ctx: OperationContext,
  filters: LocateFilter[],
): Promise<string[]> {
  if (ctx.isAdmin) return ctx.store.locate({ filters });
  const auth = authOf(ctx);
  const owned = await ctx.store.locate({ owner: auth.principal, filters });
  const extra: LocateFilter[][] = callerGrantees(auth).map((g) => [
    ...filters,
    { name: GRANT_ENTRY, op: 'eq', value: grantEntryValue(g, 'Locate') },
  ]);
  const types: Readonly<Record<string, number | undefined>> = ObjectType;
  for (const [typeName, ops] of auth.typePolicies ?? []) {
    const value = types[typeName];
    if (ops.has('Locate') && value !== undefined) {
      extra.push([...filters, { name: 'ObjectType', op: 'eq', value }]);
    }
  }
  const seen = new Set(owned);
  const granted: string[] = [];
  for (const f of extra) {
    for (const uid of await ctx.store.locate({ filters: f })) {
      if (!seen.has(uid)) {
        seen.add(uid);
        granted.push(uid);
      }
    }
  }
  if (granted.length === 0) return owned;
  // Several scopes merged: back into creation order (the stores' insertion order).
  const created = new Map<string, number>();
  for (const uid of [...owned, ...granted]) {
    created.set(uid, (await ctx.store.get(uid))?.createdAt ?? 0);
  }
  return [...owned, ...granted].sort((a, b) => created.get(a)! - created.get(b)!);
}
