// KMIP 2.1 §6.1.44 RNG Seed (KMIP 1.4 §4.37): the client offers seed data and the server says
// how much of it it accepted. The server may accept none (Data Length 0). kmipd's random bytes
// come from node:crypto (OpenSSL's DRBG, seeded by the operating system), which takes no
// caller entropy, so kmipd accepts 0 bytes and says so rather than claim a seeding it did not
// do (Profiles 1.4/2.1 CS-RNG-O-3).

import { KmipError } from '../errors.js';
import { bytes, int, struct } from '../kmip/schema.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';

const RngSeedRequest = struct({ data: bytes(Tag.Data) });
const RngSeedResponse = struct({ dataLength: int(Tag.DataLength) });

export const rngSeed = operation({
  request: RngSeedRequest,
  response: RngSeedResponse,
  async run(req) {
    if (req.data.length === 0) {
      throw new KmipError(ResultReason.InvalidField, 'Data must not be empty', ['Data']);
    }
    return { dataLength: 0 };
  },
});
