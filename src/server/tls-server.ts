// The KMIP port: TLS 1.2/1.3 with a required client certificate (KMIP Profiles 2.1 §3.1
// Basic Authentication Suite, TLS 1.2 or later). The client identity is its certificate's CN.

import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { NO_CN_MESSAGE, tlsFailureLogger } from '../tls/diagnose.js';
import { closeIfRefused, type RegisteredClients } from '../tls/registered-clients.js';
import {
  type ConnectionHandle,
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  handleConnection,
} from './connection.js';
import type { MessageLayer, Peer } from './message-layer.js';

export interface TlsServerOptions {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  layer: MessageLayer;
  /** Principal and groups from the client certificate (--identity-map); default the CN. */
  mapIdentity?: IdentityMapper;
  log: Logger;
  limits?: Partial<ConnectionLimits>;
  /** Overrides limits.handshakeTimeoutMs. */
  handshakeTimeoutMs?: number;
  /** Lowest TLS version accepted. Default TLSv1.2 (KMIP Profiles 2.1 §3.1 require 1.2 or later). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (TLS 1.2 and 1.3 suites). Default Node's. */
  ciphers?: string;
  /** Client certificates accepted as themselves (--client-cert), beside those --ca signed. */
  registered?: RegisteredClients;
}

/** What a listener presents and trusts; replaced as a whole by `setTls` (SIGHUP). */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  registered?: RegisteredClients;
}

export interface RunningServer {
  readonly address: AddressInfo;
  /**
   * Serves new connections with other TLS material: server certificate and key, CA bundle,
   * registered client certificates. Open connections keep what they were accepted with, and
   * the session ticket keys stay, so sessions issued before still resume. Whether registered
   * certificates are in use is fixed at start (it decides who verifies the chain).
   */
  setTls(material: TlsMaterial): void;
  /** Open TCP connections (handshaking or established) and established ones per identity. */
  stats(): { connections: number; identities: Map<string, number> };
  /**
   * Stops accepting, finishes the requests in flight, closes every connection. Connections
   * still open after limits.shutdownGraceMs are closed; requests being processed still finish.
   */
  close(): Promise<void>;
}

/**
 * TLS session resumption (1.2 session tickets and IDs, 1.3 tickets) skips the certificate
 * exchange and signatures of a full handshake for clients that reconnect per call (Barbican).
 * Ticket keys are made once per process, so every listener of the process (and a restarted
 * one) honours the tickets it issued; a ticket never outlives the process, and the workers of
 * a cluster share the primary's keys. (Node's cluster module also gives every worker's TLS
 * listener the ticket keys of the first one to listen, as measured on Node 20; kmipd does not
 * rely on that undocumented behaviour.) The session keeps the client certificate, so a resumed
 * connection has the identity of the full handshake (for at most sessionTimeout, Node's
 * 300 s). The session ID context is fixed rather than Node's default, a hash of the command
 * line. TLS 1.2 session IDs live in one process; a cluster's clients resume by ticket.
 */
let ticketKeys: Buffer = randomBytes(48);

/** The session ticket keys of a cluster, shared so that any worker resumes any session. */
export function useSharedSessionTicketKeys(keys: Buffer): void {
  if (keys.length !== 48) throw new Error('session ticket keys are 48 bytes');
  ticketKeys = keys;
}
const SESSION_ID_CONTEXT = 'kmipd';

export function identityOf(socket: tls.TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn || undefined;
}

/** Maps a client certificate to a principal and groups (src/auth/identity-map.ts). */
export type IdentityMapper = (
  cert: tls.PeerCertificate,
) => { principal: string; groups: string[] } | undefined;

/**
 * The client a mutual-TLS socket speaks for: the identity map's principal and groups when one
 * is configured, else the certificate's CN; undefined when neither names anyone.
 */
export function peerOf(socket: tls.TLSSocket, map?: IdentityMapper): Peer | undefined {
  if (map === undefined) {
    const identity = identityOf(socket);
    return identity === undefined ? undefined : { identity };
  }
  const mapped = map(socket.getPeerCertificate());
  return mapped === undefined ? undefined : { identity: mapped.principal, groups: mapped.groups };
}

