// Locate's scope: the caller's own objects (every object for an admin), plus the objects
// granted to the caller, its groups, or its object types' default policy, for Locate.

import type { OperationContext } from '../operations/context.js';
import type { LocateFilter } from '../store/object-store.js';
import { ObjectType } from '../ttlv/spec/generated.js';
import { authOf, callerGrantees, GRANT_ENTRY, grantEntryValue } from './access.js';

/** Which matches Locate answers: newest first, `offset` skipped, at most `limit`. */
export interface LocatePage {
  offset: number;
  limit: number;
  /** Also count every match (Located Items); costs a pass over all of them. */
  countAll: boolean;
}

/**
 * The page of matching uids, newest first, and the number of all matches when asked. Only the
 * first offset + limit matches of each scope are read unless every match must be counted.
 */
export async function locateScope(
  ctx: OperationContext,
  filters: LocateFilter[],
  page: LocatePage,
): Promise<{ uids: string[]; total?: number }> {
  if (ctx.isAdmin) {
    const [uids, total] = await Promise.all([
      ctx.store.locate({ filters, newestFirst: true, offset: page.offset, limit: page.limit }),
      page.countAll ? ctx.store.countMatches({ filters }) : undefined,
    ]);
    return { uids, total };
  }
  const auth = authOf(ctx);
  // Every match when they must be counted; else the head of each scope covers the merged page.
  const head = page.countAll ? undefined : page.offset + page.limit;
  const scoped = (q: { owner?: string; filters: LocateFilter[] }) =>
    ctx.store.locate({ ...q, newestFirst: true, limit: head });
  const owned = await scoped({ owner: auth.principal, filters });
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
    for (const uid of await scoped({ filters: f })) {
      if (!seen.has(uid)) {
        seen.add(uid);
        granted.push(uid);
      }
    }
  }
  let all = owned;
  if (granted.length > 0) {
    // Several scopes merged: back into creation order, newest first. Objects made in the same
    // millisecond keep the granted ones first, as before the stores answered newest first.
    const merged = [...granted, ...owned];
    const created = new Map<string, number>();
    for (const uid of merged) created.set(uid, (await ctx.store.get(uid))?.createdAt ?? 0);
    all = merged.sort((a, b) => created.get(b)! - created.get(a)!);
  }
  return {
    uids: all.slice(page.offset, page.offset + page.limit),
    total: page.countAll ? all.length : undefined,
  };
}
