// KMIP 2.1 Set Constraints (2.1+): replaces the server's constraints with those given; a
// payload without Constraints (or with an empty one) removes them all. Only an administrator
// may set them (Permission Denied otherwise); KMIP 1.x and 2.0 clients get Operation Not
// Supported, the operation not existing in their version. What a constraint means and how it is
// enforced on new objects: src/objects/constraints.ts.

import { KmipError } from '../errors.js';
import { opt, struct } from '../kmip/schema.js';
import { Constraints, replaceConstraints, validateConstraints } from '../objects/constraints.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { operation } from './context.js';

const SetConstraintsRequest = struct({ constraints: opt(Constraints.at(Tag.Constraints)) });
const Empty = struct({});

export const setConstraints = operation({
  request: SetConstraintsRequest,
  response: Empty,
  async run(req, ctx) {
    if (!versionAtLeast(ctx.version, '2.1')) {
      throw new KmipError(ResultReason.OperationNotSupported, 'Set Constraints needs KMIP 2.1');
    }
    if (!ctx.isAdmin) {
      throw new KmipError(
        ResultReason.PermissionDenied,
        'only an administrator may set constraints',
      );
    }
    const list = req.constraints?.constraints ?? [];
    validateConstraints(list, ctx.version);
    await replaceConstraints(ctx, list);
    return {};
  },
});
