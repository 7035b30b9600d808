// The KMIP port: TLS 1.2/1.3 with a required client certificate (KMIP Profiles 2.1 §3.1
// Basic Authentication Suite, TLS 1.2 or later). The client identity is its certificate's CN.

import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { type ConnectionHandle, type ConnectionLimits, handleConnection } from './connection.js';
import type { MessageLayer } from './message-layer.js';

export interface TlsServerOptions {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  layer: MessageLayer;
  log: Logger;
  limits?: Partial<ConnectionLimits>;
  /** TLS handshake must finish within this many ms. Stops handshake-stalling clients. Default 10 s. */
  handshakeTimeoutMs?: number;
}

export interface RunningServer {
  readonly address: AddressInfo;
  /** Stops accepting, finishes the requests in flight, closes every connection. */
  close(): Promise<void>;
}

export function identityOf(socket: tls.TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn || undefined;
}

export function startTlsServer(opts: TlsServerOptions): Promise<RunningServer> {
  const connections = new Set<ConnectionHandle>();
  const server = tls.createServer({
    cert: opts.cert,
    key: opts.key,
    ca: opts.ca,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000,
  });
  server.on('secureConnection', (socket) => {
    const identity = identityOf(socket);
    const log = opts.log.child({
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
      identity,
    });
    if (identity === undefined) {
      log.warn('client certificate without a CN; closing');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = handleConnection(socket, { identity }, opts.layer, log, opts.limits);
    connections.add(conn);
    void conn.closed.then(() => connections.delete(conn));
  });
  server.on('tlsClientError', (err, socket) => {
    opts.log.debug(
      { code: (err as NodeJS.ErrnoException).code, remote: socket.remoteAddress },
      'TLS handshake failed',
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      server.on('error', (err) =>
        opts.log.error({ code: (err as NodeJS.ErrnoException).code }, 'server error'),
      );
      resolve({
        address: server.address() as AddressInfo,
        async close() {
          const stopped = new Promise<void>((r) => server.close(() => r()));
          await Promise.all([...connections].map((c) => c.drain()));
          await stopped;
        },
      });
    });
  });
}
