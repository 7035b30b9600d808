// KMIP 2.1 §6.1.26 Hash (KMIP 1.4 §4.35): a digest of Data with the Hashing Algorithm of the
// Cryptographic Parameters, single or streamed. No key is involved.

import { createHash, type Hash } from 'node:crypto';
import { hashName } from '../crypto/cipher.js';
import { KmipError } from '../errors.js';
import { cryptographicParametersField } from '../kmip/cryptographic-parameters.js';
import { bool, bytes, opt, struct, versions } from '../kmip/schema.js';
import { Operation, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { streamedOutput, streamStep } from './crypto-usage.js';

const HashRequest = struct({
  cryptographicParameters: cryptographicParametersField(),
  data: opt(bytes(Tag.Data)),
  correlationValue: opt(bytes(Tag.CorrelationValue)),
  initIndicator: opt(bool(Tag.InitIndicator)),
  finalIndicator: opt(bool(Tag.FinalIndicator)),
});

const HashResponse = struct({
  data: opt(bytes(Tag.Data)),
  correlationValue: versions(opt(bytes(Tag.CorrelationValue)), { since: '1.3' }),
});

export const hash = operation({
  request: HashRequest,
  response: HashResponse,
  async run(req, ctx) {
    const step = streamStep<Hash>(ctx, Operation.Hash, undefined, req, () => {
      const algorithm = req.cryptographicParameters?.hashingAlgorithm;
      if (algorithm === undefined) {
        throw new KmipError(ResultReason.InvalidField, 'Hash needs a Hashing Algorithm');
      }
      return createHash(hashName(algorithm));
    });
    step.state.update(req.data ?? new Uint8Array(0));
    const digest = step.last ? step.state.digest() : undefined;
    return {
      data: digest === undefined ? undefined : streamedOutput(step, digest),
      correlationValue: step.correlationValue,
    };
  },
});
