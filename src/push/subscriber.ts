// One push subscriber: a bounded first-in first-out queue of messages and the one connection
// that delivers them, one at a time, each waiting for the subscriber's response, so messages
// arrive in the order the changes became durable. Nothing here ever waits on a client's
// request: enqueue() returns at once, a full queue drops the new message, an unreachable
// subscriber is retried with exponential backoff while the queue fills. Every drop is one log
// line with the subscriber, the unique identifier, the operation and the reason; a message's
// bytes (key material for a Put) are never logged, and are zeroed once delivered or dropped.
// Delivery is at least once: a message whose response was lost is sent again.

import type { Logger } from 'pino';
import { ResponseMessage } from '../kmip/messages.js';
import { decodeTtlv } from '../ttlv/binary.js';
import { ResultStatus, Tag } from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';
import type { PushMessage } from './messages.js';

export interface PushLimits {
  /** Messages waiting per subscriber; past it new messages are dropped (memory exhaustion). */
  maxQueued: number;
  /** Bytes waiting per subscriber; the same, for large objects. */
  maxQueuedBytes: number;
  /** TLS handshake with a subscriber (a subscriber that accepts and stalls). */
  connectTimeoutMs: number;
  /** A subscriber's response to one message (a subscriber that reads and never answers). */
  responseTimeoutMs: number;
  /** Largest response read from a subscriber (a hostile subscriber's huge answer). */
  maxResponseBytes: number;
  /** First wait after a failed delivery; doubled per failure up to retryMaxMs. */
  retryMinMs: number;
  retryMaxMs: number;
  /** At shutdown, time given to deliver what is queued before the rest is dropped. */
  drainMs: number;
}

export const DEFAULT_PUSH_LIMITS: Readonly<PushLimits> = Object.freeze({
  maxQueued: 1000,
  maxQueuedBytes: 16 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  responseTimeoutMs: 30_000,
  maxResponseBytes: 64 * 1024,
  retryMinMs: 1000,
  retryMaxMs: 60_000,
  drainMs: 5000,
});

