// The connection layer: framing, limits, timeouts and backpressure for one client stream.
// Requests on one connection are answered strictly in order; connections run concurrently.
// Tests drive it through stream.duplexPair() without sockets.

import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { KmipError } from '../errors.js';
import { FrameSplitter } from '../ttlv/frame-splitter.js';
import { DEFAULT_LIMITS } from '../ttlv/limits.js';
import type { MessageLayer, Peer } from './message-layer.js';

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
  /** Requests read ahead of the one being answered before reading pauses. Default 16. */
  maxQueuedRequests: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxMessageBytes: DEFAULT_LIMITS.maxMessageBytes,
  idleTimeoutMs: 120_000,
  messageTimeoutMs: 30_000,
  maxQueuedRequests: 16,
});

export interface ConnectionHandle {
  /** Stops reading, answers what was already received, then ends the stream. */
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
    if (working || queue.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
    if (ended || draining) stream.end();
  };

  const pump = async () => {
    if (working) return;
    working = true;
    try {
      while (queue.length > 0 && !stream.destroyed) {
        const frame = queue.shift()!;
        if (queue.length < lim.maxQueuedRequests && stream.isPaused() && !draining) stream.resume();
        const response = await layer.process(frame, peer);
        if (stream.destroyed) break;
        if (!stream.write(response)) {
          await new Promise<void>((resolve) => {
            stream.once('drain', resolve);
            stream.once('close', resolve);
          });
        }
      }
    } finally {
      working = false;
      finishIfIdle();
    }
  };

  stream.on('data', (chunk: Buffer) => {
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
    void pump();
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
    for (const w of idleWaiters) w();
    idleWaiters = [];
    resolveClosed();
  });
  armIdle();

  return {
    closed,
    drain() {
      draining = true;
      stream.pause();
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        finishIfIdle();
      });
    },
  };
}
