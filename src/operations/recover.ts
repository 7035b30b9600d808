// KMIP 2.1 §6.1.42 Recover (KMIP 1.4 §4.23): an archived object is brought back on-line and its
// Archive Date removed (KMIP 2.1 §4.5: "deleted whenever a Recover operation is performed").
// Recovering an object that is not archived changes nothing and succeeds: it is on-line.

import { item } from '../kmip/items.js';
import { setAttr } from '../objects/managed-object.js';
import { loadObject, saveObject } from '../objects/repository.js';
import { Tag } from '../ttlv/spec/generated.js';
import { isArchived } from './archive.js';
import { operation } from './context.js';
import { targetUid } from './target.js';
import { UidOnly, UidResult } from './uid-payload.js';

export const recover = operation({
  request: UidOnly,
  response: UidResult,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid);
    if (isArchived(mo)) {
      mo.attributes = mo.attributes.filter((a) => a.name !== 'ArchiveDate');
      setAttr(mo, item.date(Tag.LastChangeDate, ctx.now));
      await saveObject(ctx, mo);
    }
    return { uniqueIdentifier: uid };
  },
});
