// The load generator's KMIP connection: mutual TLS, binary TTLV frames, one outstanding request.
// It differs from src/client/connection.ts in what a benchmark needs: the TLS version can be
// capped (PyKMIP's TLS1.2 suite speaks only 1.2, so comparing servers means pinning both to
// 1.2), the negotiated protocol is reported, and there is no per-request timer, because the
// run's deadline bounds every wait and a lost response shows up as a stalled worker.

import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { FrameSplitter } from '../ttlv/frame-splitter.js';

export interface BenchTarget {
  host: string;
  port: number;
  /** PEM client certificate, key and CA bundle (contents, not paths). */
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
  /** Name checked in the server certificate; default none for an IP address, else `host`. */
  servername?: string;
  /** Highest TLS version offered; default Node's (TLS 1.3). */
  tlsMaxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
}

const CONNECT_TIMEOUT_MS = 10_000;
/** Responses larger than this are refused from their header: a load run reads small messages. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export class BenchConnection {
  private readonly splitter = new FrameSplitter({ maxMessageBytes: MAX_RESPONSE_BYTES });
  private waiting: { resolve: (f: Buffer) => void; reject: (e: Error) => void } | undefined;
  private broken: Error | undefined;

  private constructor(private readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new TransportError(err.message)));
    socket.on('close', () => this.fail(new TransportError('connection closed by the server')));
  }

  static open(target: BenchTarget): Promise<BenchConnection> {
    return new Promise((resolve, reject) => {
      const isIp = /^[\d.]+$/.test(target.host) || target.host.includes(':');
      const socket = tlsConnect({
        host: target.host,
        port: target.port,
        cert: target.cert,
        key: target.key,
        ca: target.ca,
        servername: target.servername ?? (isIp ? undefined : target.host),
        minVersion: 'TLSv1.2',
        maxVersion: target.tlsMaxVersion,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError(`TLS handshake not done within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new TransportError(`cannot connect: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(new BenchConnection(socket));
      });
    });
  }

  /** 'TLSv1.2', 'TLSv1.3'. */
  get protocol(): string {
    return this.socket.getProtocol() ?? 'unknown';
  }

  get usable(): boolean {
    return this.broken === undefined;
  }

  /** Sends one whole request and resolves with the next whole response. */
  send(frame: Buffer): Promise<Buffer> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    if (this.waiting !== undefined) {
      return Promise.reject(new TransportError('a request is already outstanding'));
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(frame);
    });
  }

  /** Ends the session without waiting for the server's side of the close. */
  close(): void {
    this.fail(new TransportError('closed by the client'));
    this.socket.end();
    // A server that never answers the close must not keep the socket.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (err) {
      this.fail(new TransportError(`bad response framing: ${(err as Error).message}`));
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      const w = this.waiting;
      if (w === undefined) {
        this.fail(new TransportError('a response no request asked for'));
        this.socket.destroy();
        return;
      }
      this.waiting = undefined;
      w.resolve(frame);
    }
  }

  private fail(err: Error): void {
    this.broken ??= err;
    const w = this.waiting;
    if (w !== undefined) {
      this.waiting = undefined;
      w.reject(err);
    }
  }
}
