// Captures real KMIP traffic between the PyKMIP 0.10 client and pykmip-server, for
// fixtures/pykmip/<version>/<nn>-<operation>-{request,response}.phex.
//
//   npx tsx scripts/capture-pykmip.ts
//
// It makes a throwaway PKI in a temporary directory, starts pykmip-server on a loopback port,
// puts a Node TLS proxy in front of it (terminating the client's TLS and opening TLS to the
// server) that records every complete TTLV frame in both directions, and runs
// scripts/pykmip-client-script.py for KMIP 1.0 to 2.0. Every process it starts is stopped by
// its PID. The frames are split and named by a small reader written here, not by src/ttlv, so
// the fixtures do not depend on the codec they test.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { toPrettyHex } from '../test/helpers/pretty-hex.js';
import { writePyKmipConfig } from '../test/helpers/pykmip-server.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'npx tsx scripts/capture-pykmip.ts\n\nStarts pykmip-server behind a recording TLS proxy, ' +
      'drives it with the PyKMIP client at KMIP 1.0-2.0, and rewrites fixtures/pykmip/ from ' +
      'the captured frames.',
  );
  process.exit(0);
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'fixtures', 'pykmip');
const PYTHON = '/usr/bin/python3';
const SERVER = '/usr/bin/pykmip-server';
const HOST = '127.0.0.1';
const VERSIONS = ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0'];

// Only what naming a fixture needs (KMIP 1.4 §9.1.3.1 tags, §9.1.3.2.27 Operation,
// §9.1.3.2.12 Object Type, §9.1.3.2.29/30 Result Status and Reason).
const TAG = {
  protocolVersionMajor: 0x42006a,
  protocolVersionMinor: 0x42006b,
  operation: 0x42005c,
  objectType: 0x420057,
  resultStatus: 0x42007f,
  resultReason: 0x42007e,
  resultMessage: 0x42007d,
};
const OPERATIONS: Record<number, string> = {
  1: 'create',
  2: 'create-key-pair',
  3: 'register',
  8: 'locate',
  10: 'get',
  11: 'get-attributes',
  12: 'get-attribute-list',
  18: 'activate',
  19: 'revoke',
  20: 'destroy',
  24: 'query',
  30: 'discover-versions',
};
const OBJECT_TYPES: Record<number, string> = {
  1: 'certificate',
  2: 'symmetric-key',
  3: 'public-key',
  4: 'private-key',
  7: 'secret-data',
};
const RESULT_STATUS: Record<number, string> = {
  0: 'Success',
  1: 'Operation Failed',
  2: 'Operation Pending',
  3: 'Operation Undone',
};

interface Frame {
  conn: number;
  dir: 'request' | 'response';
  bytes: Buffer;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'kmipd-capture-'));
  const started: { pid: number; name: string }[] = [];
  const frames: Frame[] = [];
  let proxy: tls.Server | undefined;
  try {
    const pki = makePki(tmp);
    const serverPort = await freePort();
    const server = startServer(tmp, pki, serverPort);
    started.push({ pid: server.pid!, name: 'pykmip-server' });
    await waitForPort(serverPort, 30_000);

    proxy = startProxy(pki, serverPort, frames);
    await new Promise<void>((resolve) => proxy!.listen(0, HOST, resolve));
    const proxyPort = (proxy.address() as net.AddressInfo).port;

    const client = spawn(
      PYTHON,
      [
        path.join(ROOT, 'scripts', 'pykmip-client-script.py'),
        HOST,
        String(proxyPort),
        pki.clientCert,
        pki.clientKey,
        pki.caCert,
        pki.clientDer,
        ...VERSIONS,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    started.push({ pid: client.pid!, name: 'pykmip client' });
    const code = await new Promise<number | null>((resolve) => client.on('exit', resolve));
    started.pop();
    if (code !== 0) throw new Error(`the PyKMIP client script exited with ${code}`);
    // Let the proxy flush the last responses.
    await new Promise((r) => setTimeout(r, 500));
    writeFixtures(frames);
  } finally {
    proxy?.close();
    for (const { pid, name } of started) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already exited
      }
      console.log(`stopped ${name} (pid ${pid})`);
    }
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface Pki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  clientDer: string;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate with the clientAuth EKU. */
function makePki(dir: string): Pki {
  const p = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-subj',
    '/CN=kmipd capture CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = (name: string, cn: string, ext: string) => {
    writeFileSync(p(`${name}.ext`), ext);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.crt'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      p(`${name}.crt`),
      '-extfile',
      p(`${name}.ext`),
    );
  };
  leaf(
    'server',
    HOST,
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n',
  );
  leaf(
    'client',
    'kmipd-capture-client',
    'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n',
  );
  openssl('x509', '-in', p('client.crt'), '-outform', 'DER', '-out', p('client.der'));
  return {
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    clientDer: p('client.der'),
  };
}

