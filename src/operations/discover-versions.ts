// KMIP 2.1 §6.1.19 Discover Versions (KMIP 1.4 §4.26): the versions both sides support, in the
// server's order of preference when the client lists none, else in the client's order.

import { ProtocolVersion } from '../kmip/messages.js';
import { many, struct } from '../kmip/schema.js';
import { Tag } from '../ttlv/spec/generated.js';
import { KMIP_VERSIONS, versionFrom } from '../ttlv/spec/index.js';
import { operation } from './context.js';

const Versions = struct({ versions: many(ProtocolVersion.at(Tag.ProtocolVersion)) });

const SERVER_ORDER = [...KMIP_VERSIONS].reverse().map((v) => {
  const [major, minor] = v.split('.').map(Number) as [number, number];
  return { major, minor };
});

export const discoverVersions = operation({
  request: Versions,
  response: Versions,
  async run(req) {
    const asked = req.versions ?? [];
    if (asked.length === 0) return { versions: SERVER_ORDER };
    return { versions: asked.filter((v) => versionFrom(v.major, v.minor) !== undefined) };
  },
});
