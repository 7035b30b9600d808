// OpenStack Barbican's KMIP secret store sequence (barbican/plugin/kmip_secret_store.py) run
// through PyKMIP 0.10 against a real `kmipd serve`: KMIP 1.2 over TLS 1.2, a new connection
// for every call, generate / store / get / delete exactly as the plugin calls them. Run once
// without and once with a username and password in every request header.

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

interface BarbicanRun {
  kmip_version: string;
  generate_symmetric: Record<string, { create: Attempt<string> }>;
  generate_asymmetric: { create: Attempt<[string, string]> };
  store_secret: Record<string, { name: string; register: Attempt<string> }>;
  uids: Record<string, string>;
  get_secret: Record<string, Attempt<Described>>;
  name_check: Record<string, Attempt<Record<string, unknown>>>;
  delete_secret: Record<string, Attempt<null>>;
  get_after_delete: Record<string, Attempt<unknown>>;
  local_ports: number[];
}

const MODES = [
  ['without credentials', {}],
  ['with a username and password', { username: 'barbican', password: 'secret-password' }],
] as const;

const SYMMETRIC = [
  ['aes-128', 'AES', 128],
  ['aes-192', 'AES', 192],
  ['aes-256', 'AES', 256],
  ['3des-192', 'TRIPLE_DES', 192],
  ['hmac-sha256-256', 'HMAC_SHA256', 256],
] as const;

let server: KmipdProcess;
let material: Material;
const runs = new Map<string, BarbicanRun>();

beforeAll(async () => {
  await requirePyKmip();
  server = await startKmipdProcess();
  material = makeMaterial(server.client('admin').cert);
  await Promise.all(
    MODES.map(async ([mode, credentials]) => {
      const run = await runPyScript<BarbicanRun>('barbican_flow.py', {
        ...driverInput(server, ['admin']),
        identity: 'admin',
        material,
        ...credentials,
      });
      runs.set(mode, run);
    }),
  );
});

afterAll(async () => {
  await server?.stop();
});

describe.each(MODES)('Barbican KMIP secret store %s', (mode) => {
  const run = () => runs.get(mode)!;

  it('speaks KMIP 1.2 (PyKMIP default, as Barbican leaves it) on a new connection per call', () => {
    expect(run().kmip_version).toBe('KMIP_1_2');
    const r = run();
    const calls =
      Object.keys(r.generate_symmetric).length +
      1 +
      Object.keys(r.store_secret).length +
      Object.keys(r.get_secret).length +
      Object.keys(r.name_check).length +
      Object.keys(r.delete_secret).length +
      Object.keys(r.get_after_delete).length;
    expect(r.local_ports).toHaveLength(calls);
    expect(new Set(r.local_ports).size).toBe(calls);
  });

  it.each(SYMMETRIC)(
    'generate_symmetric_key %s: Get returns the key with algorithm and length',
    (label, algorithm, bits) => {
      const uid = value(run().generate_symmetric[label]!.create, `Create ${label}`);
      expect(run().uids[`generated-${label}`]).toBe(uid);
      const key = value(run().get_secret[`generated-${label}`], `Get ${label}`);
      expect(key).toMatchObject({
        object_type: 'SYMMETRIC_KEY',
        cryptographic_algorithm: algorithm,
        cryptographic_length: bits,
        key_format_type: 'RAW',
      });
      expect(key.value.length / 2).toBe(bits / 8);
    },
  );

  it('generate_asymmetric_key RSA 2048 (algorithm and length only): a matching pair', () => {
    const [publicUid, privateUid] = value(run().generate_asymmetric.create, 'Create Key Pair');
    expect(run().uids['generated-rsa-public']).toBe(publicUid);
    expect(run().uids['generated-rsa-private']).toBe(privateUid);
    const pub = value(run().get_secret['generated-rsa-public'], 'Get public key');
    const priv = value(run().get_secret['generated-rsa-private'], 'Get private key');
    expect(pub).toMatchObject({
      object_type: 'PUBLIC_KEY',
      cryptographic_algorithm: 'RSA',
      cryptographic_length: 2048,
    });
    expect(priv).toMatchObject({
      object_type: 'PRIVATE_KEY',
      cryptographic_algorithm: 'RSA',
      cryptographic_length: 2048,
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
  });

  it.each([
    [
      'symmetric',
      'symmetric',
      { object_type: 'SYMMETRIC_KEY', cryptographic_algorithm: 'AES', cryptographic_length: 256 },
    ],
    [
      'private',
      'private_key',
      {
        object_type: 'PRIVATE_KEY',
        cryptographic_algorithm: 'RSA',
        cryptographic_length: 2048,
        key_format_type: 'PKCS_8',
      },
    ],
    [
      'public',
      'public_key',
      {
        object_type: 'PUBLIC_KEY',
        cryptographic_algorithm: 'RSA',
        cryptographic_length: 2048,
        key_format_type: 'X_509',
      },
    ],
    ['certificate', 'certificate', { object_type: 'CERTIFICATE', certificate_type: 'X_509' }],
    ['passphrase', 'passphrase', { object_type: 'SECRET_DATA', data_type: 'PASSWORD' }],
    ['opaque', 'opaque', { object_type: 'OPAQUE_DATA', opaque_type: 'NONE' }],
  ] as const)(
    'store_secret %s: named by a UUID, get_secret returns the same bytes',
    (label, field, expected) => {
      const stored = run().store_secret[label]!;
      const uid = value(stored.register, `Register ${label}`);
      expect(stored.name).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      const got = value(run().get_secret[`stored-${label}`], `Get ${label}`);
      expect(got).toMatchObject(expected);
      expect(got.value).toBe(material[field]);
      expect(value(run().name_check[`stored-${label}`], `Name of ${label}`)).toEqual({
        Name: stored.name,
      });
      expect(uid).toBe(run().uids[`stored-${label}`]);
    },
  );

  it('delete_secret destroys every object without Revoke; Get then fails with Item Not Found', () => {
    const r = run();
    expect(Object.keys(r.uids)).toHaveLength(SYMMETRIC.length + 2 + 6);
    for (const label of Object.keys(r.uids)) {
      value(r.delete_secret[label], `Destroy ${label}`);
      expect(failure(r.get_after_delete[label], `Get ${label} after Destroy`)).toMatchObject({
        status: 'OPERATION_FAILED',
        reason: 'ITEM_NOT_FOUND',
      });
    }
  });
});
