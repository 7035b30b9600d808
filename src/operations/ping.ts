// KMIP 2.1 Ping: an empty request answered with an empty payload (TC-PING-1-21).

import { struct } from '../kmip/schema.js';
import { operation } from './context.js';

const Empty = struct({});

export const ping = operation({
  request: Empty,
  response: Empty,
  async run() {
    return {};
  },
});
