// The transport floor: a bare mutual-TLS server with kmipd's TLS settings (TLS 1.2+, client
// certificate required and verified, Nagle off) that answers every whole TTLV frame with one
// fixed, pre-encoded success response and does nothing else. Driving it with the load
// generator shows what TLS, framing and the generator itself cost on this machine, the ceiling
// no KMIP server on the same host can pass.

import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { item } from '../kmip/items.js';
import { ResponseMessage } from '../kmip/messages.js';
import { encodeTtlv } from '../ttlv/binary.js';
import { FrameSplitter } from '../ttlv/frame-splitter.js';
import { ObjectType, Operation, ResultStatus, Tag } from '../ttlv/spec/generated.js';

export interface EchoServerOptions {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** A Create response carrying a Unique Identifier: every workload's steps accept it. */
export function fixedResponse(): Buffer {
  return encodeTtlv(
    ResponseMessage.write(
      Tag.ResponseMessage,
      {
        header: {
          protocolVersion: { major: 1, minor: 2 },
          timeStamp: BigInt(Math.floor(Date.now() / 1000)),
          batchCount: 1,
        },
        batchItems: [
          {
            operation: Operation.Create,
            resultStatus: ResultStatus.Success,
            responsePayload: item.struct(Tag.ResponsePayload, [
              item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
              item.text(Tag.UniqueIdentifier, 'echo-1'),
            ]),
          },
        ],
      },
      '1.2',
    ),
  );
}

export function startEchoServer(opts: EchoServerOptions): Promise<tls.Server> {
  const response = fixedResponse();
  const server = tls.createServer(
    {
      cert: opts.cert,
      key: opts.key,
      ca: opts.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (socket) => {
      socket.setNoDelay(true);
      const splitter = new FrameSplitter();
      socket.on('data', (chunk: Buffer) => {
        let frames: Buffer[];
        try {
          frames = splitter.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (let i = 0; i < frames.length; i++) socket.write(response);
      });
      socket.on('error', () => socket.destroy());
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function portOf(server: tls.Server): number {
  return (server.address() as AddressInfo).port;
}
