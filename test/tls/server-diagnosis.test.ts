// The KMIP port explains every failed handshake in its log: each bad client certificate, a
// missing one, no shared protocol or cipher, plain bytes on the TLS port, a certificate
// without a CN. The server runs in-process on loopback; the log is read as JSON lines.

import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { type RunningServer, startTlsServer } from '../../src/server/tls-server.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { explainServerTlsFailure, tlsFailureLogger } from '../../src/tls/diagnose.js';
import { type BadCerts, makeBadCerts, type Pem } from './bad-certs.js';

let dir: string;
let certs: BadCerts;
let server: RunningServer;
const lines: Array<Record<string, unknown>> = [];

const sink = new Writable({
  write(chunk, _enc, done) {
    for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
    done();
  },
});
const log = pino({ level: 'info' }, sink);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-tlsdiag-'));
  certs = await makeBadCerts(dir);
  const layer = new MessageLayer({
    store: openMemoryStore(),
    wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 1)),
    log: pino({ level: 'silent' }),
  });
  server = await startTlsServer({
    host: '127.0.0.1',
    port: 0,
    cert: certs.server.cert,
    key: certs.server.key,
    ca: certs.ca,
    layer,
    log,
    ciphers: 'TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES128-GCM-SHA256',
  });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Connects, waits until the connection is over, returns the log lines it caused. */
async function attempt(options: tls.ConnectionOptions): Promise<Array<Record<string, unknown>>> {
  const before = lines.length;
  await new Promise<void>((resolve) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port: server.address.port,
      servername: 'localhost',
      ca: certs.ca,
      ...options,
    });
    s.on('secureConnect', () => s.write(Buffer.alloc(8)));
    s.on('error', () => {});
    s.on('close', () => resolve());
    setTimeout(() => s.destroy(), 1500).unref();
  });
  await new Promise((r) => setTimeout(r, 50));
  return lines.slice(before);
}

const withCert = (p: Pem) => ({ cert: p.cert, key: p.key });

describe('the server names the cause of a failed handshake', () => {
  const cases: Array<[string, () => tls.ConnectionOptions, string, RegExp]> = [
    ['no client certificate', () => ({}), 'no-client-certificate', /sent no certificate/],
    [
      'a certificate without clientAuth',
      () => withCert(certs.noClientAuth),
      'client-certificate-without-client-auth',
      /lacks clientAuth/,
    ],
    [
      'a certificate from another CA',
      () => withCert(certs.otherCa),
      'client-certificate-unknown-issuer',
      /not signed by a CA in the server's --ca/,
    ],
    [
      'an expired certificate',
      () => withCert(certs.expired),
      'client-certificate-expired',
      /has expired/,
    ],
    [
      'no shared protocol',
      () => ({
        ...withCert(certs.good),
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      }),
      'no-shared-protocol',
      /no TLS version/,
    ],
    [
      'no shared cipher',
      () => ({
        ...withCert(certs.good),
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-RSA-AES256-SHA384',
      }),
      'no-shared-cipher',
      /no cipher suite/,
    ],
    [
      'a certificate without a CN',
      () => withCert(certs.noCn),
      'client-certificate-without-cn',
      /has no CN/,
    ],
  ];
  for (const [name, options, cause, message] of cases) {
    it(name, async () => {
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const opts = options();
        const got = await attempt({ maxVersion: version, ...opts });
        const line = got.find((l) => l.cause !== undefined);
        expect(line, `${name} over ${version}`).toMatchObject({ cause, level: 40 });
        expect(line!.msg).toMatch(message);
        // A client certificate's contents and keys never reach the log.
        expect(JSON.stringify(got)).not.toContain('PRIVATE KEY');
        if (opts.maxVersion !== undefined) break;
      }
    });
  }

  it('plain bytes on the TLS port', async () => {
    const before = lines.length;
    await new Promise<void>((resolve) => {
      const s = netConnect(server.address.port, '127.0.0.1', () => s.write(Buffer.alloc(64, 0x42)));
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.slice(before).find((l) => l.cause)).toMatchObject({ cause: 'not-tls' });
  });

  it('a good certificate is served and logs no failure', async () => {
    const got = await attempt(withCert(certs.good));
    expect(got.filter((l) => l.cause !== undefined)).toEqual([]);
  });
});

describe('explainServerTlsFailure', () => {
  it('prefers the verification result over the socket error', () => {
    expect(explainServerTlsFailure('ECONNRESET', 'CERT_NOT_YET_VALID').cause).toBe(
      'client-certificate-not-yet-valid',
    );
    expect(explainServerTlsFailure('ECONNRESET', null).cause).toBe('handshake-aborted');
    expect(explainServerTlsFailure('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', null).cause).toBe(
      'client-rejected-server-certificate',
    );
  });

  it('logs at most the configured number of failures a minute, then a count', () => {
    const seen: Array<Record<string, unknown>> = [];
    const out = new Writable({
      write(c, _e, d) {
        seen.push(JSON.parse(String(c)));
        d();
      },
    });
    const report = tlsFailureLogger(pino(out), 3);
    const err = Object.assign(new Error('x'), { code: 'ERR_SSL_NO_SHARED_CIPHER' });
    for (let i = 0; i < 10; i++) report(err, {} as tls.TLSSocket);
    expect(seen).toHaveLength(3);
  });
});
