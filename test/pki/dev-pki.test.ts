import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { initPki, issuePkiClient, type PkiFiles } from '../../src/pki/dev-pki.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';

const run = promisify(execFile);
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

let root: string;
let pki: PkiFiles;
const read = (path: string) => readFile(path, 'utf8');
const cert = async (path: string) => new X509Certificate(await readFile(path));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kmipd-pki-'));
  pki = await initPki({ dir: join(root, 'pki'), clients: ['admin', 'alice'] });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('initPki files', () => {
  it('writes every certificate and key, keys 0600 in a 0700 directory', async () => {
    expect((await stat(pki.dir)).mode & 0o777).toBe(0o700);
    const pairs = [pki.ca, pki.server, pki.clients.admin!, pki.clients.alice!];
    expect(pairs.map((p) => p.cert)).toEqual(
      ['ca', 'server', 'admin', 'alice'].map((n) => join(pki.dir, `${n}.crt`)),
    );
    for (const pair of pairs) {
      expect((await stat(pair.key)).mode & 0o777).toBe(0o600);
      expect(await read(pair.cert)).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      const key = createPrivateKey(await read(pair.key));
      expect((await cert(pair.cert)).checkPrivateKey(key)).toBe(true);
    }
  });

  it('refuses to overwrite existing files without force and leaves them unchanged', async () => {
    const before = await read(pki.ca.cert);
    const attempt = initPki({ dir: pki.dir, clients: ['admin'] });
    await expect(attempt).rejects.toBeInstanceOf(KmipError);
    await expect(attempt).rejects.toThrow(/already exist.*force/);
    expect(await read(pki.ca.cert)).toBe(before);
  });

  it('replaces files with force', async () => {
    const dir = join(root, 'forced');
    const first = await initPki({ dir, clients: [] });
    const before = await read(first.ca.cert);
    await writeFile(first.server.key, 'stale');
    await initPki({ dir, clients: [], force: true, keyType: 'ec' });
    expect(await read(first.ca.cert)).not.toBe(before);
    expect(createPrivateKey(await read(first.server.key)).asymmetricKeyType).toBe('ec');
    expect((await stat(first.server.key)).mode & 0o777).toBe(0o600);
  });

  it.each(['../evil', 'ca', 'server', '', 'a/b'])('rejects client name %j', async (name) => {
    await expect(initPki({ dir: join(root, 'names'), clients: [name] })).rejects.toMatchObject({
      reason: ResultReason.InvalidField,
    });
  });
});

describe('initPki certificates', () => {
  it('makes a CA that signed the server and client certificates', async () => {
    const ca = await cert(pki.ca.cert);
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    for (const path of [pki.server.cert, pki.clients.admin!.cert, pki.clients.alice!.cert]) {
      const leaf = await cert(path);
      expect(leaf.ca).toBe(false);
      expect(leaf.issuer).toBe(ca.subject);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    }
  });

  it('gives the server localhost and 127.0.0.1, serverAuth and clientAuth (push to subscribers)', async () => {
    const server = await cert(pki.server.cert);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.keyUsage).toEqual([SERVER_AUTH, CLIENT_AUTH]);
  });

  it('names each client in its CN with clientAuth only', async () => {
    const admin = await cert(pki.clients.admin!.cert);
    expect(admin.subject).toBe('CN=admin');
    expect(admin.keyUsage).toEqual([CLIENT_AUTH]);
    expect((await cert(pki.clients.alice!.cert)).subject).toBe('CN=alice');
  });

  it('signs with SHA-256 and is valid for about ten years', async () => {
    const server = await cert(pki.server.cert);
    const from = new Date(server.validFrom).getTime();
    const to = new Date(server.validTo).getTime();
    expect(from).toBeLessThanOrEqual(Date.now());
    expect((to - from) / 86_400_000 / 365).toBeGreaterThan(9.9);
    const { stdout } = await run('openssl', ['x509', '-in', pki.server.cert, '-noout', '-text']);
    expect(stdout).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
  });

  it('passes openssl verify against the CA', async () => {
    const { stdout } = await run('openssl', [
      'verify',
      '-CAfile',
      pki.ca.cert,
      '-purpose',
      'sslclient',
      pki.clients.admin!.cert,
    ]);
    expect(stdout).toMatch(/: OK/);
    await expect(
      run('openssl', [
        'verify',
        '-CAfile',
        pki.ca.cert,
        '-purpose',
        'sslserver',
        pki.clients.admin!.cert,
      ]),
    ).rejects.toThrow();
  });
});

interface Seen {
  cn: string | undefined;
  protocol: string | null;
}

async function startServer(caPath: string): Promise<{
  port: number;
  accepted: Seen[];
  rejected: Error[];
  close: () => Promise<void>;
}> {
  const accepted: Seen[] = [];
  const rejected: Error[] = [];
  const server = tls.createServer({
    key: await read(pki.server.key),
    cert: await read(pki.server.cert),
    ca: await read(caPath),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('secureConnection', (socket) => {
    const cn = socket.getPeerCertificate().subject?.CN;
    accepted.push({ cn: Array.isArray(cn) ? cn.join('+') : cn, protocol: socket.getProtocol() });
    socket.end('pong');
  });
  server.on('tlsClientError', (err) => rejected.push(err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted,
    rejected,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function nodeClient(port: number, client: { cert: string; key: string }): Promise<string> {
  return Promise.all([read(pki.ca.cert), read(client.cert), read(client.key)]).then(
    ([ca, certPem, key]) =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ca,
          cert: certPem,
          key,
        });
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk) => {
          data += chunk;
        });
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      }),
  );
}

