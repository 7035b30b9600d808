// How the conformance runner carries one test case's messages: binary TTLV over the KMIP port
// (mutual TLS), or `POST /kmip` over HTTPS as TTLV, XML or JSON (KMIP Profiles 2.1 §5.3-§5.5).
// A message-encoding case picks its own wire form by its identifier (Profiles §5.3.3, §5.4.4,
// §5.5.4): MSGENC-HTTPS-* is TTLV over HTTPS, MSGENC-XML-* is XML over HTTPS and
// MSGENC-JSON-* is JSON over HTTPS. Every other case uses the run's transport and encoding.

import https from 'node:https';
import { ConnectionError, KmipConnection } from '../client/connection.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import type { TtlvItem } from '../ttlv/item.js';
import { jsonTextToTtlv, ttlvToJson } from '../ttlv/json.js';
import { ttlvToXml, xmlToTtlv } from '../ttlv/xml.js';

export type Transport = 'tls' | 'https';
export type Encoding = 'ttlv' | 'xml' | 'json';

export interface Endpoint {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  servername?: string | undefined;
}

export interface WireForm {
  transport: Transport;
  encoding: Encoding;
}

/** One case's channel: sends a request tree and returns the response tree. */
export interface Channel {
  exchange(request: TtlvItem): Promise<TtlvItem>;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<Encoding, string> = {
  ttlv: 'application/octet-stream',
  xml: 'text/xml',
  json: 'application/json',
};

const CASE_FORMS: Record<string, WireForm> = {
  HTTPS: { transport: 'https', encoding: 'ttlv' },
  XML: { transport: 'https', encoding: 'xml' },
  JSON: { transport: 'https', encoding: 'json' },
};

/**
 * Largest response body read from an HTTPS server. Stops a broken or hostile server from
 * exhausting the runner's memory; XML and JSON take several times the TTLV size, hence 16 MiB.
 */
export const MAX_HTTPS_RESPONSE_BYTES = 16 * 1024 * 1024;

/** The wire form a case needs, from its identifier; `fallback` for every other case. */
export function wireFormFor(caseId: string, fallback: WireForm): WireForm {
  const m = /^MSGENC-(HTTPS|XML|JSON)-/.exec(caseId);
  return m === null ? fallback : CASE_FORMS[m[1]!]!;
}

export async function openChannel(
  form: WireForm,
  endpoint: Endpoint,
  requestTimeoutMs: number,
): Promise<Channel> {
  if (form.transport === 'https')
    return new HttpsChannel(endpoint, form.encoding, requestTimeoutMs);
  if (form.encoding !== 'ttlv') {
    throw new Error(`the KMIP port speaks binary TTLV only; ${form.encoding} needs HTTPS`);
  }
  const conn = await KmipConnection.open({ ...endpoint, requestTimeoutMs });
  return {
    exchange: async (request) => decodeTtlv(await conn.send(encodeTtlv(request))),
    close: () => conn.close(),
  };
}

/**
 * POST /kmip with one kept-alive connection for the whole case (an agent of one socket), so a
 * case runs on one connection as it does over the KMIP port.
 */
class HttpsChannel implements Channel {
  private readonly agent: https.Agent;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly encoding: Encoding,
    private readonly timeoutMs: number,
  ) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      cert: endpoint.cert,
      key: endpoint.key,
      ca: endpoint.ca,
      minVersion: 'TLSv1.2',
      ...(endpoint.servername !== undefined ? { servername: endpoint.servername } : {}),
    });
  }

  async exchange(request: TtlvItem): Promise<TtlvItem> {
    const body = this.write(request);
    const response = await this.post(body);
    const text = () => response.toString('utf8');
    switch (this.encoding) {
      case 'ttlv':
        return decodeTtlv(response);
      case 'xml':
        return xmlToTtlv(text());
      case 'json':
        return jsonTextToTtlv(text());
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private write(item: TtlvItem): Buffer {
    switch (this.encoding) {
      case 'ttlv':
        return encodeTtlv(item);
      case 'xml':
        return Buffer.from(ttlvToXml(item), 'utf8');
      case 'json':
        return Buffer.from(JSON.stringify(ttlvToJson(item)), 'utf8');
    }
  }

  private post(body: Buffer): Promise<Buffer> {
    const { host, port } = this.endpoint;
    const contentType = CONTENT_TYPES[this.encoding];
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          agent: this.agent,
          host,
          port,
          method: 'POST',
          path: '/kmip',
          headers: {
            'Content-Type': contentType,
            'Content-Length': body.length,
            'Cache-Control': 'no-cache',
          },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_HTTPS_RESPONSE_BYTES) {
              res.destroy();
              reject(new ConnectionError(`response over ${MAX_HTTPS_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.once('error', (err) => reject(new ConnectionError(`HTTPS error: ${err.message}`)));
          res.once('end', () => {
            const data = Buffer.concat(chunks, size);
            if (res.statusCode !== 200) {
              const why = data.toString('utf8', 0, Math.min(size, 200)).trim();
              reject(new ConnectionError(`HTTP ${res.statusCode}: ${why}`));
              return;
            }
            const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
            if (type !== contentType) {
              reject(new ConnectionError(`response Content-Type '${type}', sent ${contentType}`));
              return;
            }
            resolve(data);
          });
        },
      );
      req.once('timeout', () => {
        req.destroy();
        reject(new ConnectionError(`no response within ${this.timeoutMs} ms`));
      });
      req.once('error', (err) => reject(new ConnectionError(`HTTPS error: ${err.message}`)));
      req.end(body);
    });
  }
}
