// Authorization beyond ownership (KMIP 2.1 §3 leaves access control to server policy).
// An object is usable by its owner and by admins; anyone else needs a grant of the operation,
// to their principal or to one of their groups. Objects whose Operation Policy Name is
// "default" (or that have none) follow the default policy: owner full rights, others none
// unless granted. A per-object-type default policy may add operations for everyone.
//
// Grants are kept as index entries of the stored object (name GRANT_ENTRY), which every store
// persists as it is: no schema change, and Locate can find the objects granted to a caller.
// No KMIP attribute name can be GRANT_ENTRY, so clients neither see nor forge them.

import { KmipError } from '../errors.js';
import type { OperationContext } from '../operations/context.js';
import type { IndexEntry } from '../store/object-store.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';

export const GRANT_ENTRY = '@grant';

/** Who is asking: the mapped principal, its groups, and the operation being run. */
export interface RequestAuth {
  principal: string;
  groups: readonly string[];
  operation?: string;
  /** Operations everyone may run on objects of a type, from the server configuration. */
  typePolicies?: TypePolicies;
}

export interface Grantee {
  kind: 'user' | 'group';
  name: string;
}

export interface Grant extends Grantee {
  /** Normalised KMIP operation names, e.g. 'Get', 'GetAttributes'. */
  operations: string[];
}

/** Operations granted to everyone for objects of a type (ObjectType name → operation names). */
export type TypePolicies = ReadonlyMap<string, ReadonlySet<string>>;

const requestAuth = new WeakMap<OperationContext, RequestAuth>();

/** Attached by the message layer to each request's context. */
export function setRequestAuth(ctx: OperationContext, auth: RequestAuth): void {
  requestAuth.set(ctx, auth);
}

export function authOf(ctx: OperationContext): RequestAuth {
  return requestAuth.get(ctx) ?? { principal: ctx.identity, groups: [] };
}

/**
 * Separates grantee and operation in a grant's index entry. U+001F (unit separator): it cannot
 * be in a principal name (refused below) and, unlike NUL, PostgreSQL text can hold it.
 */
const SEP = '\u001f';

function granteeKey(g: Grantee): string {
  return `${g.kind === 'group' ? 'g' : 'u'}:${g.name}`;
}

export function grantEntryValue(g: Grantee, operation: string): string {
  return `${granteeKey(g)}${SEP}${operation}`;
}

/** Parses `alice` or `user:alice` or `group:ops`. */
export function parseGrantee(text: string): Grantee {
  const m = /^(user|group):(.*)$/s.exec(text);
  const g: Grantee = m
    ? { kind: m[1] as Grantee['kind'], name: m[2]! }
    : { kind: 'user', name: text };
  if (g.name.length === 0 || g.name.includes(SEP) || g.name.includes('\u0000')) {
    throw new KmipError(ResultReason.InvalidField, 'grantee name is empty or invalid');
  }
  return g;
}

export function formatGrantee(g: Grantee): string {
  return `${g.kind}:${g.name}`;
}

/** `get`, `Get`, `get-attributes`, `GetAttributes` → the KMIP operation name. */
export function operationName(text: string): string {
  const wanted = text.replace(/[-_\s]/g, '').toLowerCase();
  for (let v = 1; v <= 0x40; v++) {
    const name = enumName(Tag.Operation, v);
    if (name !== undefined && name.toLowerCase() === wanted) return name;
  }
  throw new KmipError(ResultReason.InvalidField, `unknown operation ${text}`);
}

export function grantsOf(index: readonly IndexEntry[]): Grant[] {
  const byKey = new Map<string, Grant>();
  for (const e of index) {
    if (e.name !== GRANT_ENTRY || typeof e.value !== 'string') continue;
    const cut = e.value.indexOf(SEP);
    const key = e.value.slice(0, cut);
    const grant = byKey.get(key) ?? {
      kind: key.startsWith('g:') ? 'group' : 'user',
      name: key.slice(2),
      operations: [],
    };
    grant.operations.push(e.value.slice(cut + 1));
    byKey.set(key, grant);
  }
  return [...byKey.values()];
}

export function grantEntries(index: readonly IndexEntry[]): IndexEntry[] {
  return index.filter((e) => e.name === GRANT_ENTRY);
}

/** Index entries of `index` after granting or revoking operations for a grantee. */
export function editGrants(
  index: readonly IndexEntry[],
  g: Grantee,
  operations: readonly string[],
  mode: 'grant' | 'revoke',
): IndexEntry[] {
  const prefix = `${granteeKey(g)}${SEP}`;
  const drop = new Set(operations.map((op) => prefix + op));
  const kept = index.filter(
    (e) =>
      e.name !== GRANT_ENTRY ||
      typeof e.value !== 'string' ||
      (mode === 'revoke'
        ? !(operations.length === 0 ? e.value.startsWith(prefix) : drop.has(e.value))
        : !drop.has(e.value)),
  );
  if (mode === 'revoke') return kept;
  return [...kept, ...operations.map((op) => ({ name: GRANT_ENTRY, value: prefix + op }))];
}

/** The grantee keys a caller matches: its principal and each of its groups. */
export function callerGrantees(auth: RequestAuth): Grantee[] {
  return [
    { kind: 'user', name: auth.principal },
    ...auth.groups.map((name) => ({ kind: 'group' as const, name })),
  ];
}

export interface AccessTarget {
  owner: string;
  objectType: number;
  index: readonly IndexEntry[];
}

/** Is the caller the object's owner or an administrator (no grant needed)? */
export function ownsOrAdministers(ctx: OperationContext, obj: { owner: string }): boolean {
  return ctx.isAdmin || obj.owner === authOf(ctx).principal;
}

/** May the caller run its current operation on this object? */
export function mayUse(ctx: OperationContext, obj: AccessTarget): boolean {
  if (ownsOrAdministers(ctx, obj)) return true;
  const auth = authOf(ctx);
  const op = auth.operation;
  if (op === undefined) return false;
  const typeName = enumName(Tag.ObjectType, obj.objectType);
  if (typeName !== undefined && auth.typePolicies?.get(typeName)?.has(op)) return true;
  const wanted = new Set(callerGrantees(auth).map((g) => grantEntryValue(g, op)));
  return obj.index.some((e) => e.name === GRANT_ENTRY && wanted.has(e.value as string));
}

/** Does the object hold any grant for the caller (so its existence is no secret to it)? */
export function hasAnyGrant(ctx: OperationContext, obj: AccessTarget): boolean {
  const keys = new Set(callerGrantees(authOf(ctx)).map((g) => `${granteeKey(g)}${SEP}`));
  return obj.index.some(
    (e) =>
      e.name === GRANT_ENTRY &&
      typeof e.value === 'string' &&
      keys.has(e.value.slice(0, e.value.indexOf(SEP) + 1)),
  );
}

/** Owner or admin: who may change an object's grants. */
export function mayAdminister(ctx: OperationContext, owner: string): boolean {
  return ctx.isAdmin || owner === authOf(ctx).principal;
}
