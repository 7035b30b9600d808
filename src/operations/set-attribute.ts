// KMIP 2.1 §6.1.49 Set Attribute (2.0+): with no instance of the attribute one is created, with
// exactly one it is replaced, and with more than one the request fails (Multi-Valued Attribute).
// This holds for multi-instance attributes too (TC-SETATTR-2/3-20).

import { KmipError } from '../errors.js';
import { attributeHolder } from '../kmip/attribute-fields.js';
import { opt, struct, text } from '../kmip/schema.js';
import {
  requireDateChangeAllowed,
  requireUniqueName,
  requireWritable,
} from '../objects/attribute-rules.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { editAttributes } from './attribute-edits.js';
import { operation } from './context.js';
import { UidResult } from './uid-payload.js';

const SetAttributeRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  newAttribute: attributeHolder(Tag.NewAttribute),
});

export const setAttribute = operation({
  request: SetAttributeRequest,
  response: UidResult,
  async run(req, ctx) {
    const a = req.newAttribute;
    const { uid } = await editAttributes(ctx, req.uniqueIdentifier, async (mo) => {
      requireWritable(ctx.version, a.name);
      const instances = mo.attributes.filter((x) => x.name === a.name).length;
      if (instances > 1) {
        throw new KmipError(
          ResultReason.MultiValuedAttribute,
          `${a.name} has ${instances} instances; use Modify Attribute with an Attribute Index`,
        );
      }
      requireDateChangeAllowed(ctx, mo.state, a);
      await requireUniqueName(ctx, mo.uid, a);
      const at = mo.attributes.findIndex((x) => x.name === a.name);
      if (at === -1) mo.attributes.push(a);
      else mo.attributes[at] = a;
      return a;
    });
    return { uniqueIdentifier: uid };
  },
});
