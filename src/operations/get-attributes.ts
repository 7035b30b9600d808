// KMIP 2.1 §6.1.24 Get Attributes (KMIP 1.4 §4.12): the named attributes, or all of them when
// none is named, in the form of the request's version. Attributes the version does not define
// are left out.

import { attributeSet, indexedAttribute1x } from '../kmip/attribute-fields.js';
import { attributeName1x, attributeReference } from '../kmip/attribute-names.js';
import { attributeInVersion, withIndexes } from '../kmip/attributes.js';
import { many, opt, struct, text, versions } from '../kmip/schema.js';
import { loadObject } from '../objects/repository.js';
import { Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { targetUid } from './target.js';

const GetAttributesRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  attributeNames: many(attributeName1x()),
  attributeReferences: many(attributeReference()),
});

const GetAttributesResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  attributeList: many(versions(indexedAttribute1x(), { until: '1.4' })),
  attributes: opt(attributeSet(Tag.Attributes)),
});

export const getAttributes = operation({
  request: GetAttributesRequest,
  response: GetAttributesResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid);
    const wanted = [...(req.attributeNames ?? []), ...(req.attributeReferences ?? [])];
    const visible = mo.attributes.filter((a) => attributeInVersion(a, ctx.version));
    const chosen = wanted.length === 0 ? visible : visible.filter((a) => wanted.includes(a.name));
    // Each form is declared for its versions; the writer keeps the one the client speaks.
    return { uniqueIdentifier: uid, attributeList: withIndexes(chosen), attributes: chosen };
  },
});
