// A minimal KMIP client connection: mutual TLS (the TLS 1.2 Authentication Suite of the KMIP
// Profiles), binary TTLV frames, one outstanding request at a time. Responses are cut from the
// byte stream by the same frame splitter the server uses, so a response larger than the cap is
// refused from its header before it is buffered.

import { readFile } from 'node:fs/promises';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { FrameSplitter } from '../ttlv/frame-splitter.js';
import { DEFAULT_LIMITS } from '../ttlv/limits.js';

export interface ConnectOptions {
  host: string;
  port: number;
  /** PEM client certificate, client key and CA bundle (contents, not paths). */
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
  /** Name checked against the server certificate; default `host` (none for an IP address). */
  servername?: string;
  /** Time allowed for the TLS handshake, in milliseconds. Default 10 s. */
  connectTimeoutMs?: number;
  /** Time allowed for each response, in milliseconds. Default 30 s. */
  requestTimeoutMs?: number;
  /** Largest response accepted, header included. Default the decoder's message cap. */
  maxResponseBytes?: number;
  /** Highest TLS version offered; default Node's (TLS 1.3). Benchmarks pin servers alike. */
  tlsMaxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface CertificateFiles {
  cert: string;
  key: string;
  ca: string;
}

export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

interface Pending {
  resolve: (frame: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class KmipConnection {
  private readonly splitter: FrameSplitter;
  private pending: Pending | undefined;
  /** Set once the socket can no longer carry requests; later sends fail with it. */
  private broken: Error | undefined;

  private constructor(
    private readonly socket: TLSSocket,
    private readonly requestTimeoutMs: number,
    maxResponseBytes: number,
  ) {
    this.splitter = new FrameSplitter({ maxMessageBytes: maxResponseBytes });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new ConnectionError(`connection error: ${err.message}`)));
    socket.on('close', () => this.fail(new ConnectionError('connection closed by the server')));
  }

  static open(opts: ConnectOptions): Promise<KmipConnection> {
    const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: opts.host,
        port: opts.port,
        cert: opts.cert,
        key: opts.key,
        ca: opts.ca,
        servername: opts.servername ?? (isIpAddress(opts.host) ? undefined : opts.host),
        minVersion: 'TLSv1.2',
        maxVersion: opts.tlsMaxVersion,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionError(`TLS handshake not done within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ConnectionError(`cannot connect to ${opts.host}:${opts.port}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(
          new KmipConnection(
            socket,
            opts.requestTimeoutMs ?? 30_000,
            opts.maxResponseBytes ?? DEFAULT_LIMITS.maxMessageBytes,
          ),
        );
      });
    });
  }

  /** The negotiated protocol, 'TLSv1.2' or 'TLSv1.3'. */
  get protocol(): string {
    return this.socket.getProtocol() ?? 'unknown';
  }

  /** False once the connection can no longer carry requests. */
  get usable(): boolean {
    return this.broken === undefined;
  }

  /** Sends one whole TTLV request and resolves with the next whole TTLV response. */
  send(frame: Buffer): Promise<Buffer> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    if (this.pending !== undefined) {
      return Promise.reject(new ConnectionError('a request is already outstanding'));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new ConnectionError(`no response within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending = { resolve, reject, timer };
      this.socket.write(frame);
    });
  }

  /** Ends the TLS session and waits until the socket is closed. */
  close(): Promise<void> {
    this.fail(new ConnectionError('connection closed by the client'));
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      // A server that never answers the close_notify must not hold the caller.
      setTimeout(() => this.socket.destroy(), 2_000).unref();
    });
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (err) {
      this.fail(new ConnectionError(`bad response framing: ${(err as Error).message}`));
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      const p = this.pending;
      if (p === undefined) {
        this.fail(new ConnectionError('the server sent a message no request asked for'));
        this.socket.destroy();
        return;
      }
      this.pending = undefined;
      clearTimeout(p.timer);
      // The splitter may return a view of its chunk; the caller owns a copy.
      p.resolve(Buffer.from(frame));
    }
  }

  private fail(err: Error): void {
    this.broken ??= err;
    const p = this.pending;
    if (p !== undefined) {
      this.pending = undefined;
      clearTimeout(p.timer);
      p.reject(err);
      this.socket.destroy();
    }
  }
}

export async function readCertificateFiles(
  files: CertificateFiles,
): Promise<{ cert: Buffer; key: Buffer; ca: Buffer }> {
  const [cert, key, ca] = await Promise.all([
    readFile(files.cert),
    readFile(files.key),
    readFile(files.ca),
  ]);
  return { cert, key, ca };
}

/** Opens a mutual-TLS KMIP connection. */
export function connect(
  host: string,
  port: number,
  cert: string | Buffer,
  key: string | Buffer,
  ca: string | Buffer,
  servername?: string,
): Promise<KmipConnection> {
  return KmipConnection.open({ host, port, cert, key, ca, servername });
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