const PYTHON_CLIENT = `
import socket, ssl, sys
port, ca, cert, key, host = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
with socket.create_connection(("127.0.0.1", int(port))) as raw:
    with ctx.wrap_socket(raw, server_hostname=host) as conn:
        print(conn.version(), conn.recv(16).decode())
`;

describe('mutual TLS with the generated files', () => {
  it('node client and server complete a handshake and the server sees the CN', async () => {
    const server = await startServer(pki.ca.cert);
    try {
      expect(await nodeClient(server.port, pki.clients.alice!)).toBe('pong');
      expect(server.accepted).toEqual([{ cn: 'alice', protocol: 'TLSv1.3' }]);
    } finally {
      await server.close();
    }
  });

  it('rejects a client certificate from another CA', async () => {
    const other = await initPki({ dir: join(root, 'other'), clients: ['mallory'] });
    const server = await startServer(pki.ca.cert);
    try {
      // Under TLS 1.3 the client may finish its half before the server's alert arrives, so the
      // client sees either an error or an empty stream; it never sees the application reply.
      const reply = await nodeClient(server.port, other.clients.mallory!).catch(() => 'error');
      expect(reply).not.toBe('pong');
      expect(server.accepted).toEqual([]);
      expect(server.rejected.length).toBe(1);
    } finally {
      await server.close();
    }
  });

  it.each([['localhost'], ['127.0.0.1']])(
    'Python ssl (PROTOCOL_TLS_CLIENT, TLS 1.2) connects as %s and presents its CN',
    async (host) => {
      const server = await startServer(pki.ca.cert);
      try {
        const admin = pki.clients.admin!;
        const { stdout } = await run('/usr/bin/python3', [
          '-c',
          PYTHON_CLIENT,
          String(server.port),
          pki.ca.cert,
          admin.cert,
          admin.key,
          host,
        ]);
        expect(stdout.trim()).toBe('TLSv1.2 pong');
        expect(server.accepted).toEqual([{ cn: 'admin', protocol: 'TLSv1.2' }]);
      } finally {
        await server.close();
      }
    },
  );

  it('Python ssl refuses a server whose name is not in the certificate', async () => {
    const server = await startServer(pki.ca.cert);
    try {
      const admin = pki.clients.admin!;
      const attempt = run('/usr/bin/python3', [
        '-c',
        PYTHON_CLIENT,
        String(server.port),
        pki.ca.cert,
        admin.cert,
        admin.key,
        'kmip.example',
      ]);
      await expect(attempt).rejects.toThrow(/CERTIFICATE_VERIFY_FAILED|match/);
      expect(server.accepted).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('PEM files', () => {
  it('end with a newline, so concatenated certificate and key stay valid PEM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kmipd-pem-'));
    try {
      const files = await initPki({ dir, clients: ['app'] });
      const cert = await readFile(files.clients.app!.cert, 'utf8');
      const key = await readFile(files.clients.app!.key, 'utf8');
      expect(cert.endsWith('\n')).toBe(true);
      const joined = cert + key;
      expect(() => new X509Certificate(joined)).not.toThrow();
      expect(() => createPrivateKey(joined)).not.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('issuePkiClient (Server On-Demand)', () => {
  it('adds a clientAuth client signed by the existing CA, of the CA key type, leaving the rest', async () => {
    const dir = join(root, 'on-demand');
    const first = await initPki({ dir, clients: ['admin'], keyType: 'ec', validityDays: 30 });
    const before = await Promise.all([first.ca.cert, first.ca.key, first.server.cert].map(read));
    const pair = await issuePkiClient({ dir, name: 'dave' });
    expect(await Promise.all([first.ca.cert, first.ca.key, first.server.cert].map(read))).toEqual(
      before,
    );
    const ca = await cert(first.ca.cert);
    const leaf = await cert(pair.cert);
    expect(leaf.subject).toBe('CN=dave');
    expect(leaf.keyUsage).toEqual([CLIENT_AUTH]);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    // Asked for the default ten years, capped at the CA's 30 days.
    expect(new Date(leaf.validTo).getTime()).toBeLessThanOrEqual(new Date(ca.validTo).getTime());
    expect(createPrivateKey(await read(pair.key)).asymmetricKeyType).toBe('ec');
    expect((await stat(pair.key)).mode & 0o777).toBe(0o600);
  });

  it('refuses a directory without a CA key, and a reserved name', async () => {
    await expect(issuePkiClient({ dir: join(root, 'nowhere'), name: 'x' })).rejects.toThrow();
    await expect(issuePkiClient({ dir: pki.dir, name: 'server' })).rejects.toMatchObject({
      reason: ResultReason.InvalidField,
    });
  });
});
