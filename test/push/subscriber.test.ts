// The push queue of one subscriber (src/push/subscriber.ts), with an in-memory connection:
// delivery order, the bounds, retry with backoff, refusals, Undo holds, shutdown, and that no
// message byte (key material) reaches a log line and every delivered or dropped frame is zeroed.

import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { successFor } from '../../src/conformance/push-listener.js';
import { item } from '../../src/kmip/items.js';
import { ResponseMessage } from '../../src/kmip/messages.js';
import {
  type Connector,
  Hold,
  type PushConnection,
  type PushLimits,
  type QueuedMessage,
  Subscriber,
} from '../../src/push/subscriber.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { Operation, ResultReason, ResultStatus, Tag } from '../../src/ttlv/spec/generated.js';
import { requestBytes } from '../helpers/kmip-test-client.js';

/** Bytes no log line may contain, in any of the forms a logger might print them. */
const KEY = Buffer.from('6b3a9c0f1e2d4c5b6a79887766554433', 'hex');

function message(uid: string, operation: 'Put' | 'Notify' = 'Put'): QueuedMessage {
  const frame = requestBytes('1.4', [
    {
      operation: operation === 'Put' ? Operation.Put : Operation.Notify,
      payload: [item.text(Tag.UniqueIdentifier, uid), item.bytes(Tag.KeyMaterial, KEY)],
    },
  ]);
  return { uid, operation, frame };
}

function uidOf(frame: Buffer): string {
  const text = frame.toString('latin1');
  return /uid-\d+/.exec(text)?.[0] ?? '?';
}

interface Fake {
  connect: Connector;
  delivered: string[];
  connects: number;
  /** Next connect attempts that fail. */
  failConnects: number;
  /** Answer of the subscriber to a frame; default Success. */
  answer: (frame: Buffer) => Buffer;
  /** When set, send() waits for it before answering. */
  gate?: Promise<void>;
}

function fake(): Fake {
  const f: Fake = {
    delivered: [],
    connects: 0,
    failConnects: 0,
    answer: (frame) => encodeTtlv(successFor(decodeTtlv(frame))),
    connect: async () => {
      f.connects++;
      if (f.failConnects > 0) {
        f.failConnects--;
        throw new Error('cannot connect to 127.0.0.1:1: connect ECONNREFUSED');
      }
      let usable = true;
      let closed: (err: Error) => void = () => {};
      const onClose = new Promise<never>((_, reject) => {
        closed = reject;
      });
      onClose.catch(() => {});
      const conn: PushConnection = {
        get usable() {
          return usable;
        },
        async send(frame) {
          // Like KmipConnection: closing fails the request in flight.
          if (f.gate !== undefined) await Promise.race([f.gate, onClose]);
          f.delivered.push(uidOf(frame));
          return f.answer(frame);
        },
        async close() {
          usable = false;
          closed(new Error('connection closed by the client'));
        },
      };
      return conn;
    },
  };
  return f;
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        raw += chunk.toString('utf8');
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    }),
  );
  return { log, lines, raw: () => raw };
}