function startServer(dir: string, pki: Pki, port: number) {
  const config = writePyKmipConfig({
    dir,
    host: HOST,
    port,
    cert: pki.serverCert,
    key: pki.serverKey,
    ca: pki.caCert,
    database: path.join(dir, 'pykmip.db'),
  });
  return spawn(SERVER, ['-f', config, '-l', path.join(dir, 'server.log')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** A TLS proxy that forwards bytes unchanged and records each complete TTLV frame. */
function startProxy(pki: Pki, serverPort: number, frames: Frame[]): tls.Server {
  let nextConn = 0;
  const read = (f: string) => readFileSync(f);
  return tls.createServer(
    {
      key: read(pki.serverKey),
      cert: read(pki.serverCert),
      ca: read(pki.caCert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (downstream) => {
      const conn = nextConn++;
      const upstream = tls.connect({
        host: HOST,
        port: serverPort,
        key: read(pki.clientKey),
        cert: read(pki.clientCert),
        ca: read(pki.caCert),
        maxVersion: 'TLSv1.2',
      });
      const requests = frameRecorder((bytes) => frames.push({ conn, dir: 'request', bytes }));
      const responses = frameRecorder((bytes) => frames.push({ conn, dir: 'response', bytes }));
      downstream.on('data', (chunk: Buffer) => {
        requests(chunk);
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        responses(chunk);
        downstream.write(chunk);
      });
      downstream.on('end', () => upstream.end());
      upstream.on('end', () => downstream.end());
      downstream.on('error', (e) => console.error(`proxy client side: ${e.message}`));
      upstream.on('error', (e) => {
        console.error(`proxy server side: ${e.message}`);
        downstream.destroy();
      });
    },
  );
}

/** Reassembles a byte stream into whole frames: 8-byte header, then the declared length. */
function frameRecorder(emit: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const length = pending.readUInt32BE(4);
      const size = 8 + (pending[3] === 0x01 ? length : (length + 7) & ~7);
      if (pending.length < size) break;
      emit(Buffer.from(pending.subarray(0, size)));
      pending = pending.subarray(size);
    }
  };
}

interface Primitive {
  tag: number;
  type: number;
  value: Buffer;
}

/** Every primitive in a frame, depth first; enough to name a fixture. */
function primitives(buf: Buffer, from = 0, to = buf.length, out: Primitive[] = []): Primitive[] {
  let pos = from;
  while (to - pos >= 8) {
    const tag = buf.readUIntBE(pos, 3);
    const type = buf[pos + 3]!;
    const length = buf.readUInt32BE(pos + 4);
    const start = pos + 8;
    if (type === 0x01) {
      primitives(buf, start, Math.min(start + length, to), out);
      pos = start + length;
    } else {
      out.push({ tag, type, value: buf.subarray(start, start + length) });
      pos = start + ((length + 7) & ~7);
    }
  }
  return out;
}

const first = (items: Primitive[], tag: number) => items.find((p) => p.tag === tag);
const u32 = (p: Primitive | undefined) => (p && p.value.length >= 4 ? p.value.readUInt32BE(0) : -1);

function writeFixtures(frames: Frame[]): void {
  rmSync(OUT, { recursive: true, force: true });
  const counters = new Map<string, number>();
  const conns = [...new Set(frames.map((f) => f.conn))].sort((a, b) => a - b);
  const summary: string[] = [];
  for (const conn of conns) {
    const reqs = frames.filter((f) => f.conn === conn && f.dir === 'request');
    const resps = frames.filter((f) => f.conn === conn && f.dir === 'response');
    for (const [i, req] of reqs.entries()) {
      const items = primitives(req.bytes);
      const version = `${u32(first(items, TAG.protocolVersionMajor))}.${u32(first(items, TAG.protocolVersionMinor))}`;
      const op = OPERATIONS[u32(first(items, TAG.operation))] ?? 'unknown';
      const objectType =
        op === 'register' ? OBJECT_TYPES[u32(first(items, TAG.objectType))] : undefined;
      const name = objectType ? `${op}-${objectType}` : op;
      const n = (counters.get(version) ?? 0) + 1;
      counters.set(version, n);
      const base = `${String(n).padStart(2, '0')}-${name}`;
      const dir = path.join(OUT, version);
      mkdirSync(dir, { recursive: true });
      const source = `captured from PyKMIP 0.10 client/server, KMIP ${version}`;
      const how = 'by scripts/capture-pykmip.ts (real client bytes; not produced by kmipd)';
      writeFileSync(
        path.join(dir, `${base}-request.phex`),
        toPrettyHex(req.bytes, [source, how, `request ${n}: ${name}`]),
      );
      const resp = resps[i];
      if (resp === undefined) {
        summary.push(`${version} ${base}: no response`);
        continue;
      }
      const r = primitives(resp.bytes);
      const status = RESULT_STATUS[u32(first(r, TAG.resultStatus))] ?? 'unknown';
      const reason = first(r, TAG.resultReason);
      const message = first(r, TAG.resultMessage)?.value.toString('utf8');
      const result =
        status === 'Success'
          ? status
          : `${status}, reason ${u32(reason)}${message ? `: ${message}` : ''}`;
      writeFileSync(
        path.join(dir, `${base}-response.phex`),
        toPrettyHex(resp.bytes, [source, how, `response ${n}: ${name}: ${result}`]),
      );
      summary.push(`${version} ${base}: ${result}`);
    }
  }
  console.log(summary.join('\n'));
  for (const [version, n] of counters) console.log(`KMIP ${version}: ${n} request/response pairs`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, HOST, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, HOST, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`pykmip-server did not listen on port ${port} within ${timeoutMs} ms`);
}

await main();
