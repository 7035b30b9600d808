// The HTTPS port (KMIP Profiles 2.1 §5.3 HTTPS, §5.4 XML and §5.5 JSON server profiles):
// `POST /kmip` over mutual TLS, with the same certificate rules and identity (the CN) as the
// KMIP port. The Content-Type picks the message encoding: application/octet-stream is binary
// TTLV, text/xml or application/xml is KMIP XML, application/json is KMIP JSON. Every request
// becomes a binary TTLV frame for the same MessageLayer.process, so Maximum Response Size
// applies to the TTLV length (§5.4: "logically the same as if the message encoding was in TTLV
// form"); the response goes back in the request's encoding. A body that cannot be read as XML
// or JSON is answered, with HTTP 200, by a KMIP response carrying the codec's Result Reason
// (Invalid Message for malformed syntax) in the request's encoding.

import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { invalidMessage, KmipError, resultReasonName } from '../errors.js';
import { ResponseMessage } from '../kmip/messages.js';
import { closeIfRefused, type RegisteredClients, refusal } from '../tls/registered-clients.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import type { TtlvItem } from '../ttlv/item.js';
import { jsonToTtlv, ttlvToJson } from '../ttlv/json.js';
import { KMIP_VERSIONS, ResultStatus, Tag } from '../ttlv/spec/index.js';
import { ttlvToXml, xmlToTtlv } from '../ttlv/xml.js';
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './connection.js';
import type { MessageLayer } from './message-layer.js';
import { type IdentityMapper, peerOf, type RunningServer, type TlsMaterial } from './tls-server.js';

/**
 * The HTTP limits on top of the connection limits the KMIP port has. Of ConnectionLimits the
 * HTTPS port uses maxMessageBytes (the body cap), idleTimeoutMs (keep-alive idle time),
 * messageTimeoutMs (whole request), handshakeTimeoutMs, maxConnections,
 * maxConnectionsPerIdentity and shutdownGraceMs, each against the attack named there.
 */
export interface HttpLimits {
  /**
   * The request line and headers must arrive within this time (ms). Stops slowloris clients
   * that trickle header lines to hold a connection and a parser. Default 10 s.
   */
  headersTimeoutMs: number;
  /**
   * How often expired header and request deadlines are looked for (ms); a deadline is enforced
   * at most this late. Default 1 s (Node's own default of 30 s would let a slow client keep
   * a connection 30 s past its deadline).
   */
  deadlineCheckMs: number;
}

export type HttpsLimits = ConnectionLimits & HttpLimits;

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  deadlineCheckMs: 1_000,
});

export interface HttpsServerOptions {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  layer: MessageLayer;
  log: Logger;
  limits?: Partial<HttpsLimits>;
  /** Certificate fields to principal and groups, as on the KMIP port; default the CN. */
  mapIdentity?: IdentityMapper;
  /** Client certificates accepted as themselves (--client-cert), as on the KMIP port. */
  registered?: RegisteredClients;
}

export const KMIP_PATH = '/kmip';

type Encoding = 'ttlv' | 'xml' | 'json';

/** Media types of §5.3 and the encoding each one selects. */
const MEDIA_TYPES: ReadonlyMap<string, Encoding> = new Map([
  ['application/octet-stream', 'ttlv'],
  ['text/xml', 'xml'],
  ['application/xml', 'xml'],
  ['application/json', 'json'],
]);

const HIGHEST = KMIP_VERSIONS[KMIP_VERSIONS.length - 1]!;

