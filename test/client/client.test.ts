// KmipClient against a real `kmipd serve` child: every typed operation at the negotiated
// version (2.1) and at a fixed 1.4, a batch that chains through the ID Placeholder, typed
// failures with the Result Reason, the request timeout, and a pool under concurrent load.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KmipClient,
  KmipOperationError,
  KmipTimeoutError,
  type KmipVersion,
} from '../../src/client/index.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';

let kmipd: KmipdProcess;
let creds: { cert: Buffer; key: Buffer; ca: Buffer };

beforeAll(async () => {
  kmipd = await startKmipdProcess();
  const admin = kmipd.client('admin');
  creds = {
    cert: await readFile(admin.cert),
    key: await readFile(admin.key),
    ca: await readFile(kmipd.ca),
  };
});

afterAll(async () => {
  await kmipd?.stop();
});

function connect(opts: { version?: KmipVersion | 'auto'; poolSize?: number } = {}) {
  return KmipClient.connect({ host: '127.0.0.1', port: kmipd.port, ...creds, ...opts });
}

// KMIP 2.x names a missing object Object Not Found (0x37); 1.x has only Item Not Found (0x1).
describe.each([
  ['auto', '2.1', 'ObjectNotFound', 0x37],
  ['1.4', '1.4', 'ItemNotFound', 0x1],
] as const)('KmipClient, version %s', (asked, expected, notFound, notFoundCode) => {
  let client: KmipClient;
  beforeAll(async () => {
    client = await connect({ version: asked });
  });
  afterAll(async () => {
    await client?.close();
  });

  it(`negotiates ${expected}`, async () => {
    expect(client.version).toBe(expected);
    const versions = await client.discoverVersions();
    expect(versions).toContain('2.1');
    expect(versions).toContain('1.0');
  });

  it('queries operations and object types by name', async () => {
    const q = await client.query();
    expect(q.operations).toEqual(expect.arrayContaining(['Create', 'Get', 'Locate', 'Destroy']));
    expect(q.objectTypes).toContain('SymmetricKey');
    expect(q.vendorIdentification).toBe('kmipd');
  });

  it('creates, reads attributes, edits them, locates, revokes and destroys a key', async () => {
    const name = `client-${expected}-${randomBytes(4).toString('hex')}`;
    const { uid, objectType } = await client.create({
      cryptographicAlgorithm: 'AES',
      cryptographicLength: 256,
      cryptographicUsageMask: ['Encrypt', 'Decrypt'],
      name,
      objectGroup: 'client-tests',
      custom: { 'x-purpose': 'test' },
    });
    expect(objectType).toBe('SymmetricKey');

    const key = await client.get(uid);
    expect(key.keyFormatType).toBe('Raw');
    expect(key.cryptographicAlgorithm).toBe('AES');
    expect(key.value).toHaveLength(32);

    const attrs = await client.getAttributes(uid);
    expect(attrs.values).toMatchObject({
      cryptographicAlgorithm: 'AES',
      cryptographicLength: 256,
      cryptographicUsageMask: ['Encrypt', 'Decrypt'],
      name,
      objectGroup: 'client-tests',
      state: 'PreActive',
      'x-purpose': 'test',
    });
    const some = await client.getAttributes(uid, ['cryptographicLength', 'Object Group']);
    expect(Object.keys(some.values).sort()).toEqual(['cryptographicLength', 'objectGroup']);

    const names = await client.getAttributeList(uid);
    expect(names.names).toEqual(expect.arrayContaining(['CryptographicAlgorithm', 'x-purpose']));

    await client.addAttribute(uid, { custom: { 'x-owner': 'alice' } });
    await client.modifyAttribute(uid, { custom: { 'x-owner': 'bob' } });
    expect((await client.getAttributes(uid, ['x-owner'])).values['x-owner']).toBe('bob');
    await client.deleteAttribute(uid, 'x-owner');
    expect((await client.getAttributes(uid)).values['x-owner']).toBeUndefined();
    if (expected === '2.1') {
      await client.setAttribute(uid, { contactInformation: 'ops' });
      expect((await client.getAttributes(uid)).values.contactInformation).toBe('ops');
    }

    expect((await client.locate({ name })).uids).toEqual([uid]);
    const byGroup = await client.locate({
      objectGroup: 'client-tests',
      objectType: 'SymmetricKey',
    });
    expect(byGroup.uids).toContain(uid);

    await client.activate(uid);
    expect((await client.locate({ name, state: 'Active' })).uids).toEqual([uid]);
    await client.revoke(uid, { reason: 'CessationOfOperation' });
    await client.destroy(uid);
    const after = await client.getAttributes(uid, ['State']);
    expect(after.values.state).toBe('Destroyed');
  });

  it('registers objects of every kind and gets keys in other formats', async () => {
    const secret = await client.register({
      objectType: 'SecretData',
      value: Buffer.from('s3cret'),
      attributes: { name: `secret-${expected}-${randomBytes(4).toString('hex')}` },
    });
    expect((await client.get(secret.uid)).value?.toString()).toBe('s3cret');

    const material = randomBytes(16);
    const sym = await client.register({
      objectType: 'SymmetricKey',
      value: material,
      cryptographicAlgorithm: 'AES',
      attributes: { cryptographicUsageMask: ['Encrypt'] },
    });
    const got = await client.get(sym.uid);
    expect(got.value?.equals(material)).toBe(true);
    expect(got.cryptographicLength).toBe(128);
    const transparent = await client.get(sym.uid, { keyFormatType: 'TransparentSymmetricKey' });
    expect(transparent.keyFormatType).toBe('TransparentSymmetricKey');
    expect(transparent.keyMaterial?.key).toEqual(material);

    const opaque = await client.register({
      objectType: 'OpaqueObject',
      value: Buffer.from([1, 2]),
    });
    expect((await client.get(opaque.uid)).value).toEqual(Buffer.from([1, 2]));

    const pair = await client.createKeyPair({
      common: { cryptographicAlgorithm: 'RSA', cryptographicLength: 2048 },
      privateKey: { cryptographicUsageMask: ['Sign'] },
      publicKey: { cryptographicUsageMask: ['Verify'] },
    });
    const pub = await client.get(pair.publicKeyUid, { keyFormatType: 'X_509' });
    expect(pub.keyFormatType).toBe('X_509');
    const pkcs8 = await client.get(pair.privateKeyUid, { keyFormatType: 'PKCS_8' });
    expect(pkcs8.keyFormatType).toBe('PKCS_8');
    expect(pkcs8.value?.[0]).toBe(0x30);
    const reRegistered = await client.register({ objectType: 'PublicKey', value: pub.value! });
    const back = await client.get(reRegistered.uid);
    expect(back.cryptographicAlgorithm).toBe('RSA');
    expect(back.cryptographicLength).toBe(2048);
  });

  it('encrypts, decrypts, signs, verifies, MACs, hashes and draws random bytes', async () => {
    const aes = await client.create({
      cryptographicAlgorithm: 'AES',
      cryptographicLength: 128,
      cryptographicUsageMask: ['Encrypt', 'Decrypt'],
      activationDate: new Date(Date.now() - 60_000),
    });
    const data = Buffer.from('attack at dawn');
    const params = { blockCipherMode: 'GCM', tagLength: 16, ivLength: 96 } as const;
    const enc = await client.encrypt(aes.uid, data, { cryptographicParameters: params });
    expect(enc.ivCounterNonce).toHaveLength(12);
    expect(enc.tag).toHaveLength(16);
    const dec = await client.decrypt(aes.uid, enc.data, {
      cryptographicParameters: params,
      ivCounterNonce: enc.ivCounterNonce,
      tag: enc.tag,
    });
    expect(dec.data.equals(data)).toBe(true);

    const pair = await client.createKeyPair({
      common: { cryptographicAlgorithm: 'EC', recommendedCurve: 'P_256' },
      privateKey: { cryptographicUsageMask: ['Sign'] },
      publicKey: { cryptographicUsageMask: ['Verify'] },
    });
    await client.activate(pair.privateKeyUid);
    await client.activate(pair.publicKeyUid);
    const ecdsa = { digitalSignatureAlgorithm: 'ECDSAWithSHA256' } as const;
    const sig = await client.sign(pair.privateKeyUid, data, { cryptographicParameters: ecdsa });
    expect(sig.signature.length).toBeGreaterThan(60);
    const ok = await client.signatureVerify(pair.publicKeyUid, data, sig.signature, {
      cryptographicParameters: ecdsa,
    });
    expect(ok.valid).toBe(true);
    const bad = await client.signatureVerify(pair.publicKeyUid, Buffer.from('x'), sig.signature, {
      cryptographicParameters: ecdsa,
    });
    expect(bad.valid).toBe(false);

    const hmacKey = randomBytes(32);
    const macKey = await client.register({
      objectType: 'SymmetricKey',
      value: hmacKey,
      cryptographicAlgorithm: 'HMAC_SHA256',
      attributes: { cryptographicUsageMask: ['MACGenerate', 'MACVerify'] },
    });
    await client.activate(macKey.uid);
    const hmacParams = { cryptographicAlgorithm: 'HMAC_SHA256' } as const;
    const m = await client.mac(macKey.uid, data, { cryptographicParameters: hmacParams });
    expect(m.mac.equals(createHmac('sha256', hmacKey).update(data).digest())).toBe(true);
    const mv = await client.macVerify(macKey.uid, data, m.mac, {
      cryptographicParameters: hmacParams,
    });
    expect(mv.valid).toBe(true);

    const digest = await client.hash(data, 'SHA_256');
    expect(digest.equals(createHash('sha256').update(data).digest())).toBe(true);
    expect(await client.rngRetrieve(24)).toHaveLength(24);
  });

  it('re-keys, obtains a lease, archives and recovers', async () => {
    const old = await client.create({
      cryptographicAlgorithm: 'AES',
      cryptographicLength: 128,
      name: `rekey-${expected}-${randomBytes(4).toString('hex')}`,
    });
    await client.activate(old.uid);
    const fresh = await client.reKey(old.uid);
    expect(fresh.uid).not.toBe(old.uid);
    expect((await client.get(fresh.uid)).value).toHaveLength(16);
    const lease = await client.obtainLease(fresh.uid);
    expect(lease.uid).toBe(fresh.uid);
    expect(lease.leaseTime).toBeGreaterThan(0);

    const pair = await client.createKeyPair({
      common: { cryptographicAlgorithm: 'RSA', cryptographicLength: 2048 },
    });
    const next = await client.reKeyKeyPair(pair.privateKeyUid);
    expect(next.privateKeyUid).not.toBe(pair.privateKeyUid);
    expect(next.publicKeyUid).not.toBe(pair.publicKeyUid);

    const stored = await client.create({ cryptographicAlgorithm: 'AES', cryptographicLength: 128 });
    await client.archive(stored.uid);
    await client.recover(stored.uid);
    expect((await client.get(stored.uid)).value).toHaveLength(16);
  });

  it('sends a batch whose later items act on the ID Placeholder', async () => {
    const [created, activated, key, attrs] = await client
      .batch()
      .create({ cryptographicAlgorithm: 'AES', cryptographicLength: 192 })
      .activate()
      .get()
      .getAttributes({ names: ['State'] })
      .send();
    expect(activated.uid).toBe(created.uid);
    expect(key.uid).toBe(created.uid);
    expect(key.value).toHaveLength(24);
    expect(attrs.values.state).toBe('Active');
  });

  it('throws KmipOperationError with the Result Reason number, name and message', async () => {
    const err = await client.get('no-such-object').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipOperationError);
    const e = err as KmipOperationError;
    expect(e.resultReasonName).toBe(notFound);
    expect(e.resultReason).toBe(notFoundCode);
    expect(e.resultMessage).toContain('no-such-object');
    expect(e.operation).toBe('Get');
    expect(e.message).toBe(`${notFound}: no object with identifier no-such-object`);
  });

  it('settles every item of a batch that continues past a failure', async () => {
    const settled = await client
      .batch({ onError: 'continue' })
      .get({ uid: 'missing' })
      .rngRetrieve(8)
      .settle();
    expect(settled[0]!.ok).toBe(false);
    expect(!settled[0]!.ok && (settled[0]!.error as KmipOperationError).resultReasonName).toBe(
      notFound,
    );
    expect(settled[1]).toMatchObject({ ok: true });
  });
});

