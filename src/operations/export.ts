// KMIP 2.1 Export (KMIP 1.4 Export): the object together with all of its attributes, in the form
// Import takes back. Key Format Type, Key Wrap Type, Key Compression Type and Key Wrapping
// Specification have the semantics of Get, and so do its refusals (Sensitive, Not Extractable,
// Object Archived). A destroyed object is exported without its key material. The attributes
// are those the object had when the request arrived: Fresh is still true on the first export,
// which, like Get, gives the object to a client and clears it.

import { attributeSet } from '../kmip/attribute-fields.js';
import { toAttributes1x } from '../kmip/attributes.js';
import { objectFields } from '../kmip/object-fields.js';
import { enumeration, many, opt, raw, struct, text, versions } from '../kmip/schema.js';
import { loadObject } from '../objects/repository.js';
import { Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { requireOnline } from './archive.js';
import { operation } from './context.js';
import { GetRequest, objectForClient } from './get.js';
import { targetUid } from './target.js';

const ExportResponse = struct({
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  /** KMIP 1.4: each attribute as an `Attribute`, with its Attribute Index. */
  attributeList: many(versions(raw(Tag.Attribute), { until: '1.4' })),
  attributes: opt(attributeSet(Tag.Attributes)),
  ...objectFields(),
});

export const exportObject = operation({
  request: GetRequest,
  response: ExportResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid, { material: true });
    requireOnline(mo);
    const attributes = [...mo.attributes];
    const exported = {
      objectType: mo.objectType,
      uniqueIdentifier: uid,
      attributeList: versionAtLeast(ctx.version, '2.0')
        ? []
        : toAttributes1x(attributes, ctx.version),
      attributes,
    };
    if (mo.object === null) return exported;
    const { field, object } = await objectForClient(ctx, mo, req);
    return { ...exported, [field]: object };
  },
});
