// Certificate rotation without a restart: `kmipd serve` reads its TLS files again on SIGHUP.
// New connections get the new server certificate and CA; a connection opened before keeps
// working; files that do not fit together change nothing and are reported.

import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPki, type PkiFiles } from '../../src/pki/dev-pki.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import { Operation, ResultStatus } from '../../src/ttlv/spec/generated.js';
import { readResponse, requestBytes } from '../helpers/kmip-test-client.js';
import { type KmipdProcess, type LogLine, startKmipdProcess } from '../helpers/kmipd-process.js';

let server: KmipdProcess;
let next: PkiFiles;
let nextDir: string;

beforeAll(async () => {
  server = await startKmipdProcess({ clients: ['alice'] });
  nextDir = await mkdtemp(join(tmpdir(), 'kmipd-next-pki-'));
  next = await initPki({ dir: nextDir, clients: ['alice'] });
  oldCa = join(nextDir, 'old-ca.crt');
  await copyFile(server.ca, oldCa);
});

afterAll(async () => {
  await server?.stop();
  await rm(nextDir, { recursive: true, force: true });
});

interface Credentials {
  ca: string;
  cert: string;
  key: string;
}

/** The first PKI, its CA kept apart before the server's copy is overwritten. */
let oldCa: string;
const oldCredentials = (): Credentials => ({ ca: oldCa, ...server.client('alice') });
const newCredentials = (): Credentials => ({ ca: next.ca.cert, ...next.clients.alice! });

async function connect(c: Credentials): Promise<tls.TLSSocket> {
  const [ca, cert, key] = await Promise.all([readFile(c.ca), readFile(c.cert), readFile(c.key)]);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.port,
      servername: 'localhost',
      ca,
      cert,
      key,
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function discover(socket: tls.TLSSocket): Promise<number | undefined> {
  const splitter = new FrameSplitter();
  const frame = await new Promise<Buffer>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const [f] = splitter.push(chunk);
      if (f) {
        socket.off('data', onData);
        resolve(f);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before a response')));
    socket.write(requestBytes('1.2', [{ operation: Operation.DiscoverVersions }]));
  });
  return readResponse(frame).batchItems[0]?.resultStatus;
}

async function fingerprintOf(file: string): Promise<string> {
  return new (await import('node:crypto')).X509Certificate(await readFile(file)).fingerprint256;
}

/** Sends SIGHUP and waits for the log line that reports the outcome. */
async function hangUp(): Promise<LogLine> {
  const seen = server.logs().length;
  process.kill(server.pid, 'SIGHUP');
  for (let i = 0; i < 100; i++) {
    const line = server
      .logs()
      .slice(seen)
      .find((l) => /^TLS (files reloaded|reload failed)/.test(l.msg));
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no reload log line within 5 s');
}

describe('kmipd serve: SIGHUP reloads the TLS files', () => {
  it('new connections get the new certificate and CA; an open connection keeps working', async () => {
    const open = await connect(oldCredentials());
    expect(await discover(open)).toBe(ResultStatus.Success);
    const oldPrint = open.getPeerX509Certificate()!.fingerprint256;

    for (const [from, to] of [
      [next.server.cert, join(server.pkiDir, 'server.crt')],
      [next.server.key, join(server.pkiDir, 'server.key')],
      [next.ca.cert, server.ca],
    ] as const) {
      await copyFile(from, to);
    }
    const line = await hangUp();
    expect(line.msg).toMatch(/^TLS files reloaded/);
    expect(line.fingerprint).toBe(await fingerprintOf(next.server.cert));

    const fresh = await connect(newCredentials());
    expect(fresh.getPeerX509Certificate()!.fingerprint256).not.toBe(oldPrint);
    expect(await discover(fresh)).toBe(ResultStatus.Success);
    fresh.destroy();
    // The old CA signed neither the server's new certificate nor the clients the server trusts.
    await expect(connect(oldCredentials()).then(discover)).rejects.toThrow();
    expect(await discover(open)).toBe(ResultStatus.Success);
    open.destroy();
  });

  it('a key that does not fit the certificate changes nothing and is logged as an error', async () => {
    const serving = await fingerprintOf(join(server.pkiDir, 'server.crt'));
    const stray = await mkdtemp(join(tmpdir(), 'kmipd-stray-pki-'));
    try {
      const other = await initPki({ dir: stray, clients: [] });
      await copyFile(other.server.key, join(server.pkiDir, 'server.key'));
      const line = await hangUp();
      expect(line.msg).toMatch(/^TLS reload failed/);
      expect(line.level).toBe(50);
      expect(JSON.stringify(line)).not.toContain('PRIVATE KEY');
    } finally {
      await rm(stray, { recursive: true, force: true });
    }
    const socket = await connect(newCredentials());
    expect(socket.getPeerX509Certificate()!.fingerprint256).toBe(serving);
    expect(await discover(socket)).toBe(ResultStatus.Success);
    socket.destroy();
  });
});
