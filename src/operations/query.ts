// KMIP 2.1 §6.1.37 Query (KMIP 1.4 §4.25). Answers only what this server implements, and only
// what the request's version defines (a 1.0 client never sees a 2.x operation, object type,
// Query function or profile name). Every answer is what kmipd does, not what a note expects:
// - Profiles: only those whose mandatory test cases kmipd passes at that protocol version
//   (fixtures/conformance-skips/expected-pass.txt), named with the version's Profile Name;
// - RNGs: every generator a request may name for new key material, the default first, each
//   with its real parameters (src/objects/random-generators.ts);
// - Validations, Attestation Types, Application Namespaces, Extensions: none (empty answers);
// - Client Registration Methods: client keys and certificates that `kmipd pki init`
//   pre-generates (Server Pre-Generated) and that `kmipd pki client NAME` makes later from the
//   same CA (Server On-Demand); client-generated keys whose certificate the configured CA signs,
//   e.g. through Certify (Client Generated); client-made certificates registered with
//   `kmipd serve --client-cert` and pinned (Client Registered, src/tls/registered-clients.ts).

import { attributeSet } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { item } from '../kmip/items.js';
import { bool, enumeration, int, many, opt, struct, text, versions } from '../kmip/schema.js';
import { DEFAULT_LEASE_SECONDS } from '../objects/new-object.js';
import { GENERATORS, RNGParameters } from '../objects/random-generators.js';
import {
  ClientRegistrationMethod,
  DestroyAction,
  ObjectType,
  ProfileName,
  ProtectionStorageMask,
  QueryFunction,
  RNGMode,
  ShreddingAlgorithm,
  Tag,
  UnwrapMode,
} from '../ttlv/spec/generated.js';
import { enumValueExistsIn, type KmipVersion } from '../ttlv/spec/index.js';
import { operation } from './context.js';

const V1_3 = { since: '1.3' } as const;
const V1_4 = { since: '1.4' } as const;
const V2_0 = { since: '2.0' } as const;

const CapabilityInformation = struct({
  streamingCapability: opt(bool(Tag.StreamingCapability)),
  asynchronousCapability: opt(bool(Tag.AsynchronousCapability)),
  attestationCapability: opt(bool(Tag.AttestationCapability)),
  batchUndoCapability: versions(opt(bool(Tag.BatchUndoCapability)), V1_4),
  batchContinueCapability: versions(opt(bool(Tag.BatchContinueCapability)), V1_4),
  unwrapMode: opt(enumeration(Tag.UnwrapMode)),
  destroyAction: opt(enumeration(Tag.DestroyAction)),
  shreddingAlgorithm: opt(enumeration(Tag.ShreddingAlgorithm)),
  rngMode: opt(enumeration(Tag.RNGMode)),
});

const ProfileInformation = struct({ profileName: enumeration(Tag.ProfileName) });

const ObjectDefaults = struct({
  objectType: enumeration(Tag.ObjectType),
  attributes: attributeSet(Tag.Attributes),
});
const DefaultsInformation = struct({
  objectDefaults: many(ObjectDefaults.at(Tag.ObjectDefaults)),
});
const ProtectionStorageMasks = struct({
  masks: many(int(Tag.ProtectionStorageMask)),
});

const ServerInformation = struct({});

const QueryRequest = struct({ queryFunctions: many(enumeration(Tag.QueryFunction)) });
const QueryResponse = struct({
  operations: many(enumeration(Tag.Operation)),
  objectTypes: many(enumeration(Tag.ObjectType)),
  vendorIdentification: opt(text(Tag.VendorIdentification)),
  serverInformation: opt(ServerInformation.at(Tag.ServerInformation)),
  rngParameters: versions(many(RNGParameters.at(Tag.RNGParameters)), V1_3),
  profileInformation: versions(many(ProfileInformation.at(Tag.ProfileInformation)), V1_3),
  capabilityInformation: versions(many(CapabilityInformation.at(Tag.CapabilityInformation)), V1_3),
  clientRegistrationMethods: versions(many(enumeration(Tag.ClientRegistrationMethod)), V1_3),
  defaultsInformation: versions(opt(DefaultsInformation.at(Tag.DefaultsInformation)), V2_0),
  protectionStorageMasks: versions(
    opt(ProtectionStorageMasks.at(Tag.ProtectionStorageMasks)),
    V2_0,
  ),
});

type QueryResponseValue = ReturnType<typeof QueryResponse.read>;

/** Object types Register accepts and Get returns. */
const SUPPORTED_OBJECT_TYPES = [
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.Certificate,
  ObjectType.SecretData,
  ObjectType.OpaqueObject,
];

/**
 * Server profiles whose mandatory cases all pass at that protocol version (KMIP Profiles 1.4
 * and 2.1; expected-pass.txt). Not claimed: Baseline and Complete Server at 1.4 (Profiles 1.4
 * has no Baseline cases to run), Tape Library (TL-M-3 is not passed), PKCS#11, and HTTPS,
 * JSON and XML (served only when the HTTPS port is on, which a handler cannot see).
 */
