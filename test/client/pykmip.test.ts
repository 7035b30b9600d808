// KmipClient against another implementation: PyKMIP 0.10's server, at KMIP 1.2 and at the
// version Discover Versions agrees on. Shows the client's requests are not shaped to kmipd.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmipClient, KmipOperationError } from '../../src/client/index.js';
import { type PyKmipServer, startPyKmipServer } from '../helpers/pykmip-server.js';

let server: PyKmipServer;

beforeAll(async () => {
  server = await startPyKmipServer();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

const connect = (version: '1.2' | 'auto') =>
  KmipClient.connect({
    host: '127.0.0.1',
    port: server.port,
    cert: server.cert,
    key: server.key,
    ca: server.ca,
    version,
  });

describe('KmipClient against PyKMIP 0.10', () => {
  it('creates, gets and destroys an AES key at KMIP 1.2', async () => {
    const client = await connect('1.2');
    try {
      expect(client.version).toBe('1.2');
      const name = `pykmip-${randomBytes(4).toString('hex')}`;
      const { uid, objectType } = await client.create({
        cryptographicAlgorithm: 'AES',
        cryptographicLength: 256,
        cryptographicUsageMask: ['Encrypt', 'Decrypt'],
        name,
      });
      expect(objectType).toBe('SymmetricKey');
      const key = await client.get(uid);
      expect(key.objectType).toBe('SymmetricKey');
      expect(key.keyFormatType).toBe('Raw');
      expect(key.cryptographicAlgorithm).toBe('AES');
      expect(key.cryptographicLength).toBe(256);
      expect(key.value).toHaveLength(32);
      const attrs = await client.getAttributes(uid, ['Name', 'Cryptographic Length']);
      expect(attrs.values).toMatchObject({ name, cryptographicLength: 256 });
      await client.destroy(uid);
      const err = await client.get(uid).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KmipOperationError);
      expect((err as KmipOperationError).resultReasonName).toBe('ItemNotFound');
    } finally {
      await client.close();
    }
  });

  it('negotiates the highest version both speak and registers a secret', async () => {
    const client = await connect('auto');
    try {
      expect(client.version).toBe('2.0');
      const { uid } = await client.register({
        objectType: 'SecretData',
        value: Buffer.from('passw0rd'),
      });
      const got = await client.get(uid);
      expect(got.value?.toString()).toBe('passw0rd');
    } finally {
      await client.close();
    }
  });
});
