// Group commit for a synchronous SQLite connection. With synchronous=FULL every COMMIT costs
// an fsync of the WAL, and better-sqlite3 blocks the event loop for it, so one transaction
// per write caps a server at the disk's fsync rate. Writes queued within one event-loop turn
// (every request whose bytes arrived in the same poll phase) are instead applied in one
// transaction with one fsync, in arrival order, and each caller's promise settles only after
// that COMMIT returned: durable before the reply, as with one transaction per write.
//
// A batch first runs plainly, all writes in one transaction. Should any write throw (a
// duplicate uid), the transaction is rolled back and the batch runs again with each write
// inside its own SAVEPOINT, so the failing write is rolled back alone and fails only its own
// caller; the others commit. Savepoints are not the common path because each one makes
// SQLite copy every page already dirty in the transaction to a statement journal before it
// changes it. Writes are synchronous functions of the database, so running one again gives
// the result it would have had. Writes in a batch see the effects of the ones before them,
// exactly as if they had run serially. A failed COMMIT fails every write of the batch.
//
// Another process may hold the write lock (a second `kmipd serve --workers` worker, a backup).
// SQLite's busy handler would sleep on the event loop until it is free; BEGIN IMMEDIATE
// instead runs without one, and a busy database puts the batch back at the head of the queue
// for a retry 1 ms later, while the loop serves other requests and more writes join the batch.
// After `busyTimeoutMs` of retries the batch fails with SQLite's busy error.

import type { Database, Statement } from 'better-sqlite3';

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Milliseconds between attempts to take a write lock another connection holds. */
const BUSY_RETRY_MS = 1;

interface Outcome {
  p: Pending;
  ok: boolean;
  value: unknown;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** When the first attempt of the batch now waiting for the lock found it busy. */
  private busySince: number | undefined;
  private readonly sql: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo',
    Statement
  >;

  constructor(
    private readonly db: Database,
    private readonly busyTimeoutMs = 5000,
  ) {
    this.sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT w'),
      release: db.prepare('RELEASE w'),
      rollbackTo: db.prepare('ROLLBACK TO w'),
    };
  }

  /** Queues `work` (synchronous statements on the connection) for the next group commit. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      // setImmediate runs after the poll phase: every request read in this turn gets queued.
      if (this.retry === undefined) this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Writes queued and not yet committed. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Commits what is queued now. Before the connection closes (`wait`), a lock another process
   * holds is waited for on the spot, as SQLite's busy handler does, up to busyTimeoutMs.
   */
  flush(opts: { wait?: boolean } = {}): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.scheduled = undefined;
    this.retry = undefined;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    if (!opts.wait && !this.begin(batch)) return;
    if (opts.wait) {
      try {
        this.sql.begin.run();
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
    }
    this.busySince = undefined;
    if (!this.runPlain(batch)) this.runWithSavepoints(batch);
  }

  /**
   * BEGIN IMMEDIATE without waiting. False when the batch is not to run now: it failed, or the
   * lock is busy and the batch is queued again for a retry.
   */
  private begin(batch: Pending[]): boolean {
    // PRAGMA busy_timeout takes effect when prepared, so it cannot be a cached statement.
    this.db.pragma('busy_timeout = 0');
    try {
      this.sql.begin.run();
      return true;
    } catch (err) {
      const now = Date.now();
      this.busySince ??= now;
      if (!isBusy(err) || now - this.busySince >= this.busyTimeoutMs) {
        this.busySince = undefined;
        for (const p of batch) p.reject(err);
        return false;
      }
      this.queue = [...batch, ...this.queue];
      this.retry = setTimeout(() => this.flush(), BUSY_RETRY_MS);
      return false;
    } finally {
      this.db.pragma(`busy_timeout = ${Math.trunc(this.busyTimeoutMs)}`);
    }
  }

  /**
   * The batch in the transaction already begun, no savepoints; false (nothing settled, all
   * rolled back) when a write threw.
   */
  private runPlain(batch: Pending[]): boolean {
    const values: unknown[] = [];
    try {
      for (const p of batch) values.push(p.work());
    } catch {
      if (this.db.inTransaction) this.sql.rollback.run();
      return false;
    }
    try {
      this.sql.commit.run();
    } catch (err) {
      if (this.db.inTransaction) this.sql.rollback.run();
      for (const p of batch) p.reject(err);
      return true;
    }
    for (const [i, p] of batch.entries()) p.resolve(values[i]);
    return true;
  }

  private runWithSavepoints(batch: Pending[]): void {
    let done: Outcome[] = [];
    try {
      this.sql.begin.run();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) {
      try {
        this.sql.savepoint.run();
        const value = p.work();
        this.sql.release.run();
        done.push({ p, ok: true, value });
      } catch (err) {
        if (this.db.inTransaction) {
          this.sql.rollbackTo.run();
          this.sql.release.run();
          done.push({ p, ok: false, value: err });
          continue;
        }
        // SQLite rolled the whole transaction back (SQLITE_FULL, IOERR, BUSY): the writes
        // before this one are lost too, so they fail; the rest go on in a new transaction.
        for (const o of done) o.p.reject(o.ok ? err : o.value);
        p.reject(err);
        done = [];
        try {
          this.sql.begin.run();
        } catch (beginErr) {
          for (const q of batch.slice(batch.indexOf(p) + 1)) q.reject(beginErr);
          return;
        }
      }
    }
    try {
      this.sql.commit.run();
    } catch (err) {
      if (this.db.inTransaction) this.sql.rollback.run();
      for (const o of done) o.p.reject(err);
      return;
    }
    for (const o of done) {
      if (o.ok) o.p.resolve(o.value);
      else o.p.reject(o.value);
    }
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
