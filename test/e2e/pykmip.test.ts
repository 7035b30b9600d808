// PyKMIP 0.10 (Debian python3-pykmip) against a real `kmipd serve` process: every operation
// kmipd implements, at every KMIP version PyKMIP speaks, through its ProxyKmipClient and its
// low-level KMIPProxy (Discover Versions, Query, hand-built batches). One Python process per
// version and scenario; the drivers in test/e2e/py record, the assertions are here.

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { requirePyKmip, runPyScript } from '../helpers/python.js';
import {
  type Attempt,
  type Described,
  driverInput,
  failure,
  type Material,
  makeMaterial,
  value,
} from './support.js';

const VERSIONS = ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0'] as const;
type Version = (typeof VERSIONS)[number];

type Attrs = Record<string, unknown>;

interface CreatedKey {
  name: string;
  create: Attempt<string>;
  get?: Attempt<Described>;
  attributes?: Attempt<Attrs>;
}

interface CreatedPair {
  create: Attempt<[string, string]>;
  public?: Attempt<Described>;
  private?: Attempt<Described>;
  public_attributes?: Attempt<Attrs>;
  private_attributes?: Attempt<Attrs>;
}

interface Registered {
  name: string;
  register: Attempt<string>;
  get?: Attempt<Described>;
  locate?: Attempt<string[]>;
}

interface OperationsRun {
  version: Version;
  discover_versions: Attempt<{ status: string; versions: string[] }>;
  query: Attempt<{
    status: string;
    operations: string[];
    object_types: string[];
    vendor: string;
    server_information: boolean;
  }>;
  create_hmac_no_mask: Attempt<{ status: string; uid?: string; reason?: string }>;
  get_hmac_no_mask?: Attempt<Described>;
  attributes_hmac_no_mask?: Attempt<Attrs>;
  create: Record<string, CreatedKey>;
  create_key_pair: Record<string, CreatedPair>;
  register: Record<string, Registered>;
  get_attributes_named?: Attempt<Attrs>;
  get_attribute_list?: Attempt<string[]>;
  locate_by_name?: Attempt<string[]>;
  lifecycle?: Record<string, Attempt<unknown>> & { uid: string };
  get_unknown: Attempt<unknown>;
}

interface BatchItem {
  operation: string | null;
  id: string | null;
  status: string;
  reason?: string;
  message?: string;
  payload?: Record<string, unknown>;
}

interface BatchRun {
  version: Version;
  ok: Attempt<{ batch_count: number; items: BatchItem[] }>;
  list?: Attempt<{ batch_count: number; items: BatchItem[] }>;
  stop: Attempt<{ batch_count: number; items: BatchItem[] }>;
}

const is2x = (v: Version) => v.startsWith('2.');

/** The operations these tests exercise; Query may list more as kmipd grows. */
const EXERCISED = [
  'CREATE',
  'CREATE_KEY_PAIR',
  'REGISTER',
  'LOCATE',
  'GET',
  'GET_ATTRIBUTES',
  'GET_ATTRIBUTE_LIST',
  'ACTIVATE',
  'REVOKE',
  'DESTROY',
  'QUERY',
];

/**
 * Query's operation list as the client's version allows it: Discover Versions exists since
 * KMIP 1.1, Set Attribute since 2.0.
 */
function expectOperations(ops: unknown, v: Version): void {
  expect(ops).toEqual(expect.arrayContaining(EXERCISED));
  const list = ops as string[];
  expect(new Set(list).size).toBe(list.length);
  expect(list.includes('DISCOVER_VERSIONS')).toBe(v !== '1.0');
  if (!is2x(v)) expect(list).not.toContain('SET_ATTRIBUTE');
}

let server: KmipdProcess;
let material: Material;
const runs = new Map<Version, OperationsRun>();
const batches = new Map<Version, BatchRun>();

