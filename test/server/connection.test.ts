// The connection layer through an in-memory duplex pair: ordering, framing across chunks,
// broken frames, timeouts and draining.

import { duplexPair } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { handleConnection } from '../../src/server/connection.js';
import { Operation, ResultStatus } from '../../src/ttlv/spec/generated.js';
import {
  connectPair,
  readResponse,
  requestBytes,
  silentLog,
  testServer,
} from '../helpers/kmip-test-client.js';

const discover = (minor: number) =>
  requestBytes(minor === 0 ? '1.0' : (`1.${minor}` as '1.1'), [
    { operation: Operation.DiscoverVersions },
  ]);

const closedPromise = (stream: NodeJS.EventEmitter) =>
  new Promise<void>((r) => stream.once('close', () => r()));

describe('connection', () => {
  it('answers pipelined requests in order, in one response write each', async () => {
    const { layer } = testServer();
    const conn = connectPair(layer);
    conn.client.write(Buffer.concat([discover(0), discover(2), discover(4), discover(1)]));
    const responses = (await conn.next(4)).map(readResponse);
    expect(responses.map((r) => r.header.protocolVersion.minor)).toEqual([0, 2, 4, 1]);
    expect(responses.every((r) => r.batchItems[0]?.resultStatus === ResultStatus.Success)).toBe(
      true,
    );
  });

  it('assembles a request sent one byte at a time', async () => {
    const { layer } = testServer();
    const conn = connectPair(layer);
    const bytes = discover(3);
    for (const b of bytes) conn.client.write(Buffer.from([b]));
    const [response] = await conn.next(1);
    expect(readResponse(response!).header.protocolVersion.minor).toBe(3);
  });

  it('keeps serving after a request that fails to decode', async () => {
    const { layer } = testServer();
    const conn = connectPair(layer);
    const bad = discover(4);
    bad[bad.length - 9] = 7; // the Operation's padding is no longer zero
    conn.client.write(Buffer.concat([bad, discover(4)]));
    const [first, second] = (await conn.next(2)).map(readResponse);
    expect(first?.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(second?.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
  });

  it('closes the connection on a header that declares more than the cap, without answering', async () => {
    const { layer } = testServer();
    const [client, server] = duplexPair();
    handleConnection(server, { identity: 'alice' }, layer, silentLog);
    const got: Buffer[] = [];
    client.on('data', (c: Buffer) => got.push(c));
    const closed = closedPromise(server);
    client.write(Buffer.from('42007801ffffff00', 'hex'));
    await closed;
    expect(got).toHaveLength(0);
  });

  it('closes an idle connection after the idle timeout', async () => {
    const { layer } = testServer();
    const [, server] = duplexPair();
    const closed = closedPromise(server);
    handleConnection(server, { identity: 'alice' }, layer, silentLog, { idleTimeoutMs: 30 });
    await closed;
    expect(server.destroyed).toBe(true);
  });

  it('closes a connection whose message does not complete in time', async () => {
    const { layer } = testServer();
    const [client, server] = duplexPair();
    const closed = closedPromise(server);
    handleConnection(server, { identity: 'alice' }, layer, silentLog, { messageTimeoutMs: 30 });
    client.write(discover(4).subarray(0, 20));
    await closed;
    expect(server.destroyed).toBe(true);
  });

  it('drain answers what was received, then ends the stream', async () => {
    const { layer } = testServer();
    const conn = connectPair(layer);
    conn.client.write(Buffer.concat([discover(1), discover(2)]));
    await new Promise((r) => setImmediate(r));
    const ended = new Promise<void>((r) => conn.client.once('end', () => r()));
    await conn.handle.drain();
    const responses = await conn.next(2);
    expect(responses).toHaveLength(2);
    await ended;
  });

  it('answers more pipelined requests than the read-ahead limit', async () => {
    const { layer } = testServer();
    const conn = connectPair(layer);
    const n = 100;
    const all = Array.from({ length: n }, (_, k) => discover(k % 5));
    conn.client.write(Buffer.concat(all));
    const responses = (await conn.next(n)).map(readResponse);
    expect(responses.map((r) => r.header.protocolVersion.minor)).toEqual(all.map((_, k) => k % 5));
  });
});
