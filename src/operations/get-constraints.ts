// KMIP 2.1 Get Constraints (2.1+): the constraints the server holds, as Set Constraints last set
// them (same order, same content); no Constraints when none are set. Any client may ask: it
// needs them to make objects the server accepts. KMIP 1.x and 2.0 clients get Operation Not
// Supported. Semantics: src/objects/constraints.ts.

import { KmipError } from '../errors.js';
import { opt, struct } from '../kmip/schema.js';
import { Constraints, currentConstraints } from '../objects/constraints.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { operation } from './context.js';

const GetConstraintsRequest = struct({});
const GetConstraintsResponse = struct({ constraints: opt(Constraints.at(Tag.Constraints)) });

export const getConstraints = operation({
  request: GetConstraintsRequest,
  response: GetConstraintsResponse,
  async run(_req, ctx) {
    if (!versionAtLeast(ctx.version, '2.1')) {
      throw new KmipError(ResultReason.OperationNotSupported, 'Get Constraints needs KMIP 2.1');
    }
    const list = await currentConstraints(ctx);
    return list.length === 0 ? {} : { constraints: { constraints: [...list] } };
  },
});
