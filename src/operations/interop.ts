// KMIP 2.1 Interop operation (2.0+): a client marks the Begin, End or Reset of an interoperability test
// case (Profiles 2.1 §4.1.2 makes the operation optional for servers). kmipd records each mark
// in its log so a test run can be matched to the server's lines. It keeps no per-test-case
// state, so Reset has nothing to undo: it never removes objects, because one message must not
// be able to wipe a key store.

import { KmipError } from '../errors.js';
import { enumeration, struct, text } from '../kmip/schema.js';
import { InteropFunction, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import { operation } from './context.js';

/** Longest Interop Identifier accepted: stops a client from filling the log with one field. */
export const MAX_INTEROP_IDENTIFIER = 256;

const KNOWN_FUNCTIONS = new Set<number>(Object.values(InteropFunction));

const InteropRequest = struct({
  interopFunction: enumeration(Tag.InteropFunction),
  interopIdentifier: text(Tag.InteropIdentifier),
});
const Empty = struct({});

export const interop = operation({
  request: InteropRequest,
  response: Empty,
  async run(req, ctx) {
    if (!KNOWN_FUNCTIONS.has(req.interopFunction)) {
      throw new KmipError(ResultReason.InvalidField, 'unknown Interop Function', [
        'InteropFunction',
      ]);
    }
    if (req.interopIdentifier.length > MAX_INTEROP_IDENTIFIER) {
      throw new KmipError(
        ResultReason.InvalidField,
        `Interop Identifier is limited to ${MAX_INTEROP_IDENTIFIER} characters`,
        ['InteropIdentifier'],
      );
    }
    ctx.log.info(
      {
        interop: enumName(Tag.InteropFunction, req.interopFunction),
        interopIdentifier: req.interopIdentifier,
      },
      'interop test case',
    );
    return {};
  },
});
