// KMIP 2.1 Poll (KMIP 1.4 §4.28). This server runs every operation synchronously: it
// refuses the Asynchronous Indicator and reports Asynchronous Capability false in Query, so no
// Asynchronous Correlation Value is ever outstanding. Any value polled is unknown: Invalid
// Asynchronous Correlation Value in KMIP 2.x, Item Not Found before it.

import { KmipError } from '../errors.js';
import { bytes, struct } from '../kmip/schema.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { versionReason } from './crypto-usage.js';

const PollRequest = struct({
  asynchronousCorrelationValue: bytes(Tag.AsynchronousCorrelationValue),
});

export const poll = operation({
  request: PollRequest,
  response: struct({}),
  async run(_req, ctx): Promise<Record<string, never>> {
    throw new KmipError(
      versionReason(
        ctx.version,
        ResultReason.InvalidAsynchronousCorrelationValue,
        ResultReason.ItemNotFound,
      ),
      'no asynchronous operation has this correlation value',
    );
  },
});
