// `kmipd doctor`: each thing that can be wrong with a client's files or the server gives its
// own finding; a good setup reports the protocol, cipher and Discover Versions result. The
// kmipd TLS listener runs in-process; a few plain TLS servers stand in for misconfigured
// servers (no client certificates asked, TLS 1.2 only, other ciphers).

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { handleConnection } from '../../src/server/connection.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { type RunningServer, startTlsServer } from '../../src/server/tls-server.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { type DoctorOptions, type DoctorProblem, runDoctor } from '../../src/tls/diagnose.js';
import { KMIPD_BIN } from '../helpers/kmipd-process.js';
import { type BadCerts, makeBadCerts } from './bad-certs.js';

const silent = pino({ level: 'silent' });
let dir: string;
let certs: BadCerts;
let kmipd: RunningServer;
const layer = new MessageLayer({
  store: openMemoryStore(),
  wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 1)),
  log: silent,
});
const others: tls.Server[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-doctor-'));
  certs = await makeBadCerts(dir);
  kmipd = await startTlsServer({
    host: '127.0.0.1',
    port: 0,
    cert: certs.server.cert,
    key: certs.server.key,
    ca: certs.ca,
    layer,
    log: silent,
  });
});

afterAll(async () => {
  await kmipd?.close();
  for (const s of others) s.close();
  await rm(dir, { recursive: true, force: true });
});

/** A KMIP server on plain Node TLS options (the message layer behind it). */
async function plainServer(options: tls.TlsOptions): Promise<number> {
  const server = tls.createServer(
    { cert: certs.server.cert, key: certs.server.key, ...options },
    (socket) => {
      socket.on('error', () => {});
      handleConnection(socket, { identity: 'anyone' }, layer, silent);
    },
  );
  server.on('tlsClientError', () => {});
  others.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

function doctor(over: Partial<DoctorOptions> = {}) {
  return runDoctor({
    host: '127.0.0.1',
    port: kmipd.address.port,
    cert: certs.good.cert,
    key: certs.good.key,
    ca: certs.ca,
    timeoutMs: 5_000,
    ...over,
  });
}

function problems(report: Awaited<ReturnType<typeof runDoctor>>): DoctorProblem[] {
  return report.findings.filter((f) => f.level === 'fail').map((f) => f.problem!);
}

describe('kmipd doctor', () => {
  it('a good setup: protocol, cipher and the versions the server speaks', async () => {
    const r = await doctor();
    expect(problems(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.protocol).toBe('TLSv1.3');
    expect(r.cipher).toMatch(/^TLS_/);
    expect(r.versions).toEqual(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
  });

  const cases: Array<
    [
      string,
      () => Partial<DoctorOptions> | Promise<Partial<DoctorOptions>>,
      DoctorProblem[],
      RegExp,
    ]
  > = [
    [
      'server certificate not trusted by --ca',
      () => ({ ca: certs.otherCaCert }),
      ['server-certificate-untrusted'],
      /not trusted by --ca/,
    ],
    [
      'name mismatch',
      () => ({ servername: 'kmip.example' }),
      ['server-name-mismatch'],
      /not valid for kmip\.example/,
    ],
    [
      'name mismatch for 127.0.0.1',
      async () => ({
        port: await plainServer({ cert: certs.wrongName.cert, key: certs.wrongName.key }),
      }),
      ['server-name-mismatch', 'server-did-not-ask-for-client-certificate'],
      /not valid for 127\.0\.0\.1/,
    ],
    [
      'client certificate without clientAuth',
      () => ({ cert: certs.noClientAuth.cert, key: certs.noClientAuth.key }),
      ['client-certificate-without-client-auth', 'server-refused-client-certificate'],
      /lacks the clientAuth/,
    ],
    [
      'client key that does not match',
      () => ({ key: certs.expired.key }),
      ['client-key-mismatch'],
      /not the private key/,
    ],
    [
      'expired client certificate',
      () => ({ cert: certs.expired.cert, key: certs.expired.key }),
      ['client-certificate-expired', 'server-refused-client-certificate'],
      /expired on/,
    ],
    [
      'client certificate without a CN',
      () => ({ cert: certs.noCn.cert, key: certs.noCn.key }),
      ['client-certificate-without-cn', 'server-refused-client-certificate'],
      /has no CN/,
    ],
    [
      'server refused our certificate (another CA)',
      () => ({ cert: certs.otherCa.cert, key: certs.otherCa.key }),
      ['server-refused-client-certificate'],
      /server refused our client certificate.*not signed by a CA in --ca/,
    ],
    [
      'protocol mismatch',
      async () => ({ port: await plainServer({ maxVersion: 'TLSv1.2' }), minVersion: 'TLSv1.3' }),
      ['protocol-mismatch'],
      /no TLS version/,
    ],
    [
      'cipher mismatch',
      async () => ({
        port: await plainServer({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
        ciphers: 'ECDHE-RSA-AES256-SHA384',
      }),
      ['cipher-mismatch'],
      /no cipher suite/,
    ],
    [
      'server did not ask for a client certificate',
      async () => ({ port: await plainServer({}) }),
      ['server-did-not-ask-for-client-certificate'],
      /does not ask for/,
    ],
  ];
  for (const [name, over, expected, message] of cases) {
    it(name, async () => {
      const r = await doctor(await over());
      expect(problems(r)).toEqual(expected);
      expect(r.ok).toBe(false);
      expect(r.findings.map((f) => f.message).join('\n')).toMatch(message);
    });
  }

  it('the CLI prints the findings and exits 1 on a problem, 0 when all is well', async () => {
    const files = (name: string, pem: { cert: Buffer; key: Buffer }) => {
      writeFileSync(join(dir, `${name}-c.pem`), pem.cert);
      writeFileSync(join(dir, `${name}-k.pem`), pem.key);
      return ['--cert', join(dir, `${name}-c.pem`), '--key', join(dir, `${name}-k.pem`)];
    };
    // Asynchronous: the server under test runs in this process.
    const run = (args: string[]) =>
      new Promise<{ status: number; stdout: string }>((resolve) => {
        const argv = [
          KMIPD_BIN,
          'doctor',
          '--server',
          `127.0.0.1:${kmipd.address.port}`,
          '--ca',
          certs.pki.ca.cert,
          ...args,
        ];
        execFile(process.execPath, argv, (err, stdout) => {
          resolve({ status: err === null ? 0 : Number(err.code), stdout });
        });
      });
    const good = await run(files('good', certs.good));
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/usable \(TLSv1\.3, TLS_\w+; KMIP 2\.1, 2\.0/);
    const bad = await run([...files('noeku', certs.noClientAuth), '--tls-min-version', 'TLSv1.3']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL +the client certificate lacks the clientAuth/m);
    expect(bad.stdout).not.toContain('PRIVATE KEY');
  });
});
