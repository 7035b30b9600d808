// KMIP 2.1 §6.1.4 Cancel (KMIP 1.4 §4.27). No operation of this server runs asynchronously (see
// poll.ts), so there is never an outstanding operation to cancel: the answer is a successful
// Cancel whose Cancellation Result is Unavailable, echoing the correlation value.

import { bytes, enumeration, struct } from '../kmip/schema.js';
import { CancellationResult, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';

const CancelRequest = struct({
  asynchronousCorrelationValue: bytes(Tag.AsynchronousCorrelationValue),
});

const CancelResponse = struct({
  asynchronousCorrelationValue: bytes(Tag.AsynchronousCorrelationValue),
  cancellationResult: enumeration(Tag.CancellationResult),
});

export const cancel = operation({
  request: CancelRequest,
  response: CancelResponse,
  async run(req) {
    return {
      asynchronousCorrelationValue: req.asynchronousCorrelationValue,
      cancellationResult: CancellationResult.Unavailable,
    };
  },
});
