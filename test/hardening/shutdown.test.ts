// Graceful shutdown under load on SQLite: SIGTERM while six clients pipeline Creates. Every
// Create that was answered with Success is present after a restart on the same data directory;
// requests that arrive after the stop began are either answered or their connection is closed
// without an answer, never answered and then lost.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, readCertificateFiles } from '../../src/client/connection.js';
import { item, textOf } from '../../src/kmip/items.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import {
  CryptographicAlgorithm,
  ObjectType,
  Operation,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { find, payloadOf, readResponse, requestBytes } from '../helpers/kmip-test-client.js';
import { startKmipdProcess } from '../helpers/kmipd-process.js';
import { type Credentials, connectAs, eventually, loadClients } from './support.js';

const CLIENTS = 6;
/** Requests each client keeps outstanding on its connection. */
const WINDOW = 8;

const createAes = requestBytes('2.1', [
  {
    operation: Operation.Create,
    payload: [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 128),
      ]),
    ],
  },
]);

let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Pipelines Creates until the connection closes; pushes the UID of every Success answer. */
function load(socket: TLSSocket, acknowledged: string[], stats: { sent: number }): Promise<void> {
  const splitter = new FrameSplitter();
  let outstanding = 0;
  const send = () => {
    while (outstanding < WINDOW && !socket.destroyed && socket.writable) {
      outstanding++;
      stats.sent++;
      socket.write(createAes);
    }
  };
  socket.on('data', (chunk: Buffer) => {
    for (const frame of splitter.push(chunk)) {
      outstanding--;
      const r = readResponse(Buffer.from(frame));
      if (r.batchItems[0]?.resultStatus === ResultStatus.Success) {
        acknowledged.push(textOf(find(payloadOf(r.batchItems[0]), Tag.UniqueIdentifier))!);
      }
    }
    send();
  });
  send();
  return new Promise((r) => socket.once('close', () => r()));
}

describe('graceful shutdown', () => {
  it('loses no acknowledged Create when stopped with SIGTERM under load', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kmipd-shutdown-'));
    const first = await startKmipdProcess({ store: 'sqlite', dataDir, clients: ['alice'] });
    const creds: Credentials = {
      port: first.port,
      ...(await loadClients(first.pkiDir, ['alice'])),
    };
    const acknowledged: string[] = [];
    const stats = { sent: 0 };
    const sockets = await Promise.all(
      Array.from({ length: CLIENTS }, () => connectAs(creds, 'alice')),
    );
    const done = sockets.map((s) => load(s, acknowledged, stats));
    expect(await eventually(() => acknowledged.length >= 300, 60_000)).toBe(true);
    const exit = await first.stop();
    await Promise.all(done);
    expect(exit.code).toBe(0);
    // Some requests were in flight or sent after the stop began and got no answer.
    expect(stats.sent).toBeGreaterThan(acknowledged.length);

    const second = await startKmipdProcess({
      store: 'sqlite',
      dataDir,
      args: [
        '--cert',
        join(first.pkiDir, 'server.crt'),
        '--key',
        join(first.pkiDir, 'server.key'),
        '--ca',
        join(first.pkiDir, 'ca.crt'),
      ],
    });
    try {
      const files = await readCertificateFiles({
        cert: join(first.pkiDir, 'alice.crt'),
        key: join(first.pkiDir, 'alice.key'),
        ca: join(first.pkiDir, 'ca.crt'),
      });
      const conn = await connect(
        '127.0.0.1',
        second.port,
        files.cert,
        files.key,
        files.ca,
        'localhost',
      );
      const missing: string[] = [];
      for (const uid of acknowledged) {
        const r = readResponse(
          await conn.send(
            requestBytes('2.1', [
              { operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, uid)] },
            ]),
          ),
        );
        if (r.batchItems[0]?.resultStatus !== ResultStatus.Success) missing.push(uid);
      }
      await conn.close();
      expect(missing).toEqual([]);
    } finally {
      await second.stop();
    }
  }, 180_000);
});
