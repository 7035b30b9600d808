// The HTTPS port over real TLS on loopback (KMIP Profiles 2.1 §5.3 HTTPS, §5.4 XML, §5.5 JSON):
// each content type, the HTTP error statuses, identity from the client certificate,
// keep-alive, the body cap and the header and request deadlines.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { initPki } from '../../src/pki/dev-pki.js';
import { type HttpsLimits, startHttpsServer } from '../../src/server/https-server.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import type { RunningServer } from '../../src/server/tls-server.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import { jsonTextToTtlv, ttlvToJson } from '../../src/ttlv/json.js';
import { ttlvToXml, xmlToTtlv } from '../../src/ttlv/xml.js';
import { silentLog } from '../helpers/kmip-test-client.js';

interface Pem {
  cert: Buffer;
  key: Buffer;
}

let dir: string;
let ca: Buffer;
let alice: Pem;
let bob: Pem;
let stranger: Pem;
let server: RunningServer;
const logLines: Array<Record<string, unknown>> = [];

async function pem(files: { cert: string; key: string }): Promise<Pem> {
  return { cert: await readFile(files.cert), key: await readFile(files.key) };
}

async function startServer(limits?: Partial<HttpsLimits>): Promise<RunningServer> {
  const files = { cert: join(dir, 'pki', 'server.crt'), key: join(dir, 'pki', 'server.key') };
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    }),
  );
  return startHttpsServer({
    host: '127.0.0.1',
    port: 0,
    ...(await pem(files)),
    ca,
    layer: new MessageLayer({
      store: openMemoryStore(),
      wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 3)),
      log,
    }),
    log: limits === undefined ? log : silentLog,
    limits,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-https-'));
  const files = await initPki({ dir: join(dir, 'pki'), clients: ['alice', 'bob'] });
  // A client whose certificate another CA signed.
  const other = await initPki({ dir: join(dir, 'other'), clients: ['alice'] });
  ca = await readFile(files.ca.cert);
  alice = await pem(files.clients.alice!);
  bob = await pem(files.clients.bob!);
  stranger = await pem(other.clients.alice!);
  server = await startServer();
});

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  reusedSocket: boolean;
}

interface PostOptions {
  client?: Pem | undefined;
  agent?: https.Agent;
  method?: string;
  path?: string;
  contentType?: string | undefined;
  headers?: Record<string, string | number>;
  port?: number;
}