beforeAll(async () => {
  await requirePyKmip();
  server = await startKmipdProcess();
  material = makeMaterial(server.client('admin').cert);
  const base = { ...driverInput(server, ['admin']), identity: 'admin' };
  await Promise.all(
    VERSIONS.map(async (version) => {
      const [ops, batch] = await Promise.all([
        runPyScript<OperationsRun>('pykmip_operations.py', {
          ...base,
          version,
          prefix: `pykmip-${version}`,
          material,
        }),
        runPyScript<BatchRun>('pykmip_batch.py', { ...base, version, name: `batch-${version}` }),
      ]);
      runs.set(version, ops);
      batches.set(version, batch);
    }),
  );
});

afterAll(async () => {
  const status = await server?.stop();
  expect(status?.code ?? 0).toBe(0);
});

describe.each(VERSIONS)('PyKMIP 0.10 at KMIP %s', (version) => {
  const run = () => runs.get(version)!;

  it('Discover Versions lists every version kmipd speaks, newest first', () => {
    const dv = value(run().discover_versions, 'Discover Versions');
    expect(dv.status).toBe('SUCCESS');
    expect(dv.versions).toEqual(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
  });

  it('Query answers operations, object types and server information', () => {
    const q = value(run().query, 'Query');
    expect(q.status).toBe('SUCCESS');
    expectOperations(q.operations, version);
    expect([...q.object_types].sort()).toEqual(
      [
        'CERTIFICATE',
        'OPAQUE_DATA',
        'PRIVATE_KEY',
        'PUBLIC_KEY',
        'SECRET_DATA',
        'SYMMETRIC_KEY',
      ].sort(),
    );
    expect(q.vendor).toBe('kmipd');
    expect(q.server_information).toBe(true);
  });

  it.each([
    ['aes-128', 'AES', 128, 12],
    ['aes-192', 'AES', 192, 12],
    ['aes-256', 'AES', 256, 12],
    ['3des-192', 'TRIPLE_DES', 192, 12],
    // MAC Generate (128) | MAC Verify (256) | the Encrypt|Decrypt the pie client always adds.
    ['hmac-sha256-mask', 'HMAC_SHA256', 256, 396],
  ] as const)('Create %s: Get returns a raw key of that length', (label, algorithm, bits, mask) => {
    const entry = run().create[label]!;
    const uid = value(entry.create, `Create ${label}`);
    expect(uid).toMatch(/^[0-9a-f-]{36}$/);
    const key = value(entry.get, `Get ${label}`);
    expect(key).toMatchObject({
      object_type: 'SYMMETRIC_KEY',
      cryptographic_algorithm: algorithm,
      cryptographic_length: bits,
      key_format_type: 'RAW',
    });
    expect(key.value.length / 2).toBe(bits / 8);
    const attrs = value(entry.attributes, `Get Attributes ${label}`);
    expect(attrs).toMatchObject({
      'Unique Identifier': uid,
      'Object Type': 'SYMMETRIC_KEY',
      'Cryptographic Algorithm': algorithm,
      'Cryptographic Length': bits,
      'Cryptographic Usage Mask': mask,
      Name: entry.name,
      State: 'PRE_ACTIVE',
    });
  });

  it('Create HMAC-SHA256 with no usage mask at all (KMIPProxy, bare template)', () => {
    const created = value(run().create_hmac_no_mask, 'Create without mask');
    expect(created).toMatchObject({ status: 'SUCCESS' });
    const key = value(run().get_hmac_no_mask, 'Get HMAC key');
    expect(key).toMatchObject({
      object_type: 'SYMMETRIC_KEY',
      cryptographic_algorithm: 'HMAC_SHA256',
      cryptographic_length: 256,
    });
    expect(key.value).toHaveLength(64);
    const attrs = value(run().attributes_hmac_no_mask, 'Get Attributes HMAC key');
    expect(attrs['Unique Identifier']).toBe(created.uid);
    expect(attrs['Cryptographic Usage Mask']).toBeUndefined();
  });

  it('Create Key Pair RSA 2048: a matching pair, both kept as PKCS#1 (the KMIP default for RSA)', () => {
    const pair = run().create_key_pair['rsa-2048']!;
    const [publicUid, privateUid] = value(pair.create, 'Create Key Pair RSA');
    expect(publicUid).not.toBe(privateUid);
    const pub = value(pair.public, 'Get public key');
    const priv = value(pair.private, 'Get private key');
    expect(pub).toMatchObject({
      object_type: 'PUBLIC_KEY',
      cryptographic_algorithm: 'RSA',
      cryptographic_length: 2048,
      key_format_type: 'PKCS_1',
    });
    expect(priv).toMatchObject({
      object_type: 'PRIVATE_KEY',
      cryptographic_algorithm: 'RSA',
      cryptographic_length: 2048,
      key_format_type: 'PKCS_1',
    });
    const publicKey = createPublicKey({
      key: Buffer.from(pub.value, 'hex'),
      format: 'der',
      type: 'pkcs1',
    });
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const privateKey = createPrivateKey({
      key: Buffer.from(priv.value, 'hex'),
      format: 'der',
      type: 'pkcs1',
    });
    expect(
      createPublicKey(privateKey).export({ format: 'der', type: 'pkcs1' }).toString('hex'),
    ).toBe(pub.value);
    expect(value(pair.public_attributes, 'public key attributes')).toMatchObject({
      'Object Type': 'PUBLIC_KEY',
      'Cryptographic Usage Mask': 2,
      Name: `pykmip-${version}-rsa-2048-public`,
    });
    expect(value(pair.private_attributes, 'private key attributes')).toMatchObject({
      'Object Type': 'PRIVATE_KEY',
      'Cryptographic Usage Mask': 1,
      Name: `pykmip-${version}-rsa-2048-private`,
    });
  });

  it('Create Key Pair EC 256: a P-256 key pair', () => {
    const pair = run().create_key_pair['ec-256']!;
    value(pair.create, 'Create Key Pair EC');
    const pub = value(pair.public, 'Get EC public key');
    const priv = value(pair.private, 'Get EC private key');
    expect(pub).toMatchObject({ cryptographic_algorithm: 'EC', cryptographic_length: 256 });
    const publicKey = createPublicKey({
      key: Buffer.from(pub.value, 'hex'),
      format: 'der',
      type: 'spki',
    });
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const privateKey = createPrivateKey({
      key: Buffer.from(priv.value, 'hex'),
      format: 'der',
      type: 'pkcs8',
    });
    expect(
      createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('hex'),
    ).toBe(pub.value);
  });

  it.each([
    ['symmetric', 'SYMMETRIC_KEY', 'symmetric', { cryptographic_algorithm: 'AES' }],
    ['private_key', 'PRIVATE_KEY', 'private_key', { key_format_type: 'PKCS_8' }],
    ['public_key', 'PUBLIC_KEY', 'public_key', { key_format_type: 'X_509' }],
    ['certificate', 'CERTIFICATE', 'certificate', { certificate_type: 'X_509' }],
    ['secret', 'SECRET_DATA', 'secret', { data_type: 'PASSWORD' }],
    ['opaque', 'OPAQUE_DATA', 'opaque', { opaque_type: 'NONE' }],
  ] as const)(
    'Register %s: Get returns the same bytes, Locate finds it by name',
    (label, type, field, extra) => {
      const entry = run().register[label]!;
      const uid = value(entry.register, `Register ${label}`);
      const got = value(entry.get, `Get ${label}`);
      expect(got.object_type).toBe(type);
      expect(got).toMatchObject(extra);
      expect(got.value).toBe(material[field]);
      expect(value(entry.locate, `Locate ${label}`)).toEqual([uid]);
    },
  );

  it('Get Attributes (named), Get Attribute List and Locate by name', () => {
    const aes = run().create['aes-256']!;
    const uid = value(aes.create, 'Create aes-256');
    expect(value(run().get_attributes_named, 'Get Attributes')).toEqual({
      'Cryptographic Algorithm': 'AES',
      'Cryptographic Length': 256,
      Name: aes.name,
      State: 'PRE_ACTIVE',
    });
    const list = value(run().get_attribute_list, 'Get Attribute List');
    expect(list).toEqual(
      expect.arrayContaining([
        'Cryptographic Algorithm',
        'Cryptographic Length',
        'Cryptographic Usage Mask',
        'Initial Date',
        'Name',
        'Object Type',
        'State',
        'Unique Identifier',
      ]),
    );
    expect(value(run().locate_by_name, 'Locate')).toEqual([uid]);
  });

  it('Activate, Revoke and Destroy walk the states; Destroy refuses an Active key', () => {
    const life = run().lifecycle;
    expect(life).toBeDefined();
    value(life!.activate, 'Activate');
    expect(value(life!.state_after_activate, 'State after Activate')).toBe('ACTIVE');
    expect(failure(life!.destroy_while_active, 'Destroy while Active').reason).toBe(
      is2x(version) ? 'WRONG_KEY_LIFECYCLE_STATE' : 'PERMISSION_DENIED',
    );
    value(life!.revoke, 'Revoke');
    expect(value(life!.state_after_revoke, 'State after Revoke')).toBe('DEACTIVATED');
    value(life!.destroy, 'Destroy');
    expect(value(life!.state_after_destroy, 'State after Destroy')).toBe('DESTROYED');
    expect(failure(life!.get_after_destroy, 'Get after Destroy').reason).toBe(
      is2x(version) ? 'OBJECT_DESTROYED' : 'ITEM_NOT_FOUND',
    );
  });

  it('Get of an unknown uid fails with Item Not Found (Object Not Found in 2.x)', () => {
    const f = failure(run().get_unknown, 'Get unknown');
    expect(f).toMatchObject({
      status: 'OPERATION_FAILED',
      reason: is2x(version) ? 'OBJECT_NOT_FOUND' : 'ITEM_NOT_FOUND',
    });
  });

  it('a batch of six items: ID Placeholder carries the new uid to Activate, Get Attributes, Get', () => {
    const batch = batches.get(version)!;
    const ok = value(batch.ok, 'batch');
    expect(ok.batch_count).toBe(6);
    expect(ok.items.map((i) => [i.id, i.operation, i.status])).toEqual([
      ['01', 'DISCOVER_VERSIONS', 'SUCCESS'],
      ['02', 'QUERY', 'SUCCESS'],
      ['03', 'CREATE', 'SUCCESS'],
      ['04', 'ACTIVATE', 'SUCCESS'],
      ['05', 'GET_ATTRIBUTES', 'SUCCESS'],
      ['06', 'GET', 'SUCCESS'],
    ]);
    const [dv, query, create, activate, attrs, get] = ok.items.map((i) => i.payload);
    expect(dv).toEqual({ versions: ['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0'] });
    expectOperations(query?.operations, version);
    const uid = create?.uid;
    expect(uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(activate).toEqual({ uid });
    expect(attrs).toEqual({ uid, attributes: { State: 'ACTIVE', Name: `batch-${version}` } });
    expect(get).toEqual({
      uid,
      object_type: 'SYMMETRIC_KEY',
      algorithm: 'AES',
      length: 256,
      key_bytes: 32,
    });
    const list = value(batch.list, 'Get Attribute List after the batch');
    expect(list.items[0]?.payload?.names).toEqual(expect.arrayContaining(['Activation Date']));
  });

  it('a batch stops at a failed item (default Batch Error Continuation Option Stop)', () => {
    const stop = value(batches.get(version)!.stop, 'batch with an error');
    const [first, ...rest] = stop.items;
    expect(first).toMatchObject({
      id: '01',
      operation: 'GET',
      status: 'OPERATION_FAILED',
      reason: is2x(version) ? 'OBJECT_NOT_FOUND' : 'ITEM_NOT_FOUND',
    });
    expect(rest.filter((i) => i.status === 'SUCCESS')).toEqual([]);
    expect(stop.batch_count).toBe(stop.items.length);
  });
});

describe('kmipd under PyKMIP', () => {
  it('logged no server error while serving every version', () => {
    const errors = server.logs().filter((l) => l.level >= 50);
    expect(errors).toEqual([]);
  });
});
