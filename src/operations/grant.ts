// kmipd extension operations Grant and Revoke Grant: the owner of an object (or an admin)
// lets a principal or a group run a list of operations on it, or takes that back. KMIP 2.1
// §3 leaves access control to the server; these use the vendor range of the Operation
// enumeration (values 8XXXXXXX, KMIP 2.1 §5.4 extensions), so no standard client sends them.
// Payload: Unique Identifier, the grantee as Username ("alice", "user:alice", "group:ops"),
// and the operations as repeated Operation enumerations (none: every grant of the grantee,
// for Revoke Grant).

import {
  editGrants,
  formatGrantee,
  grantsOf,
  hasAnyGrant,
  mayAdminister,
  parseGrantee,
} from '../auth/access.js';
import { KmipError } from '../errors.js';
import { enumeration, many, opt, struct, text } from '../kmip/schema.js';
import { notFound } from '../objects/repository.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import { type OperationContext, operation } from './context.js';
import { targetUid } from './target.js';

/** Vendor extension values of the Operation enumeration. */
export const GRANT_OPERATION = 0x8000_0101;
export const REVOKE_GRANT_OPERATION = 0x8000_0102;

const GrantRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  grantee: text(Tag.Username),
  operations: many(enumeration(Tag.Operation)),
});

const GrantResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  /** Every grant left on the object, one "grantee operation" text each. */
  grants: many(text(Tag.Description)),
});

async function edit(
  req: { uniqueIdentifier?: string; grantee: string; operations?: number[] },
  ctx: OperationContext,
  mode: 'grant' | 'revoke',
) {
  const uid = targetUid(req.uniqueIdentifier, ctx);
  const stored = await ctx.store.get(uid);
  if (stored === undefined) throw notFound(ctx, uid);
  if (!mayAdminister(ctx, stored.owner)) {
    // A grantee, which knows the object exists, learns only that it may not change grants.
    if (hasAnyGrant(ctx, stored)) {
      throw new KmipError(ResultReason.PermissionDenied, 'only the owner or an admin may grant');
    }
    throw notFound(ctx, uid);
  }
  const operations = (req.operations ?? []).map((op) => {
    const name = enumName(Tag.Operation, op);
    if (name === undefined)
      throw new KmipError(ResultReason.InvalidField, `unknown operation ${op}`);
    return name;
  });
  if (mode === 'grant' && operations.length === 0) {
    throw new KmipError(ResultReason.InvalidField, 'name at least one operation to grant');
  }
  const index = editGrants(stored.index, parseGrantee(req.grantee), operations, mode);
  if (
    !(await ctx.store.update({ ...stored, index, revision: stored.revision + 1 }, stored.revision))
  ) {
    throw new KmipError(
      ResultReason.GeneralFailure,
      `object ${uid} was changed concurrently; retry`,
    );
  }
  ctx.onUndo(async () => {
    await ctx.store.update({ ...stored, revision: stored.revision + 2 }, stored.revision + 1);
  });
  const grants = grantsOf(index).flatMap((g) =>
    g.operations.map((op) => `${formatGrantee(g)} ${op}`),
  );
  return { uniqueIdentifier: uid, grants };
}

export const grant = operation({
  request: GrantRequest,
  response: GrantResponse,
  run: (req, ctx) => edit(req, ctx, 'grant'),
});

export const revokeGrant = operation({
  request: GrantRequest,
  response: GrantResponse,
  run: (req, ctx) => edit(req, ctx, 'revoke'),
});

/** The extension operations, looked up after the standard registry. */
export const GRANT_OPERATIONS = new Map([
  [GRANT_OPERATION, grant],
  [REVOKE_GRANT_OPERATION, revokeGrant],
]);