export function startTlsServer(opts: TlsServerOptions): Promise<RunningServer> {
  const lim: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.limits };
  if (opts.handshakeTimeoutMs !== undefined) lim.handshakeTimeoutMs = opts.handshakeTimeoutMs;
  const connections = new Set<ConnectionHandle>();
  /** Every open TCP connection by remote address and port; `tls` once its handshake is done. */
  const sockets = new Map<string, { raw: Socket; deadline: NodeJS.Timeout; tls?: tls.TLSSocket }>();
  const perIdentity = new Map<string, number>();
  let registered = opts.registered?.list.length ? opts.registered : undefined;
  const context = (m: TlsMaterial): tls.SecureContextOptions => ({
    cert: m.cert,
    key: m.key,
    ca: m.ca,
    minVersion: opts.minVersion ?? 'TLSv1.2',
    ciphers: opts.ciphers,
    sessionIdContext: SESSION_ID_CONTEXT,
  });
  const server = tls.createServer({
    ...context(opts),
    requestCert: true,
    // With registered certificates, accept() decides (src/tls/registered-clients.ts).
    rejectUnauthorized: registered === undefined,
    ticketKeys,
    // Node's own timer only measures inactivity; the deadline set on 'connection' is absolute.
    handshakeTimeout: lim.handshakeTimeoutMs,
  });

  // Raw TCP connections: the overall cap and the absolute handshake deadline.
  server.on('connection', (raw: Socket) => {
    raw.on('error', () => {});
    if (sockets.size >= lim.maxConnections) {
      opts.log.warn(
        { remote: raw.remoteAddress, limit: lim.maxConnections },
        'connection refused: too many connections',
      );
      raw.destroy();
      return;
    }
    const key = remoteKey(raw);
    const deadline = setTimeout(() => {
      opts.log.info({ remote: raw.remoteAddress }, 'closing connection: TLS handshake too slow');
      raw.destroy();
    }, lim.handshakeTimeoutMs);
    deadline.unref();
    sockets.set(key, { raw, deadline });
    raw.once('close', () => {
      clearTimeout(deadline);
      if (sockets.get(key)?.raw === raw) sockets.delete(key);
    });
  });

  server.on('secureConnection', (socket) => {
    try {
      accept(socket);
    } catch (err) {
      // Whatever goes wrong with one connection ends that connection only.
      opts.log.error({ type: err instanceof Error ? err.name : typeof err }, 'connection failed');
      socket.destroy();
    }
  });

  const accept = (socket: tls.TLSSocket) => {
    socket.on('error', () => {});
    const entry = sockets.get(remoteKey(socket));
    if (entry !== undefined) {
      clearTimeout(entry.deadline);
      entry.tls = socket;
    }
    if (closeIfRefused(socket, registered, opts.log)) return;
    const peer = peerOf(socket, opts.mapIdentity);
    const identity = peer?.identity;
    const log = opts.log.child({
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
      identity,
    });
    if (peer === undefined || identity === undefined) {
      log.warn({ cause: 'client-certificate-without-cn' }, `closing: ${NO_CN_MESSAGE}`);
      socket.destroy();
      return;
    }
    const open = perIdentity.get(identity) ?? 0;
    if (open >= lim.maxConnectionsPerIdentity) {
      log.warn(
        { limit: lim.maxConnectionsPerIdentity },
        'connection refused: too many connections for this identity',
      );
      socket.destroy();
      return;
    }
    perIdentity.set(identity, open + 1);
    socket.setNoDelay(true);
    const conn = handleConnection(socket, peer, opts.layer, log, lim);
    connections.add(conn);
    void conn.closed.then(() => {
      connections.delete(conn);
      const left = (perIdentity.get(identity) ?? 1) - 1;
      if (left === 0) perIdentity.delete(identity);
      else perIdentity.set(identity, left);
    });
  };

  // Each failed handshake is logged with its cause in words (src/tls/diagnose.ts).
  server.on('tlsClientError', tlsFailureLogger(opts.log));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      server.on('error', (err) =>
        opts.log.error({ code: (err as NodeJS.ErrnoException).code }, 'server error'),
      );
      resolve({
        address: server.address() as AddressInfo,
        setTls(m) {
          server.setSecureContext({ ...context(m), ticketKeys: server.getTicketKeys() });
          if (registered !== undefined && m.registered?.list.length) registered = m.registered;
        },
        stats: () => ({ connections: sockets.size, identities: new Map(perIdentity) }),
        async close() {
          const stopped = new Promise<void>((r) => server.close(() => r()));
          const grace = setTimeout(() => {
            for (const s of sockets.values()) (s.tls ?? s.raw).destroy();
          }, lim.shutdownGraceMs);
          grace.unref();
          // Handshaking connections have no request to finish.
          for (const s of sockets.values()) if (s.tls === undefined) s.raw.destroy();
          await Promise.all([...connections].map((c) => c.drain()));
          await stopped;
          clearTimeout(grace);
        },
      });
    });
  });
}

function remoteKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/**
 * Last resort for a serving process. Every connection already catches its own failures
 * (handleConnection, accept above), so reaching these handlers means a bug outside any request.
 * An unhandled rejection is a promise nobody awaited: it changed no state synchronously, so it
 * is logged (type and stack, never data) and serving goes on. An uncaught exception may have
 * left shared state half-updated; answering on from it could be wrong, so it is logged, the
 * server stops accepting and finishes what it can within the shutdown grace, and the process
 * exits with status 1 for its supervisor to restart it.
 */
export function installLastResortHandlers(log: Logger, stop: () => Promise<void>): void {
  const summary = (err: unknown) => ({
    type: err instanceof Error ? err.name : typeof err,
    stack: err instanceof Error ? err.stack?.split('\n').slice(1, 6).join('\n') : undefined,
  });
  process.on('unhandledRejection', (err) => {
    log.error({ err: summary(err) }, 'unhandled rejection; still serving');
  });
  let failing = false;
  process.on('uncaughtException', (err) => {
    log.fatal({ err: summary(err) }, 'uncaught exception; stopping');
    if (failing) return;
    failing = true;
    const exit = () => {
      log.flush();
      process.exit(1);
    };
    setTimeout(exit, DEFAULT_CONNECTION_LIMITS.shutdownGraceMs + 5_000).unref();
    stop().then(exit, exit);
  });
}
