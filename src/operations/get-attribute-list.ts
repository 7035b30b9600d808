// KMIP 2.1 §6.1.25 Get Attribute List (KMIP 1.4 §4.13): the names of the object's attributes
// (1.x Attribute Name text, 2.x Attribute Reference), each once.

import { attributeName1x, attributeReference } from '../kmip/attribute-names.js';
import { attributeInVersion } from '../kmip/attributes.js';
import { many, struct, text } from '../kmip/schema.js';
import { loadObject } from '../objects/repository.js';
import { Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { targetUid } from './target.js';
import { UidOnly } from './uid-payload.js';

const GetAttributeListResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  attributeNames: many(attributeName1x()),
  attributeReferences: many(attributeReference()),
});

export const getAttributeList = operation({
  request: UidOnly,
  response: GetAttributeListResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid);
    const names = [
      ...new Set(
        mo.attributes.filter((a) => attributeInVersion(a, ctx.version)).map((a) => a.name),
      ),
    ];
    return { uniqueIdentifier: uid, attributeNames: names, attributeReferences: names };
  },
});
