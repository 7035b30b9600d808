// Shared pieces for the hardening tests: an in-process TLS server with captured logs, mutual-TLS
// sockets for named client identities, and a Discover Versions round trip.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import pino from 'pino';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { initPki } from '../../src/pki/dev-pki.js';
import type { ConnectionLimits } from '../../src/server/connection.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { type RunningServer, startTlsServer } from '../../src/server/tls-server.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import { Operation, ResultStatus } from '../../src/ttlv/spec/generated.js';
import { readResponse, requestBytes } from '../helpers/kmip-test-client.js';

export const DISCOVER = requestBytes('1.4', [{ operation: Operation.DiscoverVersions }]);

export interface Credentials {
  port: number;
  ca: Buffer;
  clients: Record<string, { cert: Buffer; key: Buffer }>;
}

export async function loadClients(
  pkiDir: string,
  names: string[],
): Promise<Omit<Credentials, 'port'>> {
  const clients: Credentials['clients'] = {};
  for (const n of names) {
    clients[n] = {
      cert: await readFile(join(pkiDir, `${n}.crt`)),
      key: await readFile(join(pkiDir, `${n}.key`)),
    };
  }
  return { ca: await readFile(join(pkiDir, 'ca.crt')), clients };
}

export function connectAs(creds: Credentials, name: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: creds.port,
      servername: 'localhost',
      ca: creds.ca,
      ...creds.clients[name],
    });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends Discover Versions and resolves true on a Success answer, false on close or error. */
export function discover(socket: tls.TLSSocket): Promise<boolean> {
  const splitter = new FrameSplitter();
  return new Promise((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      const [frame] = splitter.push(chunk);
      if (frame) resolve(readResponse(frame).batchItems[0]?.resultStatus === ResultStatus.Success);
    });
    socket.once('close', () => resolve(false));
    socket.write(DISCOVER);
  });
}

/** A fresh connection, one Discover Versions round trip, closed. */
export async function serves(creds: Credentials, name = 'alice'): Promise<boolean> {
  const socket = await connectAs(creds, name);
  try {
    return await discover(socket);
  } finally {
    socket.destroy();
  }
}

export function closed(socket: { once(e: 'close', f: () => void): unknown }): Promise<void> {
  return new Promise((r) => socket.once('close', () => r()));
}

export interface InProcessServer extends Credentials {
  server: RunningServer;
  logs: Array<{ msg: string; [k: string]: unknown }>;
  stop(): Promise<void>;
}

/** startTlsServer on loopback with the given limits, a memory store and captured logs. */
export async function inProcessServer(
  clients: string[],
  limits: Partial<ConnectionLimits>,
): Promise<InProcessServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-hardening-'));
  const files = await initPki({ dir, clients });
  const logs: InProcessServer['logs'] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
        done();
      },
    }),
  );
  const layer = new MessageLayer({
    store: openMemoryStore(),
    wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 5)),
    log,
  });
  const server = await startTlsServer({
    host: '127.0.0.1',
    port: 0,
    cert: await readFile(files.server.cert),
    key: await readFile(files.server.key),
    ca: await readFile(files.ca.cert),
    layer,
    log,
    limits,
  });
  return {
    server,
    logs,
    port: server.address.port,
    ...(await loadClients(dir, clients)),
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 20 ms until it is true or `ms` passed; returns its last value. */
export async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
}

/** Resident memory of a process in KiB (VmRSS). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
}
