// Authorization matrix: every operation kmipd supports (src/operations/index.ts, plus the Grant
// and Revoke Grant extensions) against objects of tenant alice, as alice (owner), bob (another
// tenant), carol (member of group team-a, which alice granted Get, Get Attributes, Locate and
// Encrypt), root (a configured admin) and an anonymous client without a valid Credential
// while credentials are required. Every cell is one request on fresh objects.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, usersVerifier } from '../../src/auth/users.js';
import { readCertificateAuthority } from '../../src/crypto/ca.js';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { item, textOf } from '../../src/kmip/items.js';
import { GRANT_OPERATION, REVOKE_GRANT_OPERATION } from '../../src/operations/grant.js';
import { OPERATIONS } from '../../src/operations/index.js';
import { initPki } from '../../src/pki/dev-pki.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  BlockCipherMode,
  CredentialType,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  DerivationMethod,
  DigitalSignatureAlgorithm,
  HashingAlgorithm,
  InteropFunction,
  ObjectType,
  Operation,
  RecommendedCurve,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  SecretDataType,
  SplitKeyMethod,
  Tag,
  UsageLimitsUnit,
} from '../../src/ttlv/spec/generated.js';
import { enumName } from '../../src/ttlv/spec/index.js';
import {
  find,
  payloadOf,
  readResponse,
  requestBytes,
  silentLog,
} from '../helpers/kmip-test-client.js';

type Actor = 'owner' | 'tenantB' | 'groupMember' | 'admin' | 'anonymous';
const ACTORS: Actor[] = ['owner', 'tenantB', 'groupMember', 'admin', 'anonymous'];

const PEERS: Record<Actor, { identity: string; groups?: string[]; user?: string }> = {
  owner: { identity: 'alice', user: 'alice' },
  tenantB: { identity: 'bob', user: 'bob' },
  groupMember: { identity: 'carol', groups: ['team-a'], user: 'carol' },
  admin: { identity: 'root', user: 'root' },
  anonymous: { identity: 'alice' },
};
const PASSWORD = (user: string) => `pw-${user}-correct horse`;

/** A = allowed, D = denied; columns in ACTORS order. */
type Row = [string, string, string, string, string];
const ANY: Row = ['A', 'A', 'A', 'A', 'D'];
const OWNER_ADMIN: Row = ['A', 'D', 'D', 'A', 'D'];
const GRANTED: Row = ['A', 'D', 'A', 'A', 'D'];
const ADMIN_ONLY: Row = ['D', 'D', 'D', 'A', 'D'];

const GRANTED_OPS = ['Get', 'GetAttributes', 'Locate', 'Encrypt'];

interface Objects {
  key: string;
  pre: string;
  hmac: string;
  priv: string;
  pub: string;
  parts: string[];
  mac: Uint8Array;
  signature: Uint8Array;
  name: string;
  /** A certificate of alice's public key, signed by the test CA. */
  cert: string;
}

const DATA = Buffer.from('01020304050607080910111213141516', 'hex');
const uid = (u: string) => item.text(Tag.UniqueIdentifier, u);
const PASSWORD_OBJECT = item.struct(Tag.SecretData, [
  item.enum(Tag.SecretDataType, SecretDataType.Password),
  item.struct(Tag.KeyBlock, [
    item.enum(Tag.KeyFormatType, 2),
    item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.from('s3cret'))]),
  ]),
]);
const ecb = item.struct(Tag.CryptographicParameters, [
  item.enum(Tag.BlockCipherMode, BlockCipherMode.ECB),
]);
const hmacParams = item.struct(Tag.CryptographicParameters, [
  item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256),
]);
const ecdsa = item.struct(Tag.CryptographicParameters, [
  item.enum(Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.ECDSAWithSHA256),
]);
const vendor = (name: string, value: string) =>
  item.struct(Tag.Attribute, [
    item.text(Tag.VendorIdentification, 'x'),
    item.text(Tag.AttributeName, name),
    item.text(Tag.AttributeValue, value),
  ]);
const aes = (extra: TtlvItem[] = []) => [
  item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
  item.struct(Tag.Attributes, [
    item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    item.int(Tag.CryptographicLength, 128),
    item.int(
      Tag.CryptographicUsageMask,
      CryptographicUsageMask.Encrypt |
        CryptographicUsageMask.Decrypt |
        CryptographicUsageMask.DeriveKey,
    ),
    ...extra,
  ]),
];

