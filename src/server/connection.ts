// The connection layer: framing, limits, timeouts and backpressure for one client stream.
// Requests on one connection are answered strictly in order; connections run concurrently.
// Tests drive it through stream.duplexPair() without sockets.

import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { KmipError } from '../errors.js';
import { FrameSplitter } from '../ttlv/frame-splitter.js';
import { DEFAULT_LIMITS } from '../ttlv/limits.js';
import type { MessageLayer, Peer } from './message-layer.js';

/**
 * Every limit the live server enforces, with the attack each one stops. The first four are
 * applied per connection by handleConnection; the rest by the TLS listener (tls-server.ts),
 * which hands the whole object down. Defaults are in DEFAULT_CONNECTION_LIMITS.
 */
export interface ConnectionLimits {
  /** Largest request accepted (bytes). Stops memory exhaustion. Default 1 MiB. */
  maxMessageBytes: number;
  /** Close a connection with no traffic for this long (ms). Stops idle-socket hoarding. Default 120 s. */
  idleTimeoutMs: number;
  /**
   * A started message must arrive whole within this time (ms). Stops slowloris clients that
   * trickle a message to hold a connection and a buffer. Default 30 s.
   */
  messageTimeoutMs: number;
  /**
   * Requests read ahead of the one being answered before reading pauses. Together with waiting
   * for 'drain' before the next response, stops a client that sends without reading its
   * responses from making the server buffer them without bound. Default 16.
   */
  maxQueuedRequests: number;
  /**
   * A TCP connection must finish its TLS handshake within this time (ms) of being accepted,
   * however it trickles bytes. Stops clients that open sockets and never send a ClientHello
   * (or send it one byte at a time) to hold sockets and handshake state. Default 10 s.
   */
  handshakeTimeoutMs: number;
  /**
   * Open connections, handshaking ones included; a connection over the cap is closed before
   * its handshake. Stops file-descriptor and memory exhaustion by a flood of connections.
   * Default 10,000.
   */
  maxConnections: number;
  /**
   * Open connections of one client identity (certificate CN); one over the cap is closed right
   * after its handshake. Stops one client (or one stolen certificate) from taking every slot
   * that maxConnections leaves to the others. Default 1,000.
   */
  maxConnectionsPerIdentity: number;
  /**
   * On shutdown, connections that have not finished within this time (ms) are closed; requests
   * already being processed still finish before the store closes. Stops a client that never
   * reads its responses from holding a shutdown forever. Default 10 s.
   */
  shutdownGraceMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxMessageBytes: DEFAULT_LIMITS.maxMessageBytes,
  idleTimeoutMs: 120_000,
  messageTimeoutMs: 30_000,
  maxQueuedRequests: 16,
  handshakeTimeoutMs: 10_000,
  maxConnections: 10_000,
  maxConnectionsPerIdentity: 1_000,
  shutdownGraceMs: 10_000,
});

export interface ConnectionHandle {
  /**
   * Stops reading, answers what was already received, then ends the stream. Resolves once no
   * request is being processed and the stream is ended or closed.
   */
  drain(): Promise<void>;
  /** Resolves when the connection is closed. */
  closed: Promise<void>;
}

export function handleConnection(
  stream: Duplex,
  peer: Peer,
  layer: MessageLayer,
  log: Logger,
  limits: Partial<ConnectionLimits> = {},
): ConnectionHandle {
  const lim = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  const splitter = new FrameSplitter({ maxMessageBytes: lim.maxMessageBytes });
  const queue: Buffer[] = [];
  let working = false;
  let draining = false;
  let ended = false;
  let messageTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  let idleWaiters: Array<() => void> = [];

  // Whatever goes wrong inside one connection ends that connection only, never the process.
  const abort = (where: string, err: unknown) => {
    log.error({ where, type: err instanceof Error ? err.name : typeof err }, 'connection failed');
    stream.destroy();
  };

  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      log.info('closing idle connection');
      stream.destroy();
    }, lim.idleTimeoutMs);
    idleTimer.unref();
  };
  const armMessageTimer = () => {
    if (splitter.buffered === 0) {
      clearTimeout(messageTimer);
      messageTimer = undefined;
    } else if (messageTimer === undefined) {
      messageTimer = setTimeout(() => {
        log.info('closing connection: message not completed in time');
        stream.destroy();
      }, lim.messageTimeoutMs);
      messageTimer.unref();
    }
  };

  const finishIfIdle = () => {
    if (working || (queue.length > 0 && !stream.destroyed)) return;
    if ((ended || draining) && !stream.destroyed && !stream.writableEnded) stream.end();
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  /** Waits until the peer has taken the buffered responses, or the stream is gone. */
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });

  const pump = async () => {
    if (working) return;
    working = true;
    try {
      while (queue.length > 0 && !stream.destroyed) {
        const frame = queue.shift()!;
        if (queue.length < lim.maxQueuedRequests && stream.isPaused() && !draining) stream.resume();
        const response = await layer.process(frame, peer);
        if (stream.destroyed) break;
        // Backpressure: the next request is not answered (and reading stays paused once the
        // queue is full) until the client has read this response.
        if (!stream.write(response)) await writable();
      }
    } finally {
      working = false;
      finishIfIdle();
    }
  };

  const onData = (chunk: Buffer) => {
    if (draining) return;
    armIdle();
    let frames: Buffer[];
    try {
      frames = splitter.push(chunk);
    } catch (err) {
      // A broken frame is the one thing that ends a connection: its framing is lost.
      log.info(
        { reason: err instanceof KmipError ? err.message : 'framing error' },
        'closing connection: bad frame',
      );
      stream.destroy();
      return;
    }
    armMessageTimer();
    if (frames.length === 0) return;
    queue.push(...frames);
    if (queue.length >= lim.maxQueuedRequests) stream.pause();
    pump().catch((err: unknown) => abort('process', err));
  };

  stream.on('data', (chunk: Buffer) => {
    try {
      onData(chunk);
    } catch (err) {
      abort('read', err);
    }
  });
  stream.on('end', () => {
    ended = true;
    finishIfIdle();
  });
  stream.on('error', (err) => {
    log.debug({ code: (err as NodeJS.ErrnoException).code }, 'connection error');
  });
  stream.on('close', () => {
    clearTimeout(idleTimer);
    clearTimeout(messageTimer);
    queue.length = 0;
    // A request still being processed keeps drain() waiting: the store must outlive it.
    finishIfIdle();
    resolveClosed();
  });
  armIdle();

  return {
    closed,
    drain() {
      draining = true;
      if (!stream.destroyed) stream.pause();
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        finishIfIdle();
      });
    },
  };
}
