// `kmipd serve --workers N`: N server processes on one port, so that a busy server uses more
// than one core. The primary process holds no store and serves nothing itself: it starts the
// workers one after another (the first one creates the data directory, KEK, PKI and schema
// alone), hands each the keys they must share, relays login-ticket changes between them,
// replaces a worker that dies, stops them all on SIGTERM or SIGINT, and passes SIGHUP (reload
// the TLS files) on to each.
//
// Node's cluster module shares the listening sockets: the primary accepts each connection and
// passes it to the workers in turn, and a connection stays with its worker. What the workers
// share, and what each keeps to itself:
// - the store: SQLite (one file in WAL mode; a group commit that finds another worker's write
//   lock retries instead of blocking, src/store/group-commit.ts) or PostgreSQL;
// - TLS session ticket keys and the login-ticket key, made by the primary and sent over the
//   IPC channel (never the environment or the command line), so any worker resumes a session
//   or accepts a ticket that another issued;
// - Logout, ticket Request Counts and ticket key changes, relayed by the primary: a worker
//   learns of another's within the IPC round trip (well under a millisecond on one machine),
//   and a worker that replaces a dead one starts with all of them;
// - per worker: its audit file (worker 1 the configured one, worker N beside it with the suffix
//   .wN, each its own hash chain and checkpoints), its admin port (admin-port + N - 1 when
//   one is given), its share of the connection caps (the cap divided by N, rounded up), and
//   crypto streams, which continue only on connections to the worker that started them.

import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { TicketBook, type TicketEvent, useSharedTickets } from '../auth/tickets.js';
import { useSharedSessionTicketKeys } from './tls-server.js';

/** The most workers `--workers` accepts. */
export const MAX_WORKERS = 64;
/** A primary whose workers die more often than this within a minute stops them all. */
export const MAX_RESTARTS_PER_MINUTE = 5;

type ToWorker =
  | {
      kmipd: 'setup';
      index: number;
      workers: number;
      sessionKeys: string;
      ticketKey: string;
      /** Logouts and Request Count uses so far, for a worker that replaces a dead one. */
      tickets: TicketEvent[];
    }
  | { kmipd: 'ticket'; event: TicketEvent };

type ToPrimary =
  | { kmipd: 'hello' }
  | { kmipd: 'ready'; port: number; httpsPort?: number; adminPort?: number }
  | { kmipd: 'ticket'; event: TicketEvent };

export interface WorkerSetup {
  /** 1 to workers. */
  index: number;
  workers: number;
}

/** True in a process the primary of `kmipd serve --workers` started. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/**
 * Waits for the primary's setup message, installs the shared keys and starts relaying ticket
 * changes. Call before the server starts.
 */
export function joinCluster(): Promise<WorkerSetup> {
  return new Promise((resolve) => {
    const onMessage = (m: ToWorker) => {
      if (m?.kmipd !== 'setup') return;
      process.off('message', onMessage);
      useSharedSessionTicketKeys(Buffer.from(m.sessionKeys, 'hex'));
      const book = useSharedTickets(Buffer.from(m.ticketKey, 'hex'));
      for (const e of m.tickets) book.apply(e);
      book.onEvent = (event) => send({ kmipd: 'ticket', event });
      process.on('message', (t: ToWorker) => {
        if (t?.kmipd === 'ticket') book.apply(t.event);
      });
      resolve({ index: m.index, workers: m.workers });
    };
    process.on('message', onMessage);
    // Messages sent before a listener exists are lost, so the worker asks once it listens.
    send({ kmipd: 'hello' });
  });
}

/** Tells the primary this worker is listening. */
export function announceWorkerReady(ports: {
  port: number;
  httpsPort?: number;
  adminPort?: number;
}): void {
  send({ kmipd: 'ready', ...ports });
}

function send(m: ToPrimary): void {
  if (process.connected) process.send?.(m);
}

