// The KMIP port over real TLS on loopback: mutual authentication, identity from the CN,
// protocol versions, and graceful close.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { initPki } from '../../src/pki/dev-pki.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { type RunningServer, startTlsServer } from '../../src/server/tls-server.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import { Operation, ResultStatus } from '../../src/ttlv/spec/generated.js';
import { readResponse, requestBytes, silentLog } from '../helpers/kmip-test-client.js';

let dir: string;
let server: RunningServer;
let files: Awaited<ReturnType<typeof initPki>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-tls-'));
  files = await initPki({ dir, clients: ['alice'] });
  const layer = new MessageLayer({
    store: openMemoryStore(),
    wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 1)),
    log: silentLog,
  });
  server = await startTlsServer({
    host: '127.0.0.1',
    port: 0,
    cert: await readFile(files.server.cert),
    key: await readFile(files.server.key),
    ca: await readFile(files.ca.cert),
    layer,
    log: silentLog,
  });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function connect(opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.address.port,
      servername: 'localhost',
      ca: opts.ca,
      ...opts,
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function roundTrip(socket: tls.TLSSocket, request: Buffer): Promise<Buffer> {
  const splitter = new FrameSplitter();
  return new Promise((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      const [frame] = splitter.push(chunk);
      if (frame) resolve(frame);
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before a response')));
    socket.write(request);
  });
}

describe('TLS server', () => {
  it('serves a client with a certificate from the CA, over TLS 1.2 and 1.3', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const socket = await connect({
        ca: await readFile(files.ca.cert),
        cert: await readFile(files.clients.alice!.cert),
        key: await readFile(files.clients.alice!.key),
        minVersion: version,
        maxVersion: version,
      });
      expect(socket.getProtocol()).toBe(version);
      const response = readResponse(
        await roundTrip(socket, requestBytes('1.2', [{ operation: Operation.DiscoverVersions }])),
      );
      expect(response.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
      socket.destroy();
    }
  });

  it('refuses a client without a certificate', async () => {
    const attempt = (async () => {
      const socket = await connect({ ca: await readFile(files.ca.cert) });
      await roundTrip(socket, requestBytes('1.2', [{ operation: Operation.DiscoverVersions }]));
    })();
    await expect(attempt).rejects.toThrow();
  });
});
