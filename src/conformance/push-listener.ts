// The runner's end of the server-to-client operations (KMIP 1.4 §5 Put and Notify): a mutual
// TLS listener the server under test pushes to, as a subscriber it was configured with. The
// server sends one request and waits for its response before the next, so an unanswered
// message holds back everything after it; the inbox therefore answers at once (with Success)
// whatever no step of the running case waits for:
// - outside a case that expects pushes, every message;
// - inside one, a message about another object than the awaited one, kept for a later step.
// The message a step waits for is handed to the runner, which compares it with the test file's
// request and answers with the file's response.

import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { childOf } from '../kmip/items.js';
import { ResponseMessage } from '../kmip/messages.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { FrameSplitter } from '../ttlv/frame-splitter.js';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { ResultStatus, Tag } from '../ttlv/spec/generated.js';
import { type KmipVersion, versionFrom } from '../ttlv/spec/index.js';

export interface PushListenerOptions {
  host: string;
  /** 0 lets the system choose. */
  port: number;
  /** The listener's server certificate and key (PEM), which the server under test verifies. */
  cert: Buffer;
  key: Buffer;
  /** CA the server's client certificate must chain to (PEM). */
  ca: Buffer;
  /** Largest message accepted from the server; default 1 MiB. */
  maxMessageBytes?: number;
}

/** One message the server pushed. */
export interface ReceivedPush {
  item: TtlvItem;
  operation: number | undefined;
  uid: string | undefined;
  /** Already answered with Success (it arrived while another object's message was awaited). */
  answered: boolean;
  reply(response: TtlvItem): void;
}

/** What the runner needs of a push listener (tests may supply their own). */
export interface PushInbox {
  /** A case expecting pushes starts: messages are held until taken or the case ends. */
  beginCase(): void;
  /** The case ended: everything held is answered with Success and forgotten. */
  endCase(): void;
  /** The first message about UID, waiting up to timeoutMs; undefined when none came. */
  take(uid: string, timeoutMs: number): Promise<ReceivedPush | undefined>;
}

/** Messages held at most while a case runs (a server pushing without end). */
const MAX_HELD = 1024;

export class PushListener implements PushInbox {
  private holding = false;
  private readonly inbox: ReceivedPush[] = [];
  private waiter: ((m: ReceivedPush) => boolean) | undefined;
  private readonly sockets = new Set<tls.TLSSocket>();
  /** Messages answered without a step taking them, since the listener started. */
  unclaimed = 0;

  private constructor(
    private readonly server: tls.Server,
    private readonly maxMessageBytes: number,
  ) {}

  static listen(opts: PushListenerOptions): Promise<PushListener> {
    const server = tls.createServer({
      cert: opts.cert,
      key: opts.key,
      ca: opts.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    const listener = new PushListener(server, opts.maxMessageBytes ?? 1024 * 1024);
    server.on('secureConnection', (socket) => listener.accept(socket));
    // A handshake that fails is the server's problem to report; the runner waits for messages.
    server.on('tlsClientError', () => {});
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve(listener);
      });
    });
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  beginCase(): void {
    this.holding = true;
  }

  endCase(): void {
    this.holding = false;
    this.waiter = undefined;
    for (const m of this.inbox.splice(0)) this.answerStray(m);
  }

  take(uid: string, timeoutMs: number): Promise<ReceivedPush | undefined> {
    const at = this.inbox.findIndex((m) => m.uid === uid);
    if (at >= 0) {
      // Earlier messages about other objects would hold back the server; answer them now.
      for (const m of this.inbox.slice(0, at)) this.answerStray(m, true);
      return Promise.resolve(this.inbox.splice(at, 1)[0]);
    }
    for (const m of this.inbox) this.answerStray(m, true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (m) => {
        if (m.uid !== uid) return false;
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(m);
        return true;
      };
    });
  }

  async close(): Promise<void> {
    this.endCase();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const splitter = new FrameSplitter({ maxMessageBytes: this.maxMessageBytes });
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      let items: TtlvItem[];
      try {
        frames = splitter.push(chunk);
        items = frames.map((f) => decodeTtlv(f));
      } catch {
        socket.destroy();
        return;
      }
      for (const item of items) this.receive(socket, item);
    });
  }

  private receive(socket: tls.TLSSocket, item: TtlvItem): void {
    const batch = childOf(item, Tag.BatchItem);
    const op = childOf(batch, Tag.Operation);
    const uid = childOf(childOf(batch, Tag.RequestPayload), Tag.UniqueIdentifier);
    let replied = false;
    const m: ReceivedPush = {
      item,
      operation: op?.type === ItemType.Enumeration ? op.value : undefined,
      uid: uid?.type === ItemType.TextString ? uid.value : undefined,
      answered: false,
      reply: (response) => {
        if (replied) return;
        replied = true;
        m.answered = true;
        if (!socket.destroyed) socket.write(encodeTtlv(response));
      },
    };
    if (!this.holding) {
      this.answerStray(m);
      return;
    }
    if (this.waiter?.(m) === true) return;
    if (this.inbox.length >= MAX_HELD) {
      socket.destroy();
      return;
    }
    if (this.waiter !== undefined) this.answerStray(m, true);
    else this.inbox.push(m);
  }

  /** Answers with Success; `keep` leaves it in the inbox for a later step. */
  private answerStray(m: ReceivedPush, keep = false): void {
    if (!m.answered) {
      this.unclaimed++;
      m.reply(successFor(m.item));
    }
    if (keep && !this.inbox.includes(m)) this.inbox.push(m);
  }
}

/** Response Message with one Success item for the request's operation, in its version. */
export function successFor(request: TtlvItem): TtlvItem {
  const pv = childOf(childOf(request, Tag.RequestHeader), Tag.ProtocolVersion);
  const major = childOf(pv, Tag.ProtocolVersionMajor);
  const minor = childOf(pv, Tag.ProtocolVersionMinor);
  const ma = major?.type === ItemType.Integer ? major.value : 1;
  const mi = minor?.type === ItemType.Integer ? minor.value : 4;
  const version: KmipVersion = versionFrom(ma, mi) ?? '1.4';
  const op = childOf(childOf(request, Tag.BatchItem), Tag.Operation);
  const response: ResponseMessage = {
    header: {
      protocolVersion: { major: ma, minor: mi },
      timeStamp: BigInt(Math.floor(Date.now() / 1000)),
      batchCount: 1,
    },
    batchItems: [
      {
        operation: op?.type === ItemType.Enumeration ? op.value : undefined,
        resultStatus: ResultStatus.Success,
        responsePayload: { tag: Tag.ResponsePayload, type: ItemType.Structure, value: [] },
      },
    ],
  };
  return ResponseMessage.write(Tag.ResponseMessage, response, version);
}