const PROFILES: Partial<Record<KmipVersion, readonly number[]>> = {
  '1.4': [
    ProfileName.SymmetricKeyLifecycleServerKMIPV1_4,
    ProfileName.AsymmetricKeyLifecycleServerKMIPV1_4,
    ProfileName.BasicCryptographicServerKMIPV1_4,
    ProfileName.AdvancedCryptographicServerKMIPV1_4,
    ProfileName.RNGCryptographicServerKMIPV1_4,
    ProfileName.SymmetricKeyFoundryServerKMIPV1_4,
    ProfileName.OpaqueManagedObjectStoreServerKMIPV1_4,
    ProfileName.SuiteBMinLOS_128ServerKMIPV1_4,
    ProfileName.SuiteBMinLOS_192ServerKMIPV1_4,
    ProfileName.StorageArrayWithSelfEncryptingDriveServerKMIPV1_4,
  ],
  '2.1': [
    ProfileName.BaselineServer,
    ProfileName.SymmetricKeyLifecycleServer,
    ProfileName.AsymmetricKeyLifecycleServer,
    ProfileName.BasicCryptographicServer,
    ProfileName.AdvancedCryptographicServer,
    ProfileName.RNGCryptographicServer,
    ProfileName.SymmetricKeyFoundryServer,
    ProfileName.OpaqueManagedObjectStoreServer,
    ProfileName.StorageArrayWithSelfEncryptingDriveServer,
    ProfileName.AESXTSServer,
    ProfileName.QuantumSafeServer,
  ],
};

/**
 * Streamed cryptographic operations (Correlation Value) are served; Asynchronous Indicator is
 * refused; no attestation; Batch Error Continuation Option Undo and Continue are both honoured;
 * Register unwraps a Key Block whose wrapping key is managed here; Destroy deletes the key
 * material and keeps the metadata; nothing is cryptographically shredded.
 */
const CAPABILITIES = {
  streamingCapability: true,
  asynchronousCapability: false,
  attestationCapability: false,
  batchUndoCapability: true,
  batchContinueCapability: true,
  unwrapMode: UnwrapMode.Processed,
  destroyAction: DestroyAction.KeyMaterialDeleted,
  shreddingAlgorithm: ShreddingAlgorithm.Unsupported,
  rngMode: RNGMode.Unspecified,
};

/** What new-object.ts sets on every new object when the client does not (KMIP 2.1 §2.1.20). */
function objectDefaults(version: KmipVersion) {
  const attributes: Attribute[] = [
    { name: 'Sensitive', value: item.bool(Tag.Sensitive, false) },
    { name: 'Extractable', value: item.bool(Tag.Extractable, true) },
    { name: 'LeaseTime', value: item.interval(Tag.LeaseTime, DEFAULT_LEASE_SECONDS) },
    {
      name: 'ProtectionStorageMask',
      value: item.int(Tag.ProtectionStorageMask, ProtectionStorageMask.Software),
    },
  ];
  return SUPPORTED_OBJECT_TYPES.filter((t) => enumValueExistsIn(Tag.ObjectType, t, version)).map(
    (objectType) => ({ objectType, attributes }),
  );
}

export const query = operation({
  request: QueryRequest,
  response: QueryResponse,
  async run(req, ctx) {
    const asked = new Set(
      (req.queryFunctions ?? []).filter((f) =>
        enumValueExistsIn(Tag.QueryFunction, f, ctx.version),
      ),
    );
    const res: QueryResponseValue = {
      operations: [],
      objectTypes: [],
      rngParameters: [],
      profileInformation: [],
      capabilityInformation: [],
      clientRegistrationMethods: [],
    };
    if (asked.has(QueryFunction.QueryOperations)) {
      // The operations a client may send here. Put and Notify are not among them: kmipd sends
      // them (KMIP 1.4 §5, src/push) to subscribers an administrator configured, and answers a
      // client's Put or Notify with Operation Not Supported; listing them would invite exactly
      // that. Some vendor answers in the Test Cases notes list them; the comparison of Query's
      // operation list does not hold them against kmipd (FORMAT.md §6, §4.1.1 items 16, 17).
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
    if (asked.has(QueryFunction.QueryRNGs)) {
      res.rngParameters = GENERATORS.map((g) => g.parameters);
    }
    if (asked.has(QueryFunction.QueryProfiles)) {
      res.profileInformation = (PROFILES[ctx.version] ?? [])
        .filter((p) => enumValueExistsIn(Tag.ProfileName, p, ctx.version))
        .map((profileName) => ({ profileName }));
    }
    if (asked.has(QueryFunction.QueryCapabilities)) res.capabilityInformation = [CAPABILITIES];
    if (asked.has(QueryFunction.QueryClientRegistrationMethods)) {
      res.clientRegistrationMethods = [
        ClientRegistrationMethod.ServerPreGenerated,
        ClientRegistrationMethod.ServerOnDemand,
        ClientRegistrationMethod.ClientGenerated,
        ClientRegistrationMethod.ClientRegistered,
      ];
    }
    if (asked.has(QueryFunction.QueryDefaultsInformation)) {
      res.defaultsInformation = { objectDefaults: objectDefaults(ctx.version) };
    }
    if (asked.has(QueryFunction.QueryStorageProtectionMasks)) {
      res.protectionStorageMasks = { masks: [ProtectionStorageMask.Software] };
    }
    // Query Application Namespaces, Extension List, Extension Map, Attestation Types and
    // Validations: kmipd has none of these, and answers with no entries.
    return res;
  },
});