/** A worker's audit file: worker 1 writes the configured one, worker N `<file>.wN`. */
export function workerAuditPath(path: string, setup: WorkerSetup): string {
  return setup.index === 1 ? path : `${path}.w${setup.index}`;
}

/** A worker's share of a cap on connections. */
export function workerShare(cap: number, setup: WorkerSetup): number {
  return Math.ceil(cap / setup.workers);
}

/**
 * Runs the primary: starts `workers` workers (this script with the same arguments), logs
 * 'listening' once all are, and returns the exit code once they have all stopped.
 */
export function runPrimary(workers: number, log: Logger): Promise<number> {
  const sessionKeys = randomBytes(48).toString('hex');
  // The primary's copy of every worker's ticket changes, handed to a worker that starts later.
  const tickets = new TicketBook(undefined, randomBytes(32));
  const byIndex = new Map<number, Worker>();
  const restarts: number[] = [];
  let stopping = false;
  let exitCode = 0;
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => {
    done = r;
  });

  const start = (index: number): Promise<ToPrimary & { kmipd: 'ready' }> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      byIndex.set(index, worker);
      let listening = false;
      worker.on('message', (m: ToPrimary) => {
        if (m?.kmipd === 'hello') {
          const { key: ticketKey, events } = tickets.snapshot(Math.floor(Date.now() / 1000));
          const setup: ToWorker = {
            kmipd: 'setup',
            index,
            workers,
            sessionKeys,
            ticketKey,
            tickets: events,
          };
          worker.send(setup);
        } else if (m?.kmipd === 'ready') {
          listening = true;
          resolve(m);
        } else if (m?.kmipd === 'ticket') {
          tickets.apply(m.event);
          for (const [i, other] of byIndex) {
            if (i !== index && other.isConnected()) other.send(m as ToWorker);
          }
        }
      });
      worker.on('exit', (code, signal) => {
        if (byIndex.get(index) === worker) byIndex.delete(index);
        if (stopping || !listening) {
          if (code !== 0) exitCode = 1;
          if (stopping && byIndex.size === 0) done(exitCode);
          // A worker that never listened failed on its configuration: no replacement.
          reject(new Error(`worker ${index} exited before listening (code ${code}, ${signal})`));
          return;
        }
        replace(index, code, signal);
      });
    });

  const replace = (index: number, code: number | null, signal: string | null) => {
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
    if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
      log.fatal(
        { worker: index, code, signal, restarts: restarts.length },
        'workers keep dying: stopping the server',
      );
      exitCode = 1;
      stop('restart limit');
      return;
    }
    log.error({ worker: index, code, signal }, 'worker exited: starting a replacement');
    start(index).catch((err: Error) => log.error({ worker: index, err: err.message }, 'restart'));
  };

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: every worker finishes its requests in flight');
    if (byIndex.size === 0) done(exitCode);
    for (const w of byIndex.values()) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Each worker reloads its own TLS files (and logs the outcome).
  process.on('SIGHUP', () => {
    log.info({ workers: byIndex.size }, 'SIGHUP: every worker reloads its TLS files');
    for (const w of byIndex.values()) w.process.kill('SIGHUP');
  });

  void (async () => {
    try {
      // One after another: the first creates what the data directory lacks.
      let first: (ToPrimary & { kmipd: 'ready' }) | undefined;
      for (let i = 1; i <= workers && !stopping; i++) {
        const ready = await start(i);
        first ??= ready;
      }
      if (first !== undefined && !stopping) {
        log.info(
          {
            port: first.port,
            httpsPort: first.httpsPort,
            workers,
            pids: [...byIndex.values()].map((w) => w.process.pid),
          },
          'listening',
        );
      }
    } catch (err) {
      log.fatal({ err: (err as Error).message }, 'a worker failed to start');
      exitCode = 1;
      stop('startup failure');
    }
  })();
  return finished;
}