function post(body: Buffer | string, o: PostOptions = {}): Promise<Reply> {
  const client = 'client' in o ? o.client : alice;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: o.port ?? server.address.port,
        method: o.method ?? 'POST',
        path: o.path ?? '/kmip',
        ca,
        ...(client ?? {}),
        agent: o.agent ?? false,
        headers: {
          ...(o.contentType === undefined ? {} : { 'Content-Type': o.contentType }),
          ...o.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            reusedSocket: req.reusedSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const HEADER = `
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="2"/>
      <ProtocolVersionMinor type="Integer" value="1"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>`;

const CREATE_XML = `<RequestMessage>${HEADER}
  <BatchItem>
    <Operation type="Enumeration" value="Create"/>
    <RequestPayload>
      <ObjectType type="Enumeration" value="SymmetricKey"/>
      <Attributes>
        <CryptographicAlgorithm type="Enumeration" value="AES"/>
        <CryptographicLength type="Integer" value="256"/>
        <CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>
      </Attributes>
    </RequestPayload>
  </BatchItem>
</RequestMessage>`;

const getXml = (uid: string) => `<RequestMessage>${HEADER}
  <BatchItem>
    <Operation type="Enumeration" value="Get"/>
    <RequestPayload>
      <UniqueIdentifier type="TextString" value="${uid}"/>
    </RequestPayload>
  </BatchItem>
</RequestMessage>`;

const queryXml = (maximumResponseSize?: number) => `<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="4"/>
    </ProtocolVersion>
    ${maximumResponseSize === undefined ? '' : `<MaximumResponseSize type="Integer" value="${maximumResponseSize}"/>`}
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Query"/>
    <RequestPayload>
      <QueryFunction type="Enumeration" value="QueryOperations"/>
      <QueryFunction type="Enumeration" value="QueryObjects"/>
    </RequestPayload>
  </BatchItem>
</RequestMessage>`;

type Encoding = 'ttlv' | 'xml' | 'json';
const CONTENT_TYPE: Record<Encoding, string> = {
  ttlv: 'application/octet-stream',
  xml: 'text/xml',
  json: 'application/json',
};

function encode(xml: string, encoding: Encoding): Buffer {
  const tree = xmlToTtlv(xml);
  if (encoding === 'ttlv') return encodeTtlv(tree);
  if (encoding === 'xml') return Buffer.from(ttlvToXml(tree));
  return Buffer.from(JSON.stringify(ttlvToJson(tree)));
}

function decode(body: Buffer, encoding: Encoding): TtlvItem {
  if (encoding === 'ttlv') return decodeTtlv(body);
  if (encoding === 'xml') return xmlToTtlv(body.toString('utf8'));
  return jsonTextToTtlv(body.toString('utf8'));
}

/** Sends a request written as XML in `encoding` and reads the response in the same encoding. */
async function kmip(xml: string, encoding: Encoding, o: PostOptions = {}) {
  const reply = await post(encode(xml, encoding), { contentType: CONTENT_TYPE[encoding], ...o });
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toBe(o.contentType ?? CONTENT_TYPE[encoding]);
  expect(reply.headers['cache-control']).toBe('no-cache');
  return { reply, tree: decode(reply.body, encoding) };
}

/** The primitive values under `tree` by tag name, in document order. */
function values(tree: TtlvItem, name: string): unknown[] {
  const found: unknown[] = [];
  const walk = (xml: string) => {
    for (const m of xml.matchAll(new RegExp(`<${name} type="\\w+" value="([^"]*)"`, 'g'))) {
      found.push(m[1]);
    }
  };
  walk(ttlvToXml(tree));
  return found;
}

describe('HTTPS port: message encodings (Profiles §5.3-§5.5)', () => {
  for (const encoding of ['ttlv', 'xml', 'json'] as const) {
    it(`answers ${CONTENT_TYPE[encoding]} in the same encoding`, async () => {
      const created = await kmip(CREATE_XML, encoding);
      expect(values(created.tree, 'ResultStatus')).toEqual(['Success']);
      const [uid] = values(created.tree, 'UniqueIdentifier') as string[];
      expect(uid).toBeTruthy();
      const got = await kmip(getXml(uid!), encoding);
      expect(values(got.tree, 'ResultStatus')).toEqual(['Success']);
      expect(values(got.tree, 'CryptographicLength')).toEqual(['256']);
    });
  }

  it('takes application/xml and a charset parameter, and echoes the request media type', async () => {
    const xml = await kmip(queryXml(), 'xml', { contentType: 'application/xml' });
    expect(values(xml.tree, 'ResultStatus')).toEqual(['Success']);
    const json = await kmip(queryXml(), 'json', {
      contentType: 'application/json',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(values(json.tree, 'ResultStatus')).toEqual(['Success']);
  });

  it('applies Maximum Response Size to the TTLV length, not the XML or JSON length (§5.4)', async () => {
    for (const encoding of ['xml', 'json'] as const) {
      const small = await kmip(queryXml(256), encoding);
      expect(values(small.tree, 'ResultReason')).toEqual(['ResponseTooLarge']);
      // The Query response is about 600 bytes of TTLV and several times that as XML or JSON.
      const large = await kmip(queryXml(2048), encoding);
      expect(values(large.tree, 'ResultStatus')).toEqual(['Success']);
      expect(large.reply.body.length).toBeGreaterThan(2048);
    }
  });
});

describe('HTTPS port: identity from the client certificate', () => {
  it('runs requests as the certificate CN; another identity cannot see the object', async () => {
    const created = await kmip(CREATE_XML, 'json');
    const [uid] = values(created.tree, 'UniqueIdentifier') as string[];
    const audit = logLines.find((l) => l.audit === true && l.uid === uid);
    expect(audit?.identity).toBe('alice');

    const asBob = await kmip(getXml(uid!), 'xml', { client: bob });
    expect(values(asBob.tree, 'ResultReason')).toEqual(['ObjectNotFound']); // KMIP 2.1's name for Item Not Found
    const asAlice = await kmip(getXml(uid!), 'xml');
    expect(values(asAlice.tree, 'ResultStatus')).toEqual(['Success']);
  });

  it('refuses a client without a certificate, or with one from another CA, in the handshake', async () => {
    await expect(post(encode(queryXml(), 'ttlv'), { client: undefined })).rejects.toThrow();
    await expect(post(encode(queryXml(), 'ttlv'), { client: stranger })).rejects.toThrow();
  });
});

describe('HTTPS port: HTTP errors', () => {
  it('405 for a method other than POST, naming POST in Allow', async () => {
    const r = await post('', { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
  });

  it('404 for a path other than /kmip', async () => {
    const r = await post(encode(queryXml(), 'ttlv'), {
      path: '/other',
      contentType: 'application/octet-stream',
    });
    expect(r.status).toBe(404);
  });

  it('415 for a content type that is not TTLV, XML or JSON, or none', async () => {
    expect((await post('hello', { contentType: 'text/plain' })).status).toBe(415);
    expect((await post(encode(queryXml(), 'ttlv'))).status).toBe(415);
  });

  it('413 for a declared body over the cap, answered before any body byte is sent', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1',
        port: server.address.port,
        method: 'POST',
        path: '/kmip',
        ca,
        ...alice,
        agent: false,
        headers: { 'Content-Type': 'text/xml', 'Content-Length': 2 * 1024 * 1024 },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(r).toBe(413);
  });

  it('413 for a chunked body that grows past the cap, and the connection is closed', async () => {
    const r = await post(Buffer.alloc(1024 * 1024 + 1, 0x20), {
      contentType: 'application/json',
      headers: { 'Transfer-Encoding': 'chunked' },
    });
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
  });

  it('a KMIP Invalid Message response, HTTP 200, for malformed XML, JSON or TTLV', async () => {
    const xml = await post('<RequestMessage><Oops', { contentType: 'text/xml' });
    expect(xml.status).toBe(200);
    expect(xml.headers['content-type']).toBe('text/xml');
    expect(values(decode(xml.body, 'xml'), 'ResultReason')).toEqual(['InvalidMessage']);

    const json = await post('{"tag": "RequestMessage", "value": [', {
      contentType: 'application/json',
    });
    expect(json.status).toBe(200);
    expect(values(decode(json.body, 'json'), 'ResultReason')).toEqual(['InvalidMessage']);

    const ttlv = await post(Buffer.from('not ttlv at all'), {
      contentType: 'application/octet-stream',
    });
    expect(ttlv.status).toBe(200);
    expect(values(decode(ttlv.body, 'ttlv'), 'ResultReason')).toEqual(['InvalidMessage']);

    const bytes = await post(Buffer.from([0xff, 0xfe, 0x3c]), { contentType: 'text/xml' });
    expect(values(decode(bytes.body, 'xml'), 'ResultReason')).toEqual(['InvalidMessage']);
  });

  it('never echoes the body of a malformed request (it may hold key material)', async () => {
    const secret = '0123456789abcdeffedcba98765432100123456789abcdef';
    const r = await post(
      `{"tag":"RequestMessage","value":[{"tag":"KeyMaterial","type":"ByteString","value":"${secret}"} oops`,
      { contentType: 'application/json' },
    );
    expect(r.status).toBe(200);
    expect(r.body.toString('utf8')).not.toContain(secret.slice(0, 16));
    expect(JSON.stringify(logLines)).not.toContain(secret.slice(0, 16));
  });
});

describe('HTTPS port: connections', () => {
  it('keeps one connection alive across several requests', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const reused: boolean[] = [];
      for (const encoding of ['xml', 'json', 'ttlv', 'xml', 'json'] as const) {
        const { reply, tree } = await kmip(queryXml(), encoding, { agent });
        expect(values(tree, 'ResultStatus')).toEqual(['Success']);
        expect(reply.headers.connection).toBe('keep-alive');
        reused.push(reply.reusedSocket);
      }
      expect(reused).toEqual([false, true, true, true, true]);
      expect(server.stats().identities.get('alice')).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('closes a connection whose headers or body do not arrive in time', async () => {
    const slow = await startServer({
      headersTimeoutMs: 300,
      messageTimeoutMs: 600,
      deadlineCheckMs: 100,
    });
    try {
      const closedAfter = async (text: string): Promise<{ ms: number; reply: string }> => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port: slow.address.port,
          servername: 'localhost',
          ca,
          ...alice,
        });
        socket.on('error', () => {});
        await new Promise((r) => socket.once('secureConnect', r));
        const started = Date.now();
        let reply = '';
        socket.on('data', (c: Buffer) => {
          reply += c.toString('latin1');
        });
        socket.write(text);
        await new Promise((r) => socket.once('close', r));
        return { ms: Date.now() - started, reply };
      };
      const headers = await closedAfter('POST /kmip HTTP/1.1\r\nHost: localhost\r\n');
      expect(headers.ms).toBeLessThan(3000);
      expect(headers.reply).toMatch(/^HTTP\/1\.1 408/);
      const body = await closedAfter(
        'POST /kmip HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n<Req',
      );
      expect(body.ms).toBeGreaterThanOrEqual(500);
      expect(body.ms).toBeLessThan(3000);
    } finally {
      await slow.close();
    }
  });

  it('a body under a small cap is served and one byte over it is refused', async () => {
    const capped = await startServer({ maxMessageBytes: 4096 });
    try {
      const body = encode(queryXml(), 'xml');
      expect(body.length).toBeLessThan(4096);
      const ok = await post(body, { port: capped.address.port, contentType: 'text/xml' });
      expect(ok.status).toBe(200);
      const padded = Buffer.concat([body, Buffer.alloc(4097 - body.length, 0x20)]);
      const over = await post(padded, { port: capped.address.port, contentType: 'text/xml' });
      expect(over.status).toBe(413);
    } finally {
      await capped.close();
    }
  });
});
