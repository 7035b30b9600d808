// KMIP 2.1 §6.1.15 Delete Attribute (KMIP 1.4 §4.16): removes one attribute instance. 1.x
// names it by Attribute Name and Index and answers with the deleted attribute; 2.x names it
// by Current Attribute or Attribute Reference. Server-maintained attributes stay.

import { attribute1x, attributeHolder } from '../kmip/attribute-fields.js';
import { attributeName1x, attributeReference } from '../kmip/attribute-names.js';
import { int, opt, struct, text, versions } from '../kmip/schema.js';
import { attributeNotFound, requireWritable } from '../objects/attribute-rules.js';
import { encodeTtlv } from '../ttlv/binary.js';
import { Tag } from '../ttlv/spec/generated.js';
import { editAttributes, instancesOf, noAttribute } from './attribute-edits.js';
import { operation } from './context.js';

const DeleteAttributeRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  attributeName: opt(attributeName1x()),
  attributeIndex: opt(int(Tag.AttributeIndex)),
  currentAttribute: opt(attributeHolder(Tag.CurrentAttribute)),
  attributeReference: opt(attributeReference()),
});

const DeleteAttributeResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  attribute: opt(versions(attribute1x(), { until: '1.4' })),
});

export const deleteAttribute = operation({
  request: DeleteAttributeRequest,
  response: DeleteAttributeResponse,
  async run(req, ctx) {
    const name = req.currentAttribute?.name ?? req.attributeReference ?? req.attributeName;
    if (name === undefined) throw noAttribute();
    const { uid, attribute } = await editAttributes(ctx, req.uniqueIdentifier, (mo) => {
      requireWritable(ctx.version, name);
      const at = instancesOf(mo, name);
      let index = req.attributeIndex ?? 0;
      if (req.currentAttribute !== undefined) {
        const current = encodeTtlv(req.currentAttribute.value);
        index = at.findIndex((i) => encodeTtlv(mo.attributes[i]!.value).equals(current));
      }
      const position = at[index];
      if (position === undefined) throw attributeNotFound(ctx.version, name);
      const [removed] = mo.attributes.splice(position, 1);
      return removed;
    });
    return { uniqueIdentifier: uid, attribute };
  },
});
