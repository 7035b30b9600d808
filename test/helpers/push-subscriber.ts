// A push subscriber for tests: a mutual-TLS listener on 127.0.0.1 that records every request
// kmipd pushes (decoded) and answers each with Success. It can be stopped and started again on
// the same port, to play a subscriber that is down for a while.

import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { successFor } from '../../src/conformance/push-listener.js';
import { type RequestBatchItem, RequestMessage } from '../../src/kmip/messages.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';

export interface Pushed {
  version: string;
  item: RequestBatchItem;
  /** Common Name of the client certificate kmipd presented. */
  peer: string;
}

export class TestSubscriber {
  readonly received: Pushed[] = [];
  private server: tls.Server | undefined;
  private readonly sockets = new Set<tls.TLSSocket>();
  port = 0;

  constructor(private readonly pem: { cert: Buffer; key: Buffer; ca: Buffer }) {}

  async start(port = this.port): Promise<number> {
    const server = tls.createServer({
      ...this.pem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('secureConnection', (socket) => this.accept(socket));
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Waits until `n` messages have arrived in all. */
  async waitFor(n: number, ms = 10_000): Promise<Pushed[]> {
    const end = Date.now() + ms;
    while (this.received.length < n) {
      if (Date.now() > end) {
        throw new Error(`${this.received.length} of ${n} pushed messages arrived`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.received.slice(0, n);
  }

  private accept(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const cn = socket.getPeerCertificate().subject?.CN;
    const peer = Array.isArray(cn) ? (cn[0] ?? '') : (cn ?? '');
    const splitter = new FrameSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        const tree = decodeTtlv(frame);
        const msg = RequestMessage.read(tree, '1.4');
        const pv = msg.header.protocolVersion;
        for (const item of msg.batchItems) {
          this.received.push({ version: `${pv.major}.${pv.minor}`, item, peer });
        }
        socket.write(encodeTtlv(successFor(tree)));
      }
    });
  }
}
