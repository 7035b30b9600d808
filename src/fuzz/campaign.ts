// Drives a fuzz campaign against a live kmipd over mutual TLS. Each worker opens a connection,
// pipelines a batch of whole frames (the server must answer every one, in order, with a
// Response Message), optionally ends the connection with bytes that break the framing (the
// server must then close it), and finally checks on a fresh connection that the server still
// answers Discover Versions. A process exit is a crash; a missing answer within the bound is a
// hang. The frames in flight when either happens are kept for replay.

import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { decodeTtlv } from '../ttlv/binary.js';
import { FrameSplitter } from '../ttlv/frame-splitter.js';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { Operation, ResultStatus, Tag } from '../ttlv/spec/index.js';
import { brokenFrame, type GeneratedFrame, generateFrame } from './generate.js';
import { type Corpus, mutateFixture } from './mutate.js';
import { encodeRaw } from './raw-ttlv.js';
import { Rng } from './rng.js';

export interface Target {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  servername?: string;
}

export interface CampaignOptions {
  target: Target;
  frames: number;
  seed: number;
  /** Workers, each with its own connection. Default 2. */
  connections?: number;
  corpus: Corpus;
  /** Frames pipelined on one connection before it is closed and the server probed. Default 500. */
  batch?: number;
  /** Share of connections that end with framing-breaking bytes. Default 0.3. */
  brokenShare?: number;
  /** Share of frames taken from the byte mutator rather than the generator. Default 0.5. */
  fixtureShare?: number;
  /** The server's message cap: bigger frames can only be sent as framing-breaking bytes. */
  maxMessageBytes?: number;
  /** Bound for a batch's answers and for the close after broken framing. Default 60 s. */
  hangMs?: number;
  /** Bound for the Discover Versions probe. Default 10 s. */
  probeTimeoutMs?: number;
  /** False once the server process has exited. */
  alive(): boolean;
  onProgress?(stats: CampaignStats): void;
}

export interface Finding {
  kind: 'crash' | 'hang' | 'unexpected-close' | 'bad-response';
  detail: string;
  /** Frames in flight when it happened (all workers' batches for a crash or hang). */
  frames: GeneratedFrame[];
}

export interface CampaignStats {
  frames: number;
  connections: number;
  probes: number;
  /** Connections the server closed after framing-breaking bytes. */
  serverCloses: number;
  findings: Finding[];
  elapsedMs: number;
}

const DISCOVER = encodeRaw({
  tag: Tag.RequestMessage,
  type: ItemType.Structure,
  value: [
    {
      tag: Tag.RequestHeader,
      type: ItemType.Structure,
      value: [
        {
          tag: Tag.ProtocolVersion,
          type: ItemType.Structure,
          value: [
            { tag: Tag.ProtocolVersionMajor, type: ItemType.Integer, value: int32(1) },
            { tag: Tag.ProtocolVersionMinor, type: ItemType.Integer, value: int32(4) },
          ],
        },
        { tag: Tag.BatchCount, type: ItemType.Integer, value: int32(1) },
      ],
    },
    {
      tag: Tag.BatchItem,
      type: ItemType.Structure,
      value: [
        {
          tag: Tag.Operation,
          type: ItemType.Enumeration,
          value: int32(Operation.DiscoverVersions),
        },
        { tag: Tag.RequestPayload, type: ItemType.Structure, value: [] },
      ],
    },
  ],
});

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

class Fatal extends Error {}

interface Session {
  socket: TLSSocket;
  responses: number;
  badResponse?: string;
  closed: Promise<void>;
  isClosed: boolean;
  /** Resolves when `responses` reaches `want` (or the socket closes). */
  waitFor(want: number): Promise<void>;
}

function open(target: Target, timeoutMs: number): Promise<Session> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: target.host,
      port: target.port,
      cert: target.cert,
      key: target.key,
      ca: target.ca,
      servername: target.servername ?? 'localhost',
      minVersion: 'TLSv1.2',
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.on('error', () => {});
      const splitter = new FrameSplitter({ maxMessageBytes: 64 * 1024 * 1024 });
      let want = Number.POSITIVE_INFINITY;
      let wake: () => void = () => {};
      const s: Session = {
        socket,
        responses: 0,
        isClosed: false,
        closed: new Promise<void>((r) =>
          socket.once('close', () => {
            s.isClosed = true;
            wake();
            r();
          }),
        ),
        waitFor(n) {
          want = n;
          if (s.responses >= want || s.isClosed) return Promise.resolve();
          return new Promise<void>((r) => {
            wake = r;
          });
        },
      };
      socket.on('data', (chunk: Buffer) => {
        let frames: Buffer[];
        try {
          frames = splitter.push(chunk);
        } catch (err) {
          s.badResponse = `response framing: ${(err as Error).message}`;
          socket.destroy();
          return;
        }
        for (const f of frames) {
          if (f.readUIntBE(0, 3) !== Tag.ResponseMessage && s.badResponse === undefined) {
            s.badResponse = `response ${s.responses + 1} is not a Response Message`;
          }
          s.responses++;
        }
        if (s.responses >= want) wake();
      });
      resolve(s);
    });
  });
}

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** True when the server answers Discover Versions with Success on a fresh connection. */
export async function probe(target: Target, timeoutMs: number): Promise<boolean> {
  let s: Session;
  try {
    s = await open(target, timeoutMs);
  } catch {
    return false;
  }
  try {
    const splitter = new FrameSplitter();
    const answer = new Promise<Buffer | undefined>((resolve) => {
      s.socket.removeAllListeners('data');
      s.socket.on('data', (c: Buffer) => {
        const [f] = splitter.push(c);
        if (f) resolve(f);
      });
      void s.closed.then(() => resolve(undefined));
    });
    s.socket.write(DISCOVER);
    const f = await within(answer, timeoutMs);
    if (f === 'timeout' || f === undefined) return false;
    return resultStatus(decodeTtlv(f)) === ResultStatus.Success;
  } catch {
    return false;
  } finally {
    s.socket.destroy();
  }
}

