// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
// takes the WAL past 1,000 pages: it copies every page changed since the last one into the
// database file and fsyncs it, and better-sqlite3 runs it on the event loop, where every
// request waits for it. Here a worker thread with its own connection to the same file runs
// PASSIVE checkpoints instead (they never block a reader or the writer), and the server's
// connection has wal_autocheckpoint off. The thread checkpoints every CHECKPOINT_INTERVAL_MS;
// a page written many times in between is copied once.
//
// Should the thread fail, the server's connection turns automatic checkpoints back on: the WAL
// never grows without bound. On close the thread stops first; SQLite checkpoints the WAL when
// the last connection closes.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

/** Milliseconds between two PASSIVE checkpoints of the thread. */
export const CHECKPOINT_INTERVAL_MS = 250;

// Plain JavaScript run with eval: the thread needs no loader for TypeScript.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
db.pragma('wal_autocheckpoint = 0');
const timer = setInterval(() => {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointStats {
  /** Frames in the WAL at the last look. */
  log: number;
  /** Of those, frames already copied into the database file. */
  checkpointed: number;
  /** PASSIVE checkpoints the thread has run. */
  runs: number;
}

export class WalCheckpointer {
  private readonly worker: Worker;
  private failed = false;
  private readonly exited: Promise<void>;
  readonly stats: CheckpointStats = { log: 0, checkpointed: 0, runs: 0 };

  constructor(
    private readonly db: Database,
    file: string,
    opts: { intervalMs?: number } = {},
  ) {
    db.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(THREAD, {
      eval: true,
      workerData: {
        file,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        intervalMs: opts.intervalMs ?? CHECKPOINT_INTERVAL_MS,
      },
    });
    this.worker.unref();
    this.exited = new Promise((r) => this.worker.once('exit', () => r()));
    this.worker.on('message', (m: { log?: number; checkpointed?: number; error?: string }) => {
      if (m.error !== undefined) return this.fallBack();
      this.stats.log = m.log ?? 0;
      this.stats.checkpointed = m.checkpointed ?? 0;
      this.stats.runs += 1;
    });
    this.worker.on('error', () => this.fallBack());
    this.worker.on('exit', () => this.fallBack());
  }

  /** Automatic checkpoints on the server's connection again (the thread is gone or failing). */
  private fallBack(): void {
    if (this.failed) return;
    this.failed = true;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    void this.worker.terminate();
  }

  /** Stops the thread (before the server's connection closes). */
  async stop(): Promise<void> {
    this.failed = true;
    this.worker.postMessage('stop');
    await this.exited;
  }
}
