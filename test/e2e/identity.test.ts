// Object ownership between client identities, through PyKMIP against a real `kmipd serve`:
// alice and bob hold certificates from one development CA; root is named by --admin. Bob
// cannot reach alice's objects by uid or by name, and learns nothing a uid that never existed
// would not tell him; root can read and retire them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { requirePyKmip, runPyScript } from '../helpers/python.js';
import { type Attempt, type Described, driverInput, failure, value } from './support.js';

type Attempts = Record<
  'get' | 'get_attributes' | 'get_attribute_list' | 'activate' | 'revoke' | 'destroy',
  Attempt<unknown>
>;

interface IdentityRun {
  version: string;
  alice_create: Attempt<string>;
  alice_register: Attempt<string>;
  bob_on_alice_key: Attempts;
  bob_on_alice_secret: Attempts;
  bob_on_unknown: Attempts;
  bob_locate_by_name: Attempt<string[]>;
  bob_locate_all: Attempt<string[]>;
  alice_after_bob: {
    get: Attempt<Described>;
    state: Attempt<string>;
    locate_by_name: Attempt<string[]>;
  };
  root: Record<string, Attempt<unknown>> & {
    get: Attempt<Described>;
    get_secret: Attempt<Described>;
    locate_by_name: Attempt<string[]>;
  };
}

const VERSIONS = ['1.2', '2.0'] as const;
const OPERATIONS = [
  'get',
  'get_attributes',
  'get_attribute_list',
  'activate',
  'revoke',
  'destroy',
] as const;

let server: KmipdProcess;
const runs = new Map<string, IdentityRun>();

beforeAll(async () => {
  await requirePyKmip();
  server = await startKmipdProcess({ clients: ['alice', 'bob', 'root'], admins: ['root'] });
  const base = driverInput(server, ['alice', 'bob', 'root']);
  await Promise.all(
    VERSIONS.map(async (version) => {
      runs.set(
        version,
        await runPyScript<IdentityRun>('identity.py', {
          ...base,
          version,
          name: `alice-key-${version}`,
        }),
      );
    }),
  );
});

afterAll(async () => {
  await server?.stop();
});

describe.each(VERSIONS)('client identities at KMIP %s', (version) => {
  const run = () => runs.get(version)!;

  it('alice creates a key and registers secret data', () => {
    expect(value(run().alice_create, 'alice Create')).toMatch(/^[0-9a-f-]{36}$/);
    expect(value(run().alice_register, 'alice Register')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each(OPERATIONS)('bob cannot %s alice’s key or secret: not found, as for no object', (op) => {
    const notFound = version.startsWith('2') ? 'OBJECT_NOT_FOUND' : 'ITEM_NOT_FOUND';
    const unknown = failure(run().bob_on_unknown[op], `bob ${op} on an unknown uid`);
    expect(unknown.reason).toBe(notFound);
    for (const target of ['bob_on_alice_key', 'bob_on_alice_secret'] as const) {
      const f = failure(run()[target][op], `${target} ${op}`);
      expect(f).toMatchObject({ status: 'OPERATION_FAILED', reason: notFound });
      // The message must not tell bob the object exists under another owner.
      const aliceUid = value(
        target === 'bob_on_alice_key' ? run().alice_create : run().alice_register,
      );
      expect(f.message.replace(aliceUid, 'UID')).toBe(
        unknown.message.replace('00000000-0000-0000-0000-000000000000', 'UID'),
      );
    }
  });

  it('bob’s Locate finds none of alice’s objects, by name or at all', () => {
    expect(value(run().bob_locate_by_name, 'bob Locate by name')).toEqual([]);
    const all = value(run().bob_locate_all, 'bob Locate');
    expect(all).not.toContain(value(run().alice_create));
    expect(all).not.toContain(value(run().alice_register));
  });

  it('alice’s key is untouched by bob’s attempts', () => {
    const uid = value(run().alice_create);
    const after = run().alice_after_bob;
    expect(value(after.get, 'alice Get')).toMatchObject({
      object_type: 'SYMMETRIC_KEY',
      cryptographic_length: 256,
    });
    expect(value(after.state, 'alice State')).toBe('PRE_ACTIVE');
    expect(value(after.locate_by_name, 'alice Locate')).toEqual([uid]);
  });

  it('root (--admin) reads, locates, activates, revokes and destroys alice’s objects', () => {
    const uid = value(run().alice_create);
    const root = run().root;
    expect(value(root.get, 'root Get')).toMatchObject({
      object_type: 'SYMMETRIC_KEY',
      cryptographic_algorithm: 'AES',
      cryptographic_length: 256,
    });
    expect(value(root.get_secret, 'root Get secret')).toMatchObject({
      object_type: 'SECRET_DATA',
      value: Buffer.from("alice's password").toString('hex'),
    });
    expect(value(root.get_attributes, 'root Get Attributes')).toEqual({
      State: 'PRE_ACTIVE',
      Name: `alice-key-${version}`,
    });
    expect(value(root.locate_by_name, 'root Locate')).toEqual([uid]);
    value(root.activate, 'root Activate');
    value(root.revoke, 'root Revoke');
    value(root.destroy, 'root Destroy');
    value(root.destroy_secret, 'root Destroy secret');
    expect(value(root.state_after_destroy, 'State after Destroy')).toBe('DESTROYED');
  });
});

describe('audit log', () => {
  it('records bob’s refused attempts under his identity', () => {
    const refused = server
      .logs()
      .filter((l) => l.audit === true && l.identity === 'bob' && l.result !== 'Success');
    // 6 operations on 3 targets, at each version.
    expect(refused.length).toBe(OPERATIONS.length * 3 * VERSIONS.length);
  });
});