function subscriber(f: Fake, log: pino.Logger, limits: Partial<PushLimits> = {}) {
  return new Subscriber({
    name: '127.0.0.1:1',
    connect: f.connect,
    log,
    limits: { retryMinMs: 5, retryMaxMs: 20, drainMs: 2000, ...limits },
  });
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function failure(frame: Buffer): Buffer {
  const ok = ResponseMessage.read(successFor(decodeTtlv(frame)), '1.4');
  ok.batchItems[0]!.resultStatus = ResultStatus.OperationFailed;
  ok.batchItems[0]!.resultReason = ResultReason.PermissionDenied;
  return encodeTtlv(ResponseMessage.write(Tag.ResponseMessage, ok, '1.4'));
}

function expectNoKeyMaterial(raw: string): void {
  for (const form of [
    KEY.toString('hex'),
    KEY.toString('hex').toUpperCase(),
    KEY.toString('base64'),
  ]) {
    expect(raw).not.toContain(form);
  }
}

describe('push subscriber queue', () => {
  it('delivers in the order enqueued, one at a time, on one connection', async () => {
    const f = fake();
    const { log } = capture();
    const s = subscriber(f, log);
    for (let i = 1; i <= 20; i++) s.enqueue(message(`uid-${i}`));
    await until(() => f.delivered.length === 20);
    expect(f.delivered).toEqual(Array.from({ length: 20 }, (_, i) => `uid-${i + 1}`));
    expect(f.connects).toBe(1);
    await s.close();
  });

  it('drops a new message when the queue is full, naming uid and reason, never the bytes', async () => {
    const f = fake();
    let open: () => void = () => {};
    f.gate = new Promise((r) => {
      open = r;
    });
    const { log, lines, raw } = capture();
    const s = subscriber(f, log, { maxQueued: 3 });
    const frames = [1, 2, 3, 4, 5].map((i) => message(`uid-${i}`));
    for (const m of frames) s.enqueue(m);
    const drops = lines.filter((l) => l.msg === 'push: message dropped');
    expect(drops.map((l) => l.uid)).toEqual(['uid-4', 'uid-5']);
    expect(drops[0]).toMatchObject({ subscriber: '127.0.0.1:1', operation: 'Put' });
    expect(String(drops[0]!.reason)).toMatch(/queue full/);
    open();
    await until(() => f.delivered.length === 3);
    expect(f.delivered).toEqual(['uid-1', 'uid-2', 'uid-3']);
    await s.close();
    // Delivered and dropped frames alike are zeroed.
    for (const m of frames) expect(m.frame.every((b) => b === 0)).toBe(true);
    expectNoKeyMaterial(raw());
  });

  it('bounds the queued bytes too', async () => {
    const f = fake();
    f.gate = new Promise(() => {});
    const { log, lines } = capture();
    const one = message('uid-1').frame.length;
    const s = subscriber(f, log, { maxQueuedBytes: one * 2, drainMs: 10 });
    for (let i = 1; i <= 3; i++) s.enqueue(message(`uid-${i}`));
    expect(lines.filter((l) => l.msg === 'push: message dropped').map((l) => l.uid)).toEqual([
      'uid-3',
    ]);
    expect(s.queued).toBe(2);
    await s.close();
    expect(lines.filter((l) => l.reason === 'the server stopped').map((l) => l.uid)).toEqual([
      'uid-1',
      'uid-2',
    ]);
  });

  it('retries an unreachable subscriber with growing waits, then delivers in order', async () => {
    const f = fake();
    f.failConnects = 3;
    const { log, lines, raw } = capture();
    const s = subscriber(f, log, { retryMinMs: 10, retryMaxMs: 25 });
    s.enqueue(message('uid-1'));
    s.enqueue(message('uid-2'));
    await until(() => f.delivered.length === 2);
    expect(f.delivered).toEqual(['uid-1', 'uid-2']);
    const retries = lines.filter((l) => l.msg === 'push: subscriber unreachable, will retry');
    expect(retries.map((l) => [l.uid, l.attempt, l.retryInMs])).toEqual([
      ['uid-1', 1, 10],
      ['uid-1', 2, 20],
      ['uid-1', 3, 25],
    ]);
    expect(String(retries[0]!.error)).toMatch(/ECONNREFUSED/);
    await s.close();
    expectNoKeyMaterial(raw());
  });

  it('drops a message the subscriber refuses and goes on with the next', async () => {
    const f = fake();
    const ok = f.answer;
    f.answer = (frame) => (uidOf(frame) === 'uid-1' ? failure(frame) : ok(frame));
    const { log, lines } = capture();
    const s = subscriber(f, log);
    s.enqueue(message('uid-1'));
    s.enqueue(message('uid-2'));
    await until(() => f.delivered.length === 2);
    const drop = lines.find((l) => l.msg === 'push: message dropped');
    expect(drop).toMatchObject({ uid: 'uid-1', operation: 'Put' });
    expect(String(drop!.reason)).toBe('the subscriber answered OperationFailed PermissionDenied');
    expect(lines.some((l) => l.msg === 'push: delivered' && l.uid === 'uid-2')).toBe(true);
    await s.close();
  });

  it('holds the messages of an Undo batch: sent once released, never when cancelled', async () => {
    const f = fake();
    const { log } = capture();
    const s = subscriber(f, log);
    const kept = new Hold();
    const undone = new Hold();
    s.enqueue({ ...message('uid-1'), hold: kept });
    s.enqueue({ ...message('uid-2'), hold: undone });
    s.enqueue(message('uid-3'));
    await new Promise((r) => setTimeout(r, 50));
    // Nothing passes a held message: later changes stay behind it.
    expect(f.delivered).toEqual([]);
    undone.state = 'cancelled';
    kept.state = 'released';
    s.poke();
    await until(() => f.delivered.length === 2);
    expect(f.delivered).toEqual(['uid-1', 'uid-3']);
    await s.close();
  });

  it('reconnects at once when a kept connection was closed by the subscriber', async () => {
    const f = fake();
    const { log, lines } = capture();
    const s = subscriber(f, log, { retryMinMs: 10_000 });
    s.enqueue(message('uid-1'));
    await until(() => f.delivered.length === 1);
    const base = f.answer;
    let once = true;
    f.answer = (frame) => {
      if (once) {
        once = false;
        throw new Error('connection closed by the server');
      }
      return base(frame);
    };
    s.enqueue(message('uid-2'));
    await until(() => f.delivered.length === 3, 1000);
    expect(f.delivered).toEqual(['uid-1', 'uid-2', 'uid-2']);
    expect(f.connects).toBe(2);
    expect(lines.some((l) => l.msg === 'push: subscriber unreachable, will retry')).toBe(false);
    await s.close();
  });

  it('at close drops what a down subscriber did not get, one line each, without waiting', async () => {
    const f = fake();
    f.failConnects = 1000;
    const { log, lines, raw } = capture();
    const s = subscriber(f, log, { retryMinMs: 60_000, retryMaxMs: 60_000, drainMs: 10_000 });
    s.enqueue(message('uid-1'));
    s.enqueue(message('uid-2'));
    await until(() => lines.some((l) => l.msg === 'push: subscriber unreachable, will retry'));
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(1000);
    const drops = lines.filter((l) => l.msg === 'push: message dropped');
    expect(drops.map((l) => [l.uid, l.reason])).toEqual([
      ['uid-1', 'the server stopped'],
      ['uid-2', 'the server stopped'],
    ]);
    s.enqueue(message('uid-3'));
    expect(lines.at(-1)).toMatchObject({ uid: 'uid-3', reason: 'the server is stopping' });
    expectNoKeyMaterial(raw());
  });
});