/** The request of each operation and the expected row. */
const CASES: Record<
  string,
  {
    row: Row;
    payload: (o: Objects) => TtlvItem[];
    /** Allowed cells answer this failure instead of Success (no asynchronous operations). */
    fails?: number;
    /** Builds the request per actor instead of `payload` (a Ticket is its holder's own). */
    prepare?: (actor: Actor, o: Objects) => Promise<TtlvItem[]>;
  }
> = {
  Activate: { row: OWNER_ADMIN, payload: (o) => [uid(o.pre)] },
  AddAttribute: {
    row: OWNER_ADMIN,
    payload: (o) => [uid(o.key), item.struct(Tag.NewAttribute, [vendor('added', 'v')])],
  },
  Create: { row: ANY, payload: () => aes() },
  CreateKeyPair: {
    row: ANY,
    payload: () => [
      item.struct(Tag.CommonAttributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
        item.struct(Tag.CryptographicDomainParameters, [
          item.enum(Tag.RecommendedCurve, RecommendedCurve.P_256),
        ]),
      ]),
    ],
  },
  DeleteAttribute: {
    row: OWNER_ADMIN,
    payload: (o) => [
      uid(o.key),
      item.struct(Tag.AttributeReference, [
        item.text(Tag.VendorIdentification, 'x'),
        item.text(Tag.AttributeName, 'tag'),
      ]),
    ],
  },
  Destroy: { row: OWNER_ADMIN, payload: (o) => [uid(o.pre)] },
  DiscoverVersions: { row: ANY, payload: () => [] },
  Get: { row: GRANTED, payload: (o) => [uid(o.key)] },
  GetAttributeList: { row: OWNER_ADMIN, payload: (o) => [uid(o.key)] },
  GetAttributes: { row: GRANTED, payload: (o) => [uid(o.key)] },
  // Locate always succeeds; a cell is "allowed" when alice's object is among the results.
  Locate: {
    row: GRANTED,
    payload: (o) => [
      item.struct(Tag.Attributes, [
        item.struct(Tag.Name, [item.text(Tag.NameValue, o.name), item.enum(Tag.NameType, 1)]),
      ]),
    ],
  },
  ModifyAttribute: {
    row: OWNER_ADMIN,
    payload: (o) => [uid(o.key), item.struct(Tag.NewAttribute, [vendor('tag', 'changed')])],
  },
  Query: { row: ANY, payload: () => [] },
  Export: { row: OWNER_ADMIN, payload: (o) => [uid(o.key)] },
  // Import over alice's object (Replace Existing): only its owner or an admin may replace it.
  Import: {
    row: OWNER_ADMIN,
    payload: (o) => [
      uid(o.key),
      item.enum(Tag.ObjectType, ObjectType.SecretData),
      item.bool(Tag.ReplaceExisting, true),
      item.struct(Tag.Attributes, []),
      PASSWORD_OBJECT,
    ],
  },
  Register: {
    row: ANY,
    payload: () => [
      item.enum(Tag.ObjectType, ObjectType.SecretData),
      item.struct(Tag.Attributes, []),
      PASSWORD_OBJECT,
    ],
  },
  Revoke: {
    row: OWNER_ADMIN,
    payload: (o) => [
      uid(o.key),
      item.struct(Tag.RevocationReason, [
        item.enum(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation),
      ]),
    ],
  },
  Decrypt: { row: OWNER_ADMIN, payload: (o) => [uid(o.key), ecb, item.bytes(Tag.Data, DATA)] },
  Encrypt: { row: GRANTED, payload: (o) => [uid(o.key), ecb, item.bytes(Tag.Data, DATA)] },
  Hash: {
    row: ANY,
    payload: () => [
      item.struct(Tag.CryptographicParameters, [
        item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
      ]),
      item.bytes(Tag.Data, DATA),
    ],
  },
  MAC: { row: OWNER_ADMIN, payload: (o) => [uid(o.hmac), hmacParams, item.bytes(Tag.Data, DATA)] },
  MACVerify: {
    row: OWNER_ADMIN,
    payload: (o) => [
      uid(o.hmac),
      hmacParams,
      item.bytes(Tag.Data, DATA),
      item.bytes(Tag.MACData, o.mac),
    ],
  },
  RNGRetrieve: { row: ANY, payload: () => [item.int(Tag.DataLength, 16)] },
  Sign: { row: OWNER_ADMIN, payload: (o) => [uid(o.priv), ecdsa, item.bytes(Tag.Data, DATA)] },
  SignatureVerify: {
    row: OWNER_ADMIN,
    payload: (o) => [
      uid(o.pub),
      ecdsa,
      item.bytes(Tag.Data, DATA),
      item.bytes(Tag.SignatureData, o.signature),
    ],
  },
  SetAttribute: {
    row: OWNER_ADMIN,
    payload: (o) => [
      uid(o.key),
      item.struct(Tag.NewAttribute, [item.text(Tag.ContactInformation, 'ops@example')]),
    ],
  },
  Archive: { row: OWNER_ADMIN, payload: (o) => [uid(o.key)] },
  Cancel: {
    row: ANY,
    payload: () => [item.bytes(Tag.AsynchronousCorrelationValue, Buffer.from('c0ffee', 'hex'))],
  },
  Check: { row: OWNER_ADMIN, payload: (o) => [uid(o.key)] },
  CreateSplitKey: {
    row: OWNER_ADMIN,
    payload: (o) => [
      item.enum(Tag.ObjectType, ObjectType.SplitKey),
      uid(o.key),
      item.int(Tag.SplitKeyParts, 3),
      item.int(Tag.SplitKeyThreshold, 2),
      item.enum(Tag.SplitKeyMethod, SplitKeyMethod.PolynomialSharingGF2_8),
    ],
  },
  GetUsageAllocation: {
    row: OWNER_ADMIN,
    payload: (o) => [uid(o.key), item.long(Tag.UsageLimitsCount, 1n)],
  },
  JoinSplitKey: {
    row: OWNER_ADMIN,
    payload: (o) => [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      ...o.parts.slice(0, 2).map(uid),
    ],
  },
  ObtainLease: { row: OWNER_ADMIN, payload: (o) => [uid(o.key)] },
  Ping: { row: ANY, payload: () => [] },
  Poll: {
    row: ANY,
    fails: ResultReason.InvalidAsynchronousCorrelationValue,
    payload: () => [item.bytes(Tag.AsynchronousCorrelationValue, Buffer.from('c0ffee', 'hex'))],
  },
  ReKey: { row: OWNER_ADMIN, payload: (o) => [uid(o.key)] },
  ReKeyKeyPair: {
    row: OWNER_ADMIN,
    payload: (o) => [item.text(Tag.PrivateKeyUniqueIdentifier, o.priv)],
  },
  Recover: { row: OWNER_ADMIN, payload: (o) => [uid(o.key)] },
  RNGSeed: { row: ANY, payload: () => [item.bytes(Tag.Data, Buffer.alloc(32, 0x33))] },
  Interop: {
    row: ANY,
    payload: () => [
      item.enum(Tag.InteropFunction, InteropFunction.Begin),
      item.text(Tag.InteropIdentifier, 'AUTHZ-1'),
    ],
  },
  Log: { row: ANY, payload: () => [item.text(Tag.LogMessage, 'authz matrix')] },
  DeriveKey: {
    row: OWNER_ADMIN,
    payload: (o) => [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      uid(o.key),
      item.enum(Tag.DerivationMethod, DerivationMethod.HASH),
      item.struct(Tag.DerivationParameters, [
        item.struct(Tag.CryptographicParameters, [
          item.enum(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
        ]),
      ]),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 128),
        item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Encrypt),
      ]),
    ],
  },
  Login: { row: ANY, payload: () => [] },
  // An empty Set Constraints clears them: the cell leaves nothing behind for the next one.
  SetConstraints: { row: ADMIN_ONLY, payload: () => [] },
  GetConstraints: { row: ANY, payload: () => [] },
  Logout: {
    row: ANY,
    payload: () => [],
    prepare: async (actor) => {
      if (actor === 'anonymous') return [];
      const ticket = find(await ok(actor, Operation.Login, []), Tag.Ticket)!;
      return [ticket];
    },
  },
  // A delegated ticket may name any object: using it still needs the holder's own access.
  DelegatedLogin: {
    row: ANY,
    payload: (o) => [
      item.struct(Tag.Rights, [
        item.struct(Tag.Right, [
          item.struct(Tag.Operations, [item.enum(Tag.Operation, Operation.Get)]),
          item.struct(Tag.Objects, [uid(o.key)]),
        ]),
      ]),
    ],
  },
  Certify: { row: OWNER_ADMIN, payload: (o) => [uid(o.pub)] },
  ReCertify: { row: OWNER_ADMIN, payload: (o) => [uid(o.cert)] },
  Validate: { row: OWNER_ADMIN, payload: (o) => [uid(o.cert)] },
  Grant: {
    row: OWNER_ADMIN,
    payload: (o) => [uid(o.key), item.text(Tag.Username, 'dave'), item.enum(Tag.Operation, 10)],
  },
  RevokeGrant: {
    row: OWNER_ADMIN,
    payload: (o) => [uid(o.key), item.text(Tag.Username, 'group:team-a')],
  },
};

