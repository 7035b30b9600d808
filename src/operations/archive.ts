// KMIP 2.1 §6.1.3 Archive (KMIP 1.4 §4.22): the client allows the server to move the object to
// archival storage. The server records the Archive Date (KMIP 2.1 §4.5) and answers Object
// Archived to operations that need the object on-line until Recover brings it back. The object's
// State does not change.

import { KmipError } from '../errors.js';
import { item } from '../kmip/items.js';
import { attr, type ManagedObject, setAttr } from '../objects/managed-object.js';
import { loadObject, saveObject } from '../objects/repository.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { targetUid } from './target.js';
import { UidOnly, UidResult } from './uid-payload.js';

/** An object is archived while it carries an Archive Date. */
export function isArchived(mo: ManagedObject): boolean {
  return attr(mo, 'ArchiveDate') !== undefined;
}

/** Refuses an archived object: it has to be recovered first (KMIP 2.1 §11 Object Archived). */
export function requireOnline(mo: ManagedObject): void {
  if (isArchived(mo)) {
    throw new KmipError(
      ResultReason.ObjectArchived,
      `object ${mo.uid} is archived; recover it first`,
    );
  }
}

export const archive = operation({
  request: UidOnly,
  response: UidResult,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid);
    requireOnline(mo);
    setAttr(mo, item.date(Tag.ArchiveDate, ctx.now));
    setAttr(mo, item.date(Tag.LastChangeDate, ctx.now));
    await saveObject(ctx, mo);
    return { uniqueIdentifier: uid };
  },
});
