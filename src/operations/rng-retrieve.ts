// KMIP 2.1 §6.1.49 RNG Retrieve (KMIP 1.4 §4.35): Data Length bytes from the server's default
// generator (node:crypto, OpenSSL's CTR_DRBG). The request has no field naming a generator
// (KMIP 2.1 Table 316: Data Length only), so the others of Query RNGs serve key generation only.

import { KmipError } from '../errors.js';
import { bytes, int, struct } from '../kmip/schema.js';
import { DEFAULT_GENERATOR } from '../objects/random-generators.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';

/** Largest request: stops one batch item from making the server build an arbitrary buffer. */
const MAX_RANDOM_BYTES = 64 * 1024;

const RngRetrieveRequest = struct({ dataLength: int(Tag.DataLength) });
const RngRetrieveResponse = struct({ data: bytes(Tag.Data) });

export const rngRetrieve = operation({
  request: RngRetrieveRequest,
  response: RngRetrieveResponse,
  async run(req) {
    if (!Number.isInteger(req.dataLength) || req.dataLength < 1) {
      throw new KmipError(ResultReason.InvalidField, 'Data Length must be at least 1');
    }
    if (req.dataLength > MAX_RANDOM_BYTES) {
      throw new KmipError(
        ResultReason.InvalidField,
        `Data Length is limited to ${MAX_RANDOM_BYTES} bytes`,
      );
    }
    return { data: DEFAULT_GENERATOR.random(req.dataLength, DEFAULT_GENERATOR.strength) };
  },
});
