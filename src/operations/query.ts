// KMIP 2.1 §6.1.37 Query (KMIP 1.4 §4.25). Answers only what this server implements, and only
// what the request's version defines (a 1.0 client never sees a 2.x operation or object type).

import { bool, enumeration, many, opt, struct, text } from '../kmip/schema.js';
import { ObjectType, QueryFunction, Tag } from '../ttlv/spec/generated.js';
import { enumValueExistsIn } from '../ttlv/spec/index.js';
import { operation } from './context.js';

const CapabilityInformation = struct({
  streamingCapability: opt(bool(Tag.StreamingCapability)),
  asynchronousCapability: opt(bool(Tag.AsynchronousCapability)),
  attestationCapability: opt(bool(Tag.AttestationCapability)),
  batchUndoCapability: opt(bool(Tag.BatchUndoCapability)),
  batchContinueCapability: opt(bool(Tag.BatchContinueCapability)),
});

const ServerInformation = struct({});

const QueryRequest = struct({ queryFunctions: many(enumeration(Tag.QueryFunction)) });
const QueryResponse = struct({
  operations: many(enumeration(Tag.Operation)),
  objectTypes: many(enumeration(Tag.ObjectType)),
  vendorIdentification: opt(text(Tag.VendorIdentification)),
  serverInformation: opt(ServerInformation.at(Tag.ServerInformation)),
  capabilityInformation: many(CapabilityInformation.at(Tag.CapabilityInformation)),
});

/** Object types Register accepts and Get returns. */
const SUPPORTED_OBJECT_TYPES = [
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.Certificate,
  ObjectType.SecretData,
  ObjectType.OpaqueObject,
];

export const query = operation({
  request: QueryRequest,
  response: QueryResponse,
  async run(req, ctx) {
    const asked = new Set(req.queryFunctions ?? []);
    const res: ReturnType<typeof QueryResponse.read> = {
      operations: [],
      objectTypes: [],
      capabilityInformation: [],
    };
    if (asked.has(QueryFunction.QueryOperations)) {
      // Loaded here, not at the top: the registry imports this module (no import cycle).
      const { OPERATIONS } = await import('./index.js');
      res.operations = [...OPERATIONS.keys()]
        .filter((op) => enumValueExistsIn(Tag.Operation, op, ctx.version))
        .sort((a, b) => a - b);
    }
    if (asked.has(QueryFunction.QueryObjects)) {
      res.objectTypes = SUPPORTED_OBJECT_TYPES.filter((t) =>
        enumValueExistsIn(Tag.ObjectType, t, ctx.version),
      );
    }
    if (asked.has(QueryFunction.QueryServerInformation)) {
      res.vendorIdentification = 'kmipd';
      res.serverInformation = {};
    }
    if (
      QueryFunction.QueryCapabilities !== undefined &&
      asked.has(QueryFunction.QueryCapabilities)
    ) {
      res.capabilityInformation = [
        {
          streamingCapability: false,
          asynchronousCapability: false,
          attestationCapability: false,
          batchUndoCapability: true,
          batchContinueCapability: true,
        },
      ];
    }
    return res;
  },
});
