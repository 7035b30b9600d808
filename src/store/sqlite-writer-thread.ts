// A thread that runs the SQLite store's writes (sqlite-writer.ts) on a connection of its
// own. better-sqlite3 is synchronous: on the event loop, every group COMMIT blocks the server
// for the statements and the WAL fsync, while requests wait to be parsed and answered. Here
// the server posts each write and goes on; the thread commits them in groups, and the next
// group forms while an fsync runs. WAL readers (the store's own connection) see a write as
// soon as it has committed, so a reply sent after the write's promise settled is followed
// by reads that see it.
//
// A write's promise settles after its COMMIT, exactly as on the event loop: durable before
// the reply. Errors come back with their KMIP Result Reason or SQLite code. Should the thread
// die, every write in flight and every later one fails with General Failure.

import { Worker } from 'node:worker_threads';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import type { StoredObject } from './object-store.js';
import type { SqliteWrites } from './sqlite-writer.js';

export interface WriterSetup {
  file: string;
  busyTimeoutMs: number;
}

/** A write the store asks of the thread. */
type Write =
  | { op: 'insert'; obj: StoredObject }
  | { op: 'insertBatch'; objs: readonly StoredObject[] }
  | { op: 'update' | 'replace'; obj: StoredObject; expectedRevision: number }
  | { op: 'remove'; uid: string }
  | { op: 'putSetting'; name: string; value: Buffer | undefined };

export type WriterRequest = { id: number } & (Write | { op: 'close' });

/** What crosses the thread boundary of an error: KMIP reason or SQLite code, and the text. */
export interface SerializedError {
  message: string;
  reason?: number;
  code?: string;
}

/** Id 0 answers the start: 'ready' or why the thread could not open the database. */
export type WriterReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof KmipError) return { message: err.message, reason: err.reason };
  const e = err as { message?: unknown; code?: unknown } | undefined;
  return {
    message: typeof e?.message === 'string' ? e.message : String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
  };
}

function reviveError(e: SerializedError): Error {
  if (e.reason !== undefined) return new KmipError(e.reason, e.message);
  return Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code });
}

const BOOT = new URL('./sqlite-writer-boot.mjs', import.meta.url);

/**
 * A copy of BYTES in an ArrayBuffer of its own, listed in TRANSFER. Posting a Buffer as it is
 * would copy its whole backing store, and small Buffers share Node's 8 KiB pool with whatever
 * else the process allocated there: only the object's own bytes may reach the thread.
 */
function own(bytes: Uint8Array, transfer: ArrayBuffer[]): Uint8Array {
  const copy = new Uint8Array(bytes);
  transfer.push(copy.buffer);
  return copy;
}

export function wire(obj: StoredObject, transfer: ArrayBuffer[]): StoredObject {
  const m = obj.material;
  return {
    ...obj,
    attributes: own(obj.attributes, transfer) as Buffer,
    material: m === null ? null : { ...m, blob: own(m.blob, transfer) as Buffer },
  };
}

export class WriterThread implements SqliteWrites {
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  private nextId = 1;
  /** Set once the thread is gone: later writes fail with it. */
  private stopped: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WriterReply) => this.settle(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`exited with code ${code}`)));
    worker.unref();
  }

  /** Starts the thread and waits until its connection is open. */
  static start(setup: WriterSetup): Promise<WriterThread> {
    const worker = new Worker(BOOT, { workerData: setup });
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`writer thread exited (${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (m: WriterReply) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (m.ok) {
          resolve(new WriterThread(worker));
        } else {
          reject(reviveError(m.error));
          void worker.terminate();
        }
      });
    });
  }

  insert(obj: StoredObject): Promise<void> {
    const t: ArrayBuffer[] = [];
    return this.send({ op: 'insert', obj: wire(obj, t) }, t) as Promise<void>;
  }

  insertBatch(objs: readonly StoredObject[]): Promise<void> {
    const t: ArrayBuffer[] = [];
    return this.send({ op: 'insertBatch', objs: objs.map((o) => wire(o, t)) }, t) as Promise<void>;
  }

  update(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    const t: ArrayBuffer[] = [];
    return this.send({ op: 'update', obj: wire(obj, t), expectedRevision }, t) as Promise<boolean>;
  }

  replace(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    const t: ArrayBuffer[] = [];
    return this.send({ op: 'replace', obj: wire(obj, t), expectedRevision }, t) as Promise<boolean>;
  }

  remove(uid: string): Promise<boolean> {
    return this.send({ op: 'remove', uid }) as Promise<boolean>;
  }

  putSetting(name: string, value: Buffer | undefined): Promise<void> {
    const t: ArrayBuffer[] = [];
    const bytes = value === undefined ? undefined : (own(value, t) as Buffer);
    return this.send({ op: 'putSetting', name, value: bytes }, t) as Promise<void>;
  }

  /** Commits what the thread has, closes its connection and ends it. */
  async close(): Promise<void> {
    if (this.stopped !== undefined) return;
    const done = this.request({ op: 'close' });
    this.stopped = new KmipError(ResultReason.GeneralFailure, 'object store is closed');
    try {
      await done;
    } finally {
      await this.worker.terminate();
    }
  }

  /** TRANSFER: the ArrayBuffers of WRITE's own byte copies, moved rather than copied. */
  private send(write: Write, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped);
    return this.request(write, transfer);
  }

  private request(body: Write | { op: 'close' }, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Referenced only while a write is in flight: an idle store never holds the process.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...body }, transfer);
    });
  }

  private settle(m: WriterReply): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.ok) p.resolve(m.value);
    else p.reject(reviveError(m.error));
  }

  private fail(cause: Error): void {
    this.stopped ??= new KmipError(
      ResultReason.GeneralFailure,
      `object store writer thread stopped: ${cause.message}`,
    );
    for (const p of this.pending.values()) p.reject(this.stopped);
    this.pending.clear();
  }
}