const CODES: Record<string, number> = {
  Grant: GRANT_OPERATION,
  RevokeGrant: REVOKE_GRANT_OPERATION,
};
const codeOf = (name: string) => CODES[name] ?? (Operation as Record<string, number>)[name]!;

const DENIALS = new Set<number>([
  ResultReason.ObjectNotFound,
  ResultReason.ItemNotFound,
  ResultReason.PermissionDenied,
  ResultReason.AuthenticationNotSuccessful,
]);

let dir: string;
let layer: MessageLayer;
let counter = 0;

function credential(user: string): TtlvItem {
  return item.struct(Tag.Authentication, [
    item.struct(Tag.Credential, [
      item.enum(Tag.CredentialType, CredentialType.UsernameAndPassword),
      item.struct(Tag.CredentialValue, [
        item.text(Tag.Username, user),
        item.text(Tag.Password, PASSWORD(user)),
      ]),
    ]),
  ]);
}

async function send(actor: Actor, operation: number, payload: TtlvItem[]) {
  const peer = PEERS[actor];
  const bytes = requestBytes('2.1', [{ operation, payload }], {
    authentication: peer.user === undefined ? undefined : credential(peer.user),
  });
  const res = readResponse(
    await layer.process(bytes, { identity: peer.identity, groups: peer.groups }),
  );
  return res.batchItems[0]!;
}

