// The admin port (`kmipd serve --admin-port N`, off by default, bound to 127.0.0.1 unless
// --admin-host says otherwise): plain HTTP for monitoring, separate from the KMIP port.
//   GET /metrics   Prometheus text format (src/metrics/metrics.ts)
//   GET /healthz   200 {"status":"ok"} when the object store answers a count within the
//                  health timeout, 503 {"status":"unavailable"} otherwise
// It serves no key material and no object data; it has no TLS and no authentication, which is
// why it listens on the loopback address unless told otherwise.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { KmipdMetrics } from '../metrics/metrics.js';
import type { ObjectStore } from '../store/object-store.js';

/** How long /healthz waits for the store before answering 503. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;

export interface AdminServerOptions {
  host: string;
  port: number;
  metrics: KmipdMetrics;
  store: ObjectStore;
  log: Logger;
  healthTimeoutMs?: number;
}

export interface AdminServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const timeoutMs = opts.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const server = http.createServer((req, res) => {
    void answer(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // Monitoring requests are small; a slow one must not hold a socket open.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;

  async function answer(req: http.IncomingMessage, res: http.ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const body = await opts.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(body);
      return;
    }
    if (path === '/healthz') {
      const healthy = await storeAnswers(opts.store, timeoutMs);
      if (!healthy) opts.log.warn({ timeoutMs }, 'health check: the object store did not answer');
      res
        .writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: healthy ? 'ok' : 'unavailable' }));
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found: try /metrics or /healthz\n');
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function storeAnswers(store: ObjectStore, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), timeoutMs);
  });
  try {
    return await Promise.race([store.count().then(() => true as const), late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
