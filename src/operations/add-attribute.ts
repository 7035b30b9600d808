// KMIP 2.1 §6.1.2 Add Attribute (KMIP 1.4 §4.14): a new attribute or a further instance of a
// multi-instance one. 1.x answers with the attribute added and its Attribute Index (the count
// of earlier instances of that attribute; TC-CREG-1-14); 2.x with the identifier only.

import { attribute1x, attributeHolder, indexedAttribute1x } from '../kmip/attribute-fields.js';
import { opt, struct, text } from '../kmip/schema.js';
import {
  requireDateChangeAllowed,
  requireNotPresent,
  requireUniqueName,
  requireWritable,
} from '../objects/attribute-rules.js';
import { Tag } from '../ttlv/spec/generated.js';
import { editAttributes, noAttribute } from './attribute-edits.js';
import { operation } from './context.js';

const AddAttributeRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  attribute: opt(attribute1x()),
  newAttribute: opt(attributeHolder(Tag.NewAttribute)),
});

const AddAttributeResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  attribute: opt(indexedAttribute1x()),
});

export const addAttribute = operation({
  request: AddAttributeRequest,
  response: AddAttributeResponse,
  async run(req, ctx) {
    const a = req.newAttribute ?? req.attribute;
    let index = 0;
    const { uid } = await editAttributes(ctx, req.uniqueIdentifier, async (mo) => {
      if (a === undefined) throw noAttribute();
      requireWritable(ctx.version, a.name);
      requireNotPresent(ctx.version, mo.attributes, a.name);
      requireDateChangeAllowed(ctx, mo.state, a);
      await requireUniqueName(ctx, mo.uid, a);
      index = mo.attributes.filter((b) => b.name === a.name).length;
      mo.attributes.push(a);
      return a;
    });
    return {
      uniqueIdentifier: uid,
      attribute: a === undefined ? undefined : { attribute: a, index },
    };
  },
});
