// Registered client certificates (Client Registration Method Client Registered) over real TLS
// on loopback: a registered self-signed certificate is served as itself, an unregistered one
// and one issued by a registered leaf are refused, and CA-signed clients are served as before.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { initPki, type PkiFiles } from '../../src/pki/dev-pki.js';
import { startHttpsServer } from '../../src/server/https-server.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { type RunningServer, startTlsServer } from '../../src/server/tls-server.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import {
  fingerprintOf,
  loadRegisteredClients,
  type RegisteredClients,
} from '../../src/tls/registered-clients.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import { Operation, ResultStatus } from '../../src/ttlv/spec/generated.js';
import { readResponse, requestBytes, silentLog } from '../helpers/kmip-test-client.js';

interface Pair {
  cert: string;
  key: string;
}

let dir: string;
let pki: PkiFiles;
let server: RunningServer;
let httpsServer: RunningServer;
let registered: RegisteredClients;
/** Self-signed, registered. */
let bob: Pair;
/** Self-signed, not registered. */
let mallory: Pair;
/** Issued by bob's registered leaf (not a CA), not registered itself. */
let eve: Pair;
/** Self-signed, registered, expired yesterday. */
let stale: Pair;

const DAY = 86_400_000;

async function selfSigned(
  cn: string,
  opts: { notBefore?: Date; notAfter?: Date; signer?: Pair; ca?: boolean; eku?: boolean } = {},
): Promise<Pair> {
  const notBeforeDate = opts.notBefore ?? new Date(Date.now() - 60_000);
  const out = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: opts.notAfter ?? new Date(notBeforeDate.getTime() + 30 * DAY),
    ca: opts.signer,
    extensions: [
      { name: 'basicConstraints', cA: opts.ca ?? false, critical: true },
      ...(opts.eku === false ? [] : [{ name: 'extKeyUsage' as const, clientAuth: true }]),
    ],
  });
  return { cert: out.cert, key: out.private };
}

async function written(name: string, pem: string): Promise<string> {
  const path = join(dir, `${name}.pem`);
  await writeFile(path, pem);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-registered-'));
  pki = await initPki({ dir: join(dir, 'pki'), clients: ['alice'] });
  bob = await selfSigned('bob');
  mallory = await selfSigned('mallory');
  eve = await selfSigned('eve', { signer: bob });
  stale = await selfSigned('stale', {
    notBefore: new Date(Date.now() - 10 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });
  registered = await loadRegisteredClients([
    await written('bob', bob.cert),
    await written('stale', stale.cert),
  ]);
  const layer = new MessageLayer({
    store: openMemoryStore(),
    wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 1)),
    log: silentLog,
  });
  const common = {
    host: '127.0.0.1',
    port: 0,
    cert: await readFile(pki.server.cert),
    key: await readFile(pki.server.key),
    ca: await readFile(pki.ca.cert),
    layer,
    log: silentLog,
    registered,
  };
  server = await startTlsServer(common);
  httpsServer = await startHttpsServer(common);
});

afterAll(async () => {
  await server?.close();
  await httpsServer?.close();
  await rm(dir, { recursive: true, force: true });
});

/** True when a DiscoverVersions request is answered, false when the server closes instead. */
async function served(client: Partial<Pair>, version: 'TLSv1.2' | 'TLSv1.3'): Promise<boolean> {
  const ca = await readFile(pki.ca.cert);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.address.port,
      servername: 'localhost',
      ca,
      ...client,
      minVersion: version,
      maxVersion: version,
    });
    const splitter = new FrameSplitter();
    socket.on('data', (chunk: Buffer) => {
      const [frame] = splitter.push(chunk);
      if (frame === undefined) return;
      const ok = readResponse(frame).batchItems[0]?.resultStatus === ResultStatus.Success;
      socket.destroy();
      resolve(ok);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
    socket.once('secureConnect', () =>
      socket.write(requestBytes('1.2', [{ operation: Operation.DiscoverVersions }])),
    );
  });
}

