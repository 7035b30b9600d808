// KMIP 2.1 §6.1.34 Modify Attribute (KMIP 1.4 §4.15): replaces the value of an existing
// attribute instance, or sets a single-instance attribute the object does not have yet. 1.x
// names the instance by Attribute Index (default 0) and answers with the new attribute; 2.x
// names it by Current Attribute (default: the only or first instance).

import { attributeHolder, indexedAttribute1x } from '../kmip/attribute-fields.js';
import { opt, struct, text, versions } from '../kmip/schema.js';
import {
  attributeNotFound,
  isMultiInstance,
  requireDateChangeAllowed,
  requireUniqueName,
  requireWritable,
} from '../objects/attribute-rules.js';
import { encodeTtlv } from '../ttlv/binary.js';
import { Tag } from '../ttlv/spec/generated.js';
import { editAttributes, instancesOf, noAttribute } from './attribute-edits.js';
import { operation } from './context.js';

const ModifyAttributeRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  attribute: opt(indexedAttribute1x()),
  currentAttribute: opt(attributeHolder(Tag.CurrentAttribute)),
  newAttribute: opt(attributeHolder(Tag.NewAttribute)),
});

const ModifyAttributeResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  attribute: opt(versions(indexedAttribute1x(), { until: '1.4' })),
});

export const modifyAttribute = operation({
  request: ModifyAttributeRequest,
  response: ModifyAttributeResponse,
  async run(req, ctx) {
    const next = req.newAttribute ?? req.attribute?.attribute;
    if (next === undefined) throw noAttribute();
    let index = req.attribute?.index ?? 0;
    const { uid } = await editAttributes(ctx, req.uniqueIdentifier, async (mo) => {
      requireWritable(ctx.version, next.name);
      const at = instancesOf(mo, next.name);
      if (req.currentAttribute !== undefined) {
        const current = encodeTtlv(req.currentAttribute.value);
        index = at.findIndex((i) => encodeTtlv(mo.attributes[i]!.value).equals(current));
      }
      const position = at[index];
      // A single-instance attribute the object lacks is set, as Set Attribute would: clients
      // such as NAS appliances modify the Activation Date of a new object, whose first value
      // is the one they ask for.
      const absentSingle = at.length === 0 && index === 0 && !isMultiInstance(next.name);
      if (position === undefined && !absentSingle) throw attributeNotFound(ctx.version, next.name);
      requireDateChangeAllowed(ctx, mo.state, next);
      await requireUniqueName(ctx, mo.uid, next);
      if (position === undefined) mo.attributes.push(next);
      else mo.attributes[position] = next;
      return next;
    });
    return { uniqueIdentifier: uid, attribute: { attribute: next, index } };
  },
});
