// `kmip create`, `create-key-pair`, `register`, `get`, `locate`, `activate`, `revoke`, `rekey`: one
// KMIP operation each (KMIP 2.1 §6.1), connection settings from flags, environment or profile.

import { readFile, writeFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import type { AttributeInput } from '../../../client/attributes.js';
import type { Batch, KmipClient } from '../../../client/client.js';
import { attributePairs } from './attribute-args.js';
import {
  type CommonArgs,
  connectionOptions,
  printFields,
  printJson,
  printTable,
  uidPositional,
  withClient,
} from './common.js';
import { fromPem, toPem } from './pem.js';

const OBJECT_TYPES = [
  'symmetric-key',
  'private-key',
  'public-key',
  'certificate',
  'secret-data',
  'opaque',
] as const;
type ObjectTypeArg = (typeof OBJECT_TYPES)[number];

/** CLI object type → KMIP Object Type name. */
export function objectTypeName(t: ObjectTypeArg): string {
  return t === 'opaque' ? 'OpaqueObject' : t;
}

const usageList = (s: string | undefined) =>
  s === undefined ? undefined : s.split(',').map((x) => x.trim());

interface AttrArgs {
  name?: string;
  group?: string;
  usage?: string;
  attr?: string[];
}

function attributeOptions<T>(y: Argv<T>) {
  return y
    .option('name', { type: 'string', describe: 'Name attribute' })
    .option('group', { type: 'string', describe: 'Object Group attribute' })
    .option('usage', {
      type: 'string',
      describe: 'Cryptographic Usage Mask bits, comma separated (e.g. encrypt,decrypt)',
    })
    .option('attr', {
      type: 'string',
      array: true,
      describe: 'further attribute NAME=VALUE (repeatable), e.g. x-owner=alice',
    });
}

function attributesOf(a: AttrArgs, extra: AttributeInput = {}): AttributeInput {
  return {
    ...extra,
    name: a.name,
    objectGroup: a.group,
    cryptographicUsageMask: usageList(a.usage),
    raw: attributePairs(a.attr),
  };
}

function printUid(args: CommonArgs, result: object, heading: string): void {
  if (args.json) printJson(result);
  else printFields({ [heading]: Object.values(result).join(' ') });
}

// ---------------------------------------------------------------------------------------------

interface CreateArgs extends CommonArgs, AttrArgs {
  algorithm: string;
  length: number;
  activate: boolean;
}

const create: CommandModule<object, CreateArgs> = {
  command: 'create',
  describe: 'Create a symmetric key on the server (KMIP Create)',
  builder: (y: Argv) =>
    attributeOptions(connectionOptions(y))
      .option('algorithm', {
        type: 'string',
        default: 'AES',
        describe: 'Cryptographic Algorithm (AES, HMAC_SHA256, ...)',
      })
      .option('length', { type: 'number', default: 256, describe: 'key length in bits' })
      .option('activate', {
        type: 'boolean',
        default: false,
        describe: 'activate the key in the same request',
      })
      .example('$0 create --name payments-key --usage encrypt,decrypt', 'a 256-bit AES key')
      .example('$0 create --algorithm HMAC_SHA256 --usage mac-generate --json', 'an HMAC key'),
  handler: withClient<CreateArgs>(async (client, args) => {
    const attributes = attributesOf(args, {
      cryptographicAlgorithm: args.algorithm,
      cryptographicLength: args.length,
    });
    let uid: string;
    if (args.activate) {
      const [created] = await client.batch().create(attributes).activate().send();
      uid = created.uid;
    } else uid = (await client.create(attributes)).uid;
    if (args.json) printJson({ uid, objectType: 'SymmetricKey', active: args.activate });
    else printFields({ uid });
  }),
};

interface CreateKeyPairArgs extends CommonArgs, AttrArgs {
  algorithm: string;
  length: number | undefined;
  curve: string | undefined;
  'public-name': string | undefined;
}

const createKeyPair: CommandModule<object, CreateKeyPairArgs> = {
  command: 'create-key-pair',
  describe: 'Create a private/public key pair on the server (KMIP Create Key Pair)',
  builder: (y: Argv) =>
    attributeOptions(connectionOptions(y))
      .option('algorithm', {
        type: 'string',
        default: 'RSA',
        describe: 'RSA, EC, DSA or Ed25519',
      })
      .option('length', { type: 'number', describe: 'key length in bits (RSA, DSA)' })
      .option('curve', { type: 'string', describe: 'Recommended Curve for EC (P_256, P_384, ...)' })
      .option('public-name', {
        type: 'string',
        describe: 'Name of the public key (default: --name with ".pub" appended)',
      })
      .example('$0 create-key-pair --algorithm RSA --length 2048 --name signer', 'an RSA pair'),
  handler: withClient<CreateKeyPairArgs>(async (client, args) => {
    const common: AttributeInput = {
      cryptographicAlgorithm: args.algorithm,
      cryptographicLength: args.length,
      recommendedCurve: args.curve,
      objectGroup: args.group,
      raw: attributePairs(args.attr),
    };
    const publicName =
      args['public-name'] ?? (args.name === undefined ? undefined : `${args.name}.pub`);
    const usage = usageList(args.usage);
    const pair = await client.createKeyPair({
      common,
      privateKey: { name: args.name, cryptographicUsageMask: usage ?? ['Sign'] },
      publicKey: { name: publicName, cryptographicUsageMask: usage ?? ['Verify'] },
    });
    if (args.json) printJson(pair);
    else printFields({ 'private key': pair.privateKeyUid, 'public key': pair.publicKeyUid });
  }),
};

// ---------------------------------------------------------------------------------------------

const REGISTER_FORMATS = ['raw', 'pkcs8', 'pkcs1', 'x509', 'pem'] as const;

interface RegisterArgs extends CommonArgs, AttrArgs {
  type: ObjectTypeArg;
  file: string;
  format: (typeof REGISTER_FORMATS)[number] | undefined;
  algorithm: string | undefined;
}

const register: CommandModule<object, RegisterArgs> = {
  command: 'register',
  describe: 'Register an object made elsewhere: key, certificate, secret or opaque bytes',
  builder: (y: Argv) =>
    attributeOptions(connectionOptions(y))
      .option('type', {
        choices: OBJECT_TYPES,
        demandOption: true,
        describe: 'object type',
      })
      .option('file', { type: 'string', demandOption: true, describe: 'file holding the object' })
      .option('format', {
        choices: REGISTER_FORMATS,
        describe:
          'encoding of the file: raw bytes, DER (pkcs8, pkcs1, x509) or pem; default raw for ' +
          'symmetric keys and secrets, pkcs8 for private keys, x509 for public keys and certificates',
      })
      .option('algorithm', {
        type: 'string',
        describe:
          'Cryptographic Algorithm (required for symmetric keys; read from the key otherwise)',
      })
      .example('$0 register --type private-key --file key.pem --format pem --name signer', '')
      .example('$0 register --type secret-data --file password.txt --name db-password', ''),
  handler: withClient<RegisterArgs>(async (client, args) => {
    let value: Buffer = await readFile(args.file);
    let keyFormatType: string | undefined;
    if (args.format === 'pem') {
      const pem = fromPem(value.toString('utf8'));
      value = pem.der;
      keyFormatType = pem.keyFormatType;
    } else if (args.format !== undefined && args.format !== 'raw') keyFormatType = args.format;
    if (args.type === 'symmetric-key' && args.algorithm === undefined) {
      throw new Error('--algorithm is required for a symmetric key');
    }
    const { uid } = await client.register({
      objectType: objectTypeName(args.type),
      value,
      keyFormatType: args.type === 'certificate' ? undefined : keyFormatType,
      cryptographicAlgorithm: args.algorithm,
      attributes: attributesOf(args),
    });
    printUid(args, { uid }, 'uid');
  }),
};

// ---------------------------------------------------------------------------------------------

const GET_FORMATS = ['raw', 'pkcs8', 'pkcs1', 'x509', 'transparent', 'pem'] as const;

interface GetArgs extends CommonArgs {
  uid: string;
  format: (typeof GET_FORMATS)[number] | undefined;
  out: string | undefined;
}

/** The Transparent Key Format Type for an object (KMIP 2.1 §2.1.7). */
async function transparentFormat(client: KmipClient, uid: string): Promise<string> {
  const { values } = await client.getAttributes(uid, ['ObjectType', 'CryptographicAlgorithm']);
  const type = String(values.objectType);
  if (type === 'SymmetricKey') return 'TransparentSymmetricKey';
  const algorithm = String(values.cryptographicAlgorithm).replace(/^ECDSA$|^ECDH$/, 'EC');
  const half = type === 'PrivateKey' ? 'PrivateKey' : 'PublicKey';
  return `Transparent${algorithm}${half}`;
}

const get: CommandModule<object, GetArgs> = {
  command: 'get <uid>',
  describe: 'Get an object; the key material goes to --out or, with --json, to stdout in hex',
  builder: (y: Argv) =>
    uidPositional(y)
      .option('format', {
        choices: GET_FORMATS,
        describe:
          'Key Format Type to ask for: raw, pkcs8, pkcs1, x509, transparent (field by field), ' +
          'or pem (PKCS#8 or SubjectPublicKeyInfo in PEM); default as stored',
      })
      .option('out', { type: 'string', describe: 'write the key material or object value here' })
      .example('$0 get 6f1c… --out key.bin', 'save a raw AES key')
      .example('$0 get 6f1c… --format pem --out signer.pem', 'save a private key as PEM'),
  handler: withClient<GetArgs>(async (client, args) => {
    let keyFormatType: string | undefined;
    if (args.format === 'transparent') keyFormatType = await transparentFormat(client, args.uid);
    else if (args.format === 'pem') {
      const { values } = await client.getAttributes(args.uid, ['ObjectType']);
      keyFormatType =
        values.objectType === 'PrivateKey'
          ? 'PKCS_8'
          : values.objectType === 'PublicKey'
            ? 'X_509'
            : undefined;
    } else if (args.format !== undefined) keyFormatType = args.format;
    const obj = await client.get(args.uid, { keyFormatType });
    const bytes =
      args.format === 'pem' && obj.value !== undefined
        ? Buffer.from(toPem(obj.objectType, obj.value))
        : obj.value;
    if (args.out !== undefined) {
      if (bytes === undefined)
        throw new Error('the object has no byte value to write (try --json)');
      await writeFile(args.out, bytes, { mode: 0o600 });
    }
    const summary = {
      uid: obj.uid,
      objectType: obj.objectType,
      keyFormatType: obj.keyFormatType,
      cryptographicAlgorithm: obj.cryptographicAlgorithm,
      cryptographicLength: obj.cryptographicLength,
    };
    if (args.json) {
      printJson({
        ...summary,
        value: args.format === 'pem' ? bytes?.toString('utf8') : bytes,
        keyMaterial: obj.keyMaterial,
      });
      return;
    }
    printFields({
      ...summary,
      value:
        bytes === undefined
          ? obj.keyMaterial === undefined
            ? undefined
            : `${Object.keys(obj.keyMaterial).join(', ')} (use --json to see them)`
          : args.out === undefined
            ? `${bytes.length} bytes (use --out or --json to export)`
            : `${bytes.length} bytes written to ${args.out}`,
    });
  }),
};

// ---------------------------------------------------------------------------------------------

interface LocateArgs extends CommonArgs {
  name: string | undefined;
  type: ObjectTypeArg | undefined;
  state: string | undefined;
  group: string | undefined;
  algorithm: string | undefined;
  max: number | undefined;
}

/** Batch items per message when describing many objects. */
const DESCRIBE_CHUNK = 100;

export interface ObjectRow {
  uid: string;
  objectType?: string;
  state?: string;
  name?: string | string[];
}

/** Object Type, State and Name of each object, a batch message per hundred objects. */
export async function describeObjects(
  client: KmipClient,
  uids: readonly string[],
): Promise<ObjectRow[]> {
  const rows: ObjectRow[] = [];
  for (let at = 0; at < uids.length; at += DESCRIBE_CHUNK) {
    const chunk = uids.slice(at, at + DESCRIBE_CHUNK);
    let batch: Batch<unknown[]> = client.batch({ onError: 'continue' });
    for (const uid of chunk) {
      batch = batch.getAttributes({ uid, names: ['ObjectType', 'State', 'Name'] });
    }
    const settled = await batch.settle();
    chunk.forEach((uid, i) => {
      const s = settled[i];
      const values = s?.ok ? (s.value as { values: Record<string, unknown> }).values : {};
      rows.push({
        uid,
        objectType: values.objectType as string | undefined,
        state: values.state as string | undefined,
        name: values.name as string | string[] | undefined,
      });
    });
  }
  return rows;
}

const locate: CommandModule<object, LocateArgs> = {
  command: 'locate',
  describe: 'Find objects by name, type, state, group or algorithm (KMIP Locate)',
  builder: (y: Argv) =>
    connectionOptions(y)
      .option('name', { type: 'string', describe: 'Name, exactly' })
      .option('type', { choices: OBJECT_TYPES, describe: 'object type' })
      .option('state', {
        type: 'string',
        describe: 'State: pre-active, active, deactivated, compromised, destroyed',
      })
      .option('group', { type: 'string', describe: 'Object Group' })
      .option('algorithm', { type: 'string', describe: 'Cryptographic Algorithm' })
      .option('max', { type: 'number', describe: 'at most this many identifiers' })
      .example('$0 locate --type symmetric-key --state active', 'active symmetric keys'),
  handler: withClient<LocateArgs>(async (client, args) => {
    const found = await client.locate({
      name: args.name,
      objectType: args.type === undefined ? undefined : objectTypeName(args.type),
      state: args.state,
      objectGroup: args.group,
      cryptographicAlgorithm: args.algorithm,
      maximumItems: args.max,
    });
    const rows = await describeObjects(client, found.uids);
    if (args.json) {
      printJson({ uids: found.uids, locatedItems: found.locatedItems, objects: rows });
      return;
    }
    if (rows.length === 0) {
      process.stdout.write('no objects found\n');
      return;
    }
    printTable([
      ['UID', 'TYPE', 'STATE', 'NAME'],
      ...rows.map((r) => [r.uid, r.objectType, r.state, r.name]),
    ]);
  }),
};

// ---------------------------------------------------------------------------------------------

interface UidArgs extends CommonArgs {
  uid: string;
}

const activate: CommandModule<object, UidArgs> = {
  command: 'activate <uid>',
  describe: 'Activate an object: Pre-Active → Active (KMIP Activate)',
  builder: (y: Argv) => uidPositional(y),
  handler: withClient<UidArgs>(async (client, args) => {
    printUid(args, await client.activate(args.uid), 'activated');
  }),
};

interface RevokeArgs extends UidArgs {
  reason: string;
  message: string | undefined;
}

const revoke: CommandModule<object, RevokeArgs> = {
  command: 'revoke <uid>',
  describe: 'Revoke an object: Active → Deactivated, or Compromised (KMIP Revoke)',
  builder: (y: Argv) =>
    uidPositional(y)
      .option('reason', {
        type: 'string',
        default: 'cessation-of-operation',
        describe:
          'Revocation Reason Code: unspecified, key-compromise, ca-compromise, ' +
          'affiliation-changed, superseded, cessation-of-operation, privilege-withdrawn',
      })
      .option('message', { type: 'string', describe: 'Revocation Message' }),
  handler: withClient<RevokeArgs>(async (client, args) => {
    const result = await client.revoke(args.uid, { reason: args.reason, message: args.message });
    printUid(args, result, 'revoked');
  }),
};

interface ReKeyCliArgs extends UidArgs {
  offset: number | undefined;
}

const rekey: CommandModule<object, ReKeyCliArgs> = {
  command: 'rekey <uid>',
  describe: 'Replace a symmetric key by a new one with its attributes (KMIP Re-key)',
  builder: (y: Argv) =>
    uidPositional(y)
      .option('offset', {
        type: 'number',
        describe: 'seconds from now until the new key becomes active',
      })
      .example('$0 rekey 6f1c… --offset 3600', 'a replacement key that activates in an hour'),
  handler: withClient<ReKeyCliArgs>(async (client, args) => {
    printUid(args, await client.reKey(args.uid, { offset: args.offset }), 'new key');
  }),
};

export const objectCommands = [
  create,
  createKeyPair,
  register,
  get,
  locate,
  activate,
  revoke,
  rekey,
];