describe('KmipClient pool', () => {
  it('serves 20 parallel gets over a pool of 4 connections', async () => {
    const client = await connect({ poolSize: 4 });
    try {
      const { uid } = await client.create({
        cryptographicAlgorithm: 'AES',
        cryptographicLength: 256,
      });
      expect(client.poolStats()).toMatchObject({ size: 4, open: 1 });
      const pending = Array.from({ length: 20 }, () => client.get(uid));
      // Four requests are on the wire, sixteen wait for a free connection.
      expect(client.poolStats()).toMatchObject({ open: 4, waiting: 16 });
      const results = await Promise.all(pending);
      expect(results.map((r) => r.uid)).toEqual(Array(20).fill(uid));
      expect(results.every((r) => r.value?.length === 32)).toBe(true);
      expect(client.poolStats()).toMatchObject({ open: 4, idle: 4, waiting: 0 });
    } finally {
      await client.close();
    }
  });
});

describe('KmipClient request timeout', () => {
  let silent: Server;
  let port: number;
  const sockets: TLSSocket[] = [];

  beforeAll(async () => {
    // A TLS server that accepts requests and never answers.
    const pki = kmipd.pkiDir;
    silent = createServer({
      cert: await readFile(`${pki}/server.crt`),
      key: await readFile(`${pki}/server.key`),
      ca: creds.ca,
      requestCert: true,
    });
    silent.on('secureConnection', (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    port = (silent.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent?.close(r));
  });

  it('fails a request with KmipTimeoutError after requestTimeoutMs', async () => {
    const client = await KmipClient.connect({
      host: '127.0.0.1',
      port,
      ...creds,
      version: '2.1',
      requestTimeoutMs: 300,
    });
    try {
      const started = Date.now();
      const err = await client.rngRetrieve(8).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KmipTimeoutError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await client.close();
    }
  });
});