/** A connection to a subscriber: sends one request frame, resolves with the response frame. */
export interface PushConnection {
  readonly usable: boolean;
  send(frame: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export type Connector = () => Promise<PushConnection>;

/**
 * Batch Error Continuation Option Undo can take back the changes of a whole batch after they
 * were stored: their messages wait in the queue, blocking those behind them, until the batch
 * ends and releases them (sent) or cancels them (never sent).
 */
export class Hold {
  state: 'held' | 'released' | 'cancelled' = 'held';
}

export interface QueuedMessage extends PushMessage {
  hold?: Hold;
}

export interface SubscriberOptions {
  /** HOST:PORT, for log lines. */
  name: string;
  connect: Connector;
  log: Logger;
  limits?: Partial<PushLimits>;
}

export class Subscriber {
  readonly name: string;
  private readonly limits: PushLimits;
  private readonly log: Logger;
  private readonly queue: QueuedMessage[] = [];
  private bytes = 0;
  private conn: PushConnection | undefined;
  private stopped = false;
  /** The last delivery attempt failed: the subscriber is down. */
  private failing = false;
  /** Ends an idle wait (a message arrived, a hold was settled, close). */
  private wake: (() => void) | undefined;
  /** Ends a backoff pause early (close only: new messages do not shorten it). */
  private interrupt: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(private readonly opts: SubscriberOptions) {
    this.name = opts.name;
    this.limits = { ...DEFAULT_PUSH_LIMITS, ...opts.limits };
    this.log = opts.log;
    this.loop = this.run().catch((err: unknown) => {
      this.log.error(
        { subscriber: this.name, error: (err as Error).name },
        'push: delivery to this subscriber stopped on an unexpected error',
      );
    });
  }

  /** Messages waiting, the one in flight included. */
  get queued(): number {
    return this.queue.length;
  }

  /** Takes the message, or drops it when the queue is full. Never waits. */
  enqueue(m: QueuedMessage): void {
    if (this.stopped) {
      this.drop(m, 'the server is stopping');
      return;
    }
    const { maxQueued, maxQueuedBytes } = this.limits;
    if (this.queue.length >= maxQueued || this.bytes + m.frame.length > maxQueuedBytes) {
      this.drop(m, `queue full (${maxQueued} messages or ${maxQueuedBytes} bytes)`);
      return;
    }
    this.queue.push(m);
    this.bytes += m.frame.length;
    this.poke();
  }

  /** Re-examines the head of the queue (a hold was settled). */
  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * Gives the queue up to limits.drainMs to empty (none when the subscriber is down), then stops: the message in flight fails,
   * what is left is dropped (one log line each), the connection closes.
   */
  async close(): Promise<void> {
    const deadline = Date.now() + this.limits.drainMs;
    while (this.deliverable() && !this.failing && Date.now() < deadline && !this.stopped) {
      await sleep(Math.min(50, deadline - Date.now()));
    }
    this.stopped = true;
    this.poke();
    this.interrupt?.();
    await this.conn?.close();
    await this.loop;
    // A connection the loop opened while closing.
    await this.dropConnection();
    for (const m of this.queue.splice(0)) {
      if (m.hold?.state !== 'cancelled') this.drop(m, 'the server stopped');
      else m.frame.fill(0);
    }
    this.bytes = 0;
  }

  private deliverable(): boolean {
    return this.queue.some((m) => m.hold === undefined || m.hold.state === 'released');
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const head = this.queue[0];
      if (head === undefined || head.hold?.state === 'held') {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      if (head.hold?.state === 'cancelled') {
        // Undone with its batch: the change never happened.
        this.shift();
        continue;
      }
      let refused: string | undefined;
      try {
        refused = await this.deliver(head.frame);
      } catch (err) {
        if (this.stopped) break;
        failures++;
        this.failing = true;
        await this.dropConnection();
        const delay = Math.min(
          this.limits.retryMaxMs,
          this.limits.retryMinMs * 2 ** Math.min(failures - 1, 30),
        );
        this.log.warn(
          {
            subscriber: this.name,
            uid: head.uid,
            operation: head.operation,
            attempt: failures,
            retryInMs: delay,
            error: (err as Error).message,
          },
          'push: subscriber unreachable, will retry',
        );
        await this.pause(delay);
        continue;
      }
      failures = 0;
      this.failing = false;
      if (refused !== undefined) {
        this.log.warn(
          { subscriber: this.name, uid: head.uid, operation: head.operation, reason: refused },
          'push: message dropped',
        );
      } else {
        this.log.debug(
          { subscriber: this.name, uid: head.uid, operation: head.operation },
          'push: delivered',
        );
      }
      this.shift();
    }
  }

  /** Undefined once the subscriber answered Success; otherwise why it refused. */
  private async deliver(frame: Buffer): Promise<string | undefined> {
    const reused = this.conn?.usable === true;
    let response: Buffer;
    try {
      response = await (await this.connection()).send(frame);
    } catch (err) {
      // A kept connection the subscriber closed while idle: one immediate fresh try.
      if (!reused || this.stopped) throw err;
      await this.dropConnection();
      response = await (await this.connection()).send(frame);
    }
    const refused = refusal(response);
    if (refused !== undefined) await this.dropConnection();
    return refused;
  }

  private async connection(): Promise<PushConnection> {
    if (this.conn?.usable !== true) this.conn = await this.opts.connect();
    return this.conn;
  }

  private async dropConnection(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    await c?.close().catch(() => {});
  }

  private shift(): void {
    const m = this.queue.shift();
    if (m === undefined) return;
    this.bytes -= m.frame.length;
    m.frame.fill(0);
  }

  private drop(m: QueuedMessage, reason: string): void {
    this.log.warn(
      { subscriber: this.name, uid: m.uid, operation: m.operation, reason },
      'push: message dropped',
    );
    m.frame.fill(0);
  }

  /** Waits `ms`, or less when the subscriber is closed meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.interrupt = undefined;
        resolve();
      }, ms);
      this.interrupt = () => {
        this.interrupt = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Why a subscriber's response is not a success; undefined when it is one. */
function refusal(frame: Buffer): string | undefined {
  let response: ResponseMessage;
  try {
    response = ResponseMessage.read(decodeTtlv(frame), '1.4');
  } catch {
    return 'the subscriber answered with a message that does not decode';
  }
  const item = response.batchItems[0];
  if (item === undefined) return 'the subscriber answered with no batch item';
  if (item.resultStatus === ResultStatus.Success) return undefined;
  const status = enumName(Tag.ResultStatus, item.resultStatus) ?? String(item.resultStatus);
  const reason =
    item.resultReason === undefined
      ? ''
      : ` ${enumName(Tag.ResultReason, item.resultReason) ?? item.resultReason}`;
  return `the subscriber answered ${status}${reason}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