describe('registered client certificates on the KMIP port', () => {
  it.each(['TLSv1.2', 'TLSv1.3'] as const)(
    'serves a registered self-signed client (%s)',
    async (v) => {
      expect(await served(bob, v)).toBe(true);
    },
  );

  it.each(['TLSv1.2', 'TLSv1.3'] as const)('still serves a CA-signed client (%s)', async (v) => {
    const alice = pki.clients.alice!;
    const pair = {
      cert: await readFile(alice.cert, 'utf8'),
      key: await readFile(alice.key, 'utf8'),
    };
    expect(await served(pair, v)).toBe(true);
  });

  it.each(['TLSv1.2', 'TLSv1.3'] as const)(
    'refuses an unregistered self-signed client (%s)',
    async (v) => {
      expect(await served(mallory, v)).toBe(false);
    },
  );

  it.each(['TLSv1.2', 'TLSv1.3'] as const)(
    'refuses a certificate issued by a registered leaf, chain sent or not (%s)',
    async (v) => {
      expect(await served(eve, v)).toBe(false);
      expect(await served({ cert: `${eve.cert}\n${bob.cert}`, key: eve.key }, v)).toBe(false);
    },
  );

  it('refuses a registered certificate past its notAfter', async () => {
    expect(await served(stale, 'TLSv1.3')).toBe(false);
  });

  it('refuses a client without a certificate', async () => {
    expect(await served({}, 'TLSv1.3')).toBe(false);
  });

  it('names the registered client by its CN', async () => {
    const ca = await readFile(pki.ca.cert);
    const seen = new Promise<Map<string, number>>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: server.address.port,
        servername: 'localhost',
        ca,
        ...bob,
      });
      socket.on('data', () => {
        resolve(server.stats().identities);
        socket.destroy();
      });
      socket.once('secureConnect', () =>
        socket.write(requestBytes('1.2', [{ operation: Operation.DiscoverVersions }])),
      );
    });
    expect((await seen).get('bob')).toBe(1);
  });
});

describe('registered client certificates on the HTTPS port', () => {
  async function status(client: Partial<Pair>): Promise<number | 'refused'> {
    const ca = await readFile(pki.ca.cert);
    return new Promise((resolve) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: httpsServer.address.port,
          servername: 'localhost',
          method: 'POST',
          path: '/kmip',
          headers: { 'content-type': 'application/octet-stream' },
          ca,
          ...client,
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.once('error', () => resolve('refused'));
      req.end(requestBytes('1.2', [{ operation: Operation.DiscoverVersions }]));
    });
  }

  it('serves a registered client and refuses an unregistered one and its leaf-issued kin', async () => {
    expect(await status(bob)).toBe(200);
    expect(await status(mallory)).toBe('refused');
    expect(await status(eve)).toBe('refused');
  });
});

describe('loadRegisteredClients', () => {
  it('pins each certificate of a file by its SHA-256 fingerprint, once', async () => {
    const both = await written('both', [bob.cert, mallory.cert, bob.cert].join('\n'));
    const loaded = await loadRegisteredClients([both]);
    expect(loaded.list.map((r) => r.subject)).toEqual(['CN=bob', 'CN=mallory']);
    const der = Buffer.from(
      bob.cert.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''),
      'base64',
    );
    expect(loaded.byFingerprint(fingerprintOf(der))?.subject).toBe('CN=bob');
  });

  it('refuses a CA certificate: CAs go in --ca', async () => {
    const ca = await written('ca', (await selfSigned('some CA', { ca: true, eku: false })).cert);
    await expect(loadRegisteredClients([ca])).rejects.toThrow(/CA certificate.*--ca/);
  });

  it('refuses a certificate whose extended key usage lacks clientAuth', async () => {
    const out = await generate([{ name: 'commonName', value: 'web' }], {
      keyType: 'ec',
      extensions: [{ name: 'extKeyUsage', serverAuth: true }],
    });
    await expect(loadRegisteredClients([await written('web', out.cert)])).rejects.toThrow(
      /clientAuth/,
    );
  });

  it('refuses a file without a certificate', async () => {
    await expect(loadRegisteredClients([await written('empty', 'nothing here')])).rejects.toThrow(
      /no PEM certificate/,
    );
  });
});