async function ok(actor: Actor, operation: number, payload: TtlvItem[]) {
  const r = await send(actor, operation, payload);
  expect(r.resultStatus, `${enumName(Tag.Operation, operation)}: ${r.resultMessage}`).toBe(
    ResultStatus.Success,
  );
  return payloadOf(r);
}

const text = (p: TtlvItem[], tag: number) => textOf(find(p, tag))!;

/** Fresh objects of alice, with Get, Get Attributes, Locate and Encrypt granted to team-a. */
async function objectsOfAlice(): Promise<Objects> {
  const name = `matrix-${++counter}`;
  const active = item.date(Tag.ActivationDate, BigInt(Math.floor(Date.now() / 1000) - 60));
  const limits = item.struct(Tag.UsageLimits, [
    item.long(Tag.UsageLimitsTotal, 100n),
    item.enum(Tag.UsageLimitsUnit, UsageLimitsUnit.Object),
  ]);
  const named = item.struct(Tag.Name, [item.text(Tag.NameValue, name), item.enum(Tag.NameType, 1)]);
  const key = text(
    await ok('owner', Operation.Create, aes([active, named, vendor('tag', 't'), limits])),
    Tag.UniqueIdentifier,
  );
  const pre = text(await ok('owner', Operation.Create, aes()), Tag.UniqueIdentifier);
  const hmac = text(
    await ok('owner', Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256),
        item.int(Tag.CryptographicLength, 256),
        item.int(
          Tag.CryptographicUsageMask,
          CryptographicUsageMask.MACGenerate | CryptographicUsageMask.MACVerify,
        ),
        active,
      ]),
    ]),
    Tag.UniqueIdentifier,
  );
  const pair = await ok('owner', Operation.CreateKeyPair, [
    item.struct(Tag.CommonAttributes, [
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
      item.struct(Tag.CryptographicDomainParameters, [
        item.enum(Tag.RecommendedCurve, RecommendedCurve.P_256),
      ]),
      active,
    ]),
    item.struct(Tag.PrivateKeyAttributes, [
      item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Sign),
    ]),
    item.struct(Tag.PublicKeyAttributes, [
      item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Verify),
    ]),
  ]);
  const priv = text(pair, Tag.PrivateKeyUniqueIdentifier);
  const pub = text(pair, Tag.PublicKeyUniqueIdentifier);
  const split = await ok(
    'owner',
    Operation.CreateSplitKey,
    CASES.CreateSplitKey!.payload({ key } as Objects),
  );
  const parts = split.filter((i) => i.tag === Tag.UniqueIdentifier).map((i) => textOf(i)!);
  const mac = find(
    await ok('owner', Operation.MAC, CASES.MAC!.payload({ hmac } as Objects)),
    Tag.MACData,
  )!.value as Uint8Array;
  const signature = find(
    await ok('owner', Operation.Sign, CASES.Sign!.payload({ priv } as Objects)),
    Tag.SignatureData,
  )!.value as Uint8Array;
  const cert = text(await ok('owner', Operation.Certify, [uid(pub)]), Tag.UniqueIdentifier);
  for (const u of [key, pre, hmac, priv, pub, cert, ...parts]) {
    await ok('owner', GRANT_OPERATION, [
      uid(u),
      item.text(Tag.Username, 'group:team-a'),
      ...GRANTED_OPS.map((op) => item.enum(Tag.Operation, codeOf(op))),
    ]);
  }
  return { key, pre, hmac, priv, pub, parts, mac, signature, name, cert };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmipd-authz-'));
  const pki = await initPki({ dir: join(dir, 'pki'), keyType: 'ec' });
  const users = join(dir, 'users');
  for (const p of Object.values(PEERS)) if (p.user) addUser(users, p.user, PASSWORD(p.user));
  layer = new MessageLayer({
    store: openMemoryStore(),
    wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 7)),
    log: silentLog,
    admins: ['root'],
    verifyCredential: usersVerifier(users),
    ca: await readCertificateAuthority(pki.ca.cert, pki.ca.key),
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('authorization matrix', () => {
  it('covers every operation the server registers', () => {
    const registered = [...OPERATIONS.keys()].map((op) => enumName(Tag.Operation, op)!).sort();
    const covered = Object.keys(CASES)
      .filter((n) => CODES[n] === undefined)
      .sort();
    expect(covered).toEqual(registered);
  });

  const outcome = new Map<string, string[]>();
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: ${ACTORS.map((a, i) => `${a}=${c.row[i]}`).join(' ')}`, async () => {
      const got: string[] = [];
      for (const actor of ACTORS) {
        const o = await objectsOfAlice();
        const payload = c.prepare ? await c.prepare(actor, o) : c.payload(o);
        const r = await send(actor, codeOf(name), payload);
        let cell: string;
        if (name === 'Locate') {
          expect(r.resultStatus === ResultStatus.Success || actor === 'anonymous').toBe(true);
          const found = payloadOf(r).some(
            (i) => i.tag === Tag.UniqueIdentifier && i.value === o.key,
          );
          cell = found ? 'A' : 'D';
        } else {
          cell = r.resultReason !== undefined && DENIALS.has(r.resultReason) ? 'D' : 'A';
        }
        if (actor === 'anonymous') {
          expect(r.resultReason).toBe(ResultReason.AuthenticationNotSuccessful);
        } else if (cell === 'D' && name !== 'Locate') {
          // Existence does not leak: a denial looks like a missing object, except to a grantee,
          // which is told it may not change grants, and on Import, whose client names the
          // Unique Identifier and learns that it is taken anyway (Object Already Exists), and
          // on Set Constraints, which names no object.
          expect(r.resultReason).toBe(
            (actor === 'groupMember' && CODES[name] !== undefined) ||
              name === 'Import' ||
              name === 'SetConstraints'
              ? ResultReason.PermissionDenied
              : ResultReason.ObjectNotFound,
          );
        } else if (c.fails !== undefined) {
          expect(r.resultReason).toBe(c.fails);
        } else if (cell === 'A' && name !== 'Locate') {
          expect(r.resultStatus, `${name} as ${actor}: ${r.resultMessage}`).toBe(
            ResultStatus.Success,
          );
        }
        got.push(cell);
      }
      outcome.set(name, got);
      expect(got).toEqual(c.row);
    });
  }
});