function resultStatus(item: TtlvItem): number | undefined {
  if (item.type !== ItemType.Structure) return undefined;
  for (const c of item.value) {
    if (c.tag === Tag.ResultStatus && c.type === ItemType.Enumeration) return c.value;
    const inner = resultStatus(c);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignStats> {
  const started = Date.now();
  const batch = opts.batch ?? 500;
  const hangMs = opts.hangMs ?? 60_000;
  const probeMs = opts.probeTimeoutMs ?? 10_000;
  const cap = opts.maxMessageBytes ?? 1024 * 1024;
  const stats: CampaignStats = {
    frames: 0,
    connections: 0,
    probes: 0,
    serverCloses: 0,
    findings: [],
    elapsedMs: 0,
  };
  const inFlight = new Map<number, GeneratedFrame[]>();
  let claimed = 0;
  let stop = false;
  let lastProgress = 0;

  const allInFlight = () => [...inFlight.values()].flat();
  const fatal = (kind: Finding['kind'], detail: string): never => {
    if (!stop) stats.findings.push({ kind, detail, frames: allInFlight() });
    stop = true;
    throw new Fatal(detail);
  };
  const checkAlive = (what: string) => {
    if (!opts.alive()) fatal('crash', `server process exited (${what})`);
  };

  const worker = async (id: number) => {
    const rng = new Rng((opts.seed + Math.imul(id, 0x9e3779b1)) >>> 0);
    while (!stop && claimed < opts.frames) {
      const n = Math.min(batch, opts.frames - claimed);
      claimed += n;
      const frames: GeneratedFrame[] = [];
      const oversize: GeneratedFrame[] = [];
      for (let i = 0; i < n; i++) {
        const g = rng.chance(opts.fixtureShare ?? 0.5)
          ? mutateFixture(rng, opts.corpus)
          : generateFrame(rng);
        (g.frame.length > cap ? oversize : frames).push(g);
      }
      let tail: GeneratedFrame | undefined = oversize[0];
      if (tail === undefined && rng.chance(opts.brokenShare ?? 0.3)) {
        tail = brokenFrame(rng, frames[0]?.frame ?? DISCOVER);
      }
      const sent = tail === undefined ? frames : [...frames, tail];
      inFlight.set(id, sent);

      let s: Session;
      try {
        s = await open(opts.target, probeMs);
      } catch (err) {
        checkAlive('connect');
        return fatal('hang', `cannot connect: ${(err as Error).message}`);
      }
      stats.connections++;
      s.socket.write(Buffer.concat(frames.map((f) => f.frame)));
      const r = await within(s.waitFor(frames.length), hangMs);
      if (s.responses < frames.length) {
        s.socket.destroy();
        checkAlive('answering a batch');
        if (r === 'timeout') {
          fatal('hang', `${s.responses} of ${frames.length} answers within ${hangMs} ms`);
        }
        fatal('unexpected-close', `closed after ${s.responses} of ${frames.length} answers`);
      }
      if (s.badResponse !== undefined) fatal('bad-response', s.badResponse);
      if (tail !== undefined) {
        s.socket.write(tail.frame);
        s.socket.end();
        const c = await within(s.closed, hangMs);
        s.socket.destroy();
        checkAlive(`after ${tail.kind}`);
        if (c === 'timeout') fatal('hang', `not closed ${hangMs} ms after ${tail.kind}`);
        stats.serverCloses++;
      } else {
        s.socket.end();
        await within(s.closed, probeMs);
        s.socket.destroy();
      }
      stats.frames += sent.length;

      stats.probes++;
      if (!(await probe(opts.target, probeMs))) {
        checkAlive('probe');
        fatal('hang', `no Discover Versions answer within ${probeMs} ms`);
      }
      inFlight.delete(id);
      const now = Date.now();
      if (opts.onProgress && now - lastProgress > 1000) {
        lastProgress = now;
        opts.onProgress({ ...stats, elapsedMs: now - started });
      }
    }
  };

  const workers = Array.from({ length: opts.connections ?? 2 }, (_, i) =>
    worker(i).catch((err: unknown) => {
      if (!(err instanceof Fatal)) {
        stop = true;
        stats.findings.push({
          kind: 'hang',
          detail: `fuzzer error: ${(err as Error).message}`,
          frames: allInFlight(),
        });
      }
    }),
  );
  await Promise.all(workers);
  stats.elapsedMs = Date.now() - started;
  return stats;
}