export function startHttpsServer(opts: HttpsServerOptions): Promise<RunningServer> {
  const lim: HttpsLimits = {
    ...DEFAULT_CONNECTION_LIMITS,
    ...DEFAULT_HTTP_LIMITS,
    ...opts.limits,
  };
  const perIdentity = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let connections = 0;
  let registered = opts.registered?.list.length ? opts.registered : undefined;
  const context = (m: TlsMaterial) => ({
    cert: m.cert,
    key: m.key,
    ca: m.ca,
    minVersion: 'TLSv1.2' as const,
  });
  const server = https.createServer({
    ...context(opts),
    requestCert: true,
    // With registered certificates, the secureConnection listener decides.
    rejectUnauthorized: registered === undefined,
    handshakeTimeout: lim.handshakeTimeoutMs,
    headersTimeout: lim.headersTimeoutMs,
    // Node requires headersTimeout <= requestTimeout.
    requestTimeout: Math.max(lim.messageTimeoutMs, lim.headersTimeoutMs),
    keepAliveTimeout: lim.idleTimeoutMs,
    connectionsCheckingInterval: lim.deadlineCheckMs,
  });
  server.maxConnections = lim.maxConnections;
  // Inactivity on a socket, also while a response is being read, ends it.
  server.timeout = lim.idleTimeoutMs;

  server.on('connection', (raw: Socket) => {
    connections++;
    raw.on('error', () => {});
    raw.once('close', () => connections--);
  });

  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => {});
    if (closeIfRefused(socket, registered, opts.log)) return;
    const identity = peerOf(socket, opts.mapIdentity)?.identity;
    if (identity === undefined) {
      opts.log.warn(
        { remote: socket.remoteAddress },
        'client certificate without a CN or an identity-map match; closing',
      );
      socket.destroy();
      return;
    }
    const open = perIdentity.get(identity) ?? 0;
    if (open >= lim.maxConnectionsPerIdentity) {
      opts.log.warn(
        { identity, limit: lim.maxConnectionsPerIdentity },
        'connection refused: too many connections for this identity',
      );
      socket.destroy();
      return;
    }
    perIdentity.set(identity, open + 1);
    socket.once('close', () => {
      const left = (perIdentity.get(identity) ?? 1) - 1;
      if (left === 0) perIdentity.delete(identity);
      else perIdentity.set(identity, left);
    });
  });

  server.on('tlsClientError', (err, socket) => {
    opts.log.debug(
      { code: (err as NodeJS.ErrnoException).code, remote: socket.remoteAddress },
      'TLS handshake failed',
    );
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const done = handle(req, res, opts, lim).catch((err: unknown) => {
      // Whatever goes wrong with one request ends that request only.
      opts.log.error({ type: err instanceof Error ? err.name : typeof err }, 'request failed');
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    });
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      server.on('error', (err) =>
        opts.log.error({ code: (err as NodeJS.ErrnoException).code }, 'HTTPS server error'),
      );
      resolve({
        address: server.address() as AddressInfo,
        setTls(m) {
          server.setSecureContext({ ...context(m), ticketKeys: server.getTicketKeys() });
          if (registered !== undefined && m.registered?.list.length) registered = m.registered;
        },
        stats: () => ({ connections, identities: new Map(perIdentity) }),
        async close() {
          const stopped = new Promise<void>((r) => server.close(() => r()));
          server.closeIdleConnections();
          const grace = setTimeout(() => server.closeAllConnections(), lim.shutdownGraceMs);
          grace.unref();
          // Requests being processed finish before the caller closes the store.
          while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
          server.closeIdleConnections();
          await stopped;
          clearTimeout(grace);
        },
      });
    });
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  opts: HttpsServerOptions,
  lim: HttpsLimits,
): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== KMIP_PATH) return plain(res, 404, `not found; KMIP is served at POST ${KMIP_PATH}`);
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    return plain(res, 405, 'method not allowed; use POST');
  }
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const encoding = MEDIA_TYPES.get(mediaType);
  if (encoding === undefined) {
    return plain(res, 415, `unsupported content type; use ${[...MEDIA_TYPES.keys()].join(', ')}`);
  }
  // The socket was checked on connection; checked again so no request is served without it.
  if (refusal(req.socket as TLSSocket, opts.registered) !== undefined) {
    return plain(res, 403, 'client certificate not accepted');
  }
  const peer = peerOf(req.socket as TLSSocket, opts.mapIdentity);
  if (peer === undefined) {
    return plain(res, 403, 'client certificate without a CN or an identity-map match');
  }
  const identity = peer.identity;

  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > lim.maxMessageBytes) {
    // Refused from the header: nothing of the body is read.
    return plain(res, 413, `request body over ${lim.maxMessageBytes} bytes`);
  }
  const body = await readBody(req, lim.maxMessageBytes);
  if (body === undefined) return plain(res, 413, `request body over ${lim.maxMessageBytes} bytes`);

  let response: Buffer;
  if (encoding === 'ttlv') {
    response = await opts.layer.process(body, peer);
  } else {
    let request: TtlvItem;
    try {
      request = readText(body, encoding, lim);
    } catch (err) {
      if (!(err instanceof KmipError)) throw err;
      opts.log.info(
        { identity, encoding, reason: resultReasonName(err.reason), path: err.path },
        'rejected message',
      );
      response = failureResponse(err);
      return send(res, mediaType, writeText(decodeTtlv(response), encoding));
    }
    response = await opts.layer.process(encodeTtlv(request), peer);
    return send(res, mediaType, writeText(decodeTtlv(response), encoding));
  }
  send(res, mediaType, response);
}

/**
 * Reads the body into one buffer of at most `cap` bytes; undefined once it grows past the cap,
 * at which point reading stops (a body without Content-Length is never buffered past the cap).
 */
function readBody(req: IncomingMessage, cap: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function readText(body: Buffer, encoding: 'xml' | 'json', lim: HttpsLimits): TtlvItem {
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw invalidMessage('the body is not UTF-8');
  }
  const limits = { maxMessageBytes: lim.maxMessageBytes };
  if (encoding === 'xml') return xmlToTtlv(text, { limits });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse quotes the input near the error; the input may hold key material.
    throw invalidMessage('malformed JSON');
  }
  return jsonToTtlv(value, { limits });
}

function writeText(item: TtlvItem, encoding: 'xml' | 'json'): string {
  return encoding === 'xml' ? ttlvToXml(item) : JSON.stringify(ttlvToJson(item));
}

/** A one-item Response Message for a request that could not be read (KMIP 2.1 §9.1). */
function failureResponse(e: KmipError): Buffer {
  const [major, minor] = HIGHEST.split('.').map(Number) as [number, number];
  const response: ResponseMessage = {
    header: {
      protocolVersion: { major, minor },
      timeStamp: BigInt(Math.floor(Date.now() / 1000)),
      batchCount: 1,
    },
    batchItems: [
      {
        resultStatus: ResultStatus.OperationFailed,
        resultReason: e.reason,
        resultMessage: e.describe(),
      },
    ],
  };
  return encodeTtlv(ResponseMessage.write(Tag.ResponseMessage, response, HIGHEST));
}

function send(res: ServerResponse, mediaType: string, body: Buffer | string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(200, {
    'Content-Type': mediaType,
    'Content-Length': bytes.length,
    'Cache-Control': 'no-cache',
  });
  res.end(bytes);
}

/**
 * An HTTP error with a text body. The connection ends after it: the request's body is not read,
 * and reading it to keep the connection would let a client make the server take in any
 * amount of data it will never use.
 */
function plain(res: ServerResponse, status: number, text: string): void {
  const bytes = Buffer.from(`${text}\n`, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': bytes.length,
    'Cache-Control': 'no-cache',
    Connection: 'close',
  });
  res.end(bytes);
}
