// The append-only audit file. Each record is one synchronous write(2) on a descriptor opened
// with O_APPEND, so records never interleave and a record is in the file (page cache) before
// the response that it describes is sent. Every `checkpointEvery` records, and on close, a
// signed checkpoint is appended and the file is fsync'ed.
//
// Writes happen on the event loop on purpose: the hash chain needs a strict order, and one
// write of a few hundred bytes costs microseconds. A write that fails is logged (without the
// record) and counted; the server keeps serving (fail-open; see SECURITY.md).

import { type KeyObject, sign } from 'node:crypto';
import { closeSync, fstatSync, fsync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import {
  type AuditEvent,
  type AuditSink,
  CHECKPOINT_DOMAIN,
  checkpointBody,
  GENESIS,
  keyIdOf,
  operationBody,
  sealLine,
  sha256Hex,
} from './record.js';

/**
 * Records between signed checkpoints. Bounds how many records an attacker who can write the
 * file could remove from the end without a missing signature showing it. Default 1000.
 */
export const DEFAULT_CHECKPOINT_EVERY = 1000;

/**
 * How far back from the end of an existing file the last line is looked for on open. A line
 * is a few hundred bytes; a longer tail means the file is not an audit log (or is damaged),
 * and reading it whole could take the server's memory.
 */
const MAX_TAIL_BYTES = 1 << 20;

export interface AuditFileOptions {
  path: string;
  /** Ed25519 private key that signs checkpoints. */
  signingKey: KeyObject;
  checkpointEvery?: number;
  log: Logger;
  /** Clock, for tests. */
  now?: () => Date;
}

export class AuditFileLog implements AuditSink {
  private fd: number | undefined;
  private seq: number;
  private prev: string;
  private sinceCheckpoint = 0;
  private failures = 0;
  /** Checkpoint fsyncs running in the thread pool. */
  private syncing = 0;
  /** close() was called while a checkpoint fsync ran: the last one closes the descriptor. */
  private closeWhenSynced = false;
  private readonly keyId: string;
  private readonly every: number;
  private readonly now: () => Date;

  private constructor(
    private readonly opts: AuditFileOptions,
    fd: number,
    tail: { seq: number; prev: string },
  ) {
    this.fd = fd;
    this.seq = tail.seq;
    this.prev = tail.prev;
    this.keyId = keyIdOf(opts.signingKey);
    this.every = opts.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    this.now = opts.now ?? (() => new Date());
  }

  /** Opens (or creates, mode 0600) the file and continues the chain from its last line. */
  static open(opts: AuditFileOptions): AuditFileLog {
    if (opts.signingKey.asymmetricKeyType !== 'ed25519' || opts.signingKey.type !== 'private') {
      throw new Error('the audit signing key must be an Ed25519 private key');
    }
    const fd = openSync(opts.path, 'a+', 0o600);
    try {
      const tail = readTail(fd);
      if (tail.incomplete) {
        // A write cut short (a crash or a full disk). The chain continues from the last whole
        // line; `kmip audit verify` reports the broken one.
        writeSync(fd, '\n');
        opts.log.warn(
          { path: opts.path },
          'audit log ended with an incomplete line; appending after it',
        );
      }
      return new AuditFileLog(opts, fd, tail);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  record(event: AuditEvent): void {
    const body = operationBody(this.seq + 1, this.now().toISOString(), event, this.prev);
    if (!this.append(sealLine(body))) return;
    this.sinceCheckpoint += 1;
    if (this.sinceCheckpoint >= this.every) this.checkpoint();
  }

  /**
   * Appends a signed checkpoint over everything so far and forces the file to disk: in the
   * thread pool while serving (the event loop goes on; the next records queue behind the
   * checkpoint in the file either way), on the spot when closing.
   */
  checkpoint(opts: { wait?: boolean } = {}): void {
    const body = checkpointBody(
      this.seq + 1,
      this.now().toISOString(),
      this.sinceCheckpoint,
      this.keyId,
      this.prev,
    );
    const line = sealLine(body, (hash) =>
      sign(null, Buffer.from(CHECKPOINT_DOMAIN + hash), this.opts.signingKey).toString('base64'),
    );
    if (!this.append(line)) return;
    this.sinceCheckpoint = 0;
    const fd = this.fd!;
    if (!opts.wait) {
      this.syncing += 1;
      fsync(fd, (err) => {
        this.syncing -= 1;
        if (err) this.failed(err);
        if (this.syncing === 0 && this.closeWhenSynced) this.closeFd();
      });
      return;
    }
    try {
      fsyncSync(fd);
    } catch (err) {
      this.failed(err);
    }
  }

  close(): void {
    if (this.fd === undefined || this.closeWhenSynced) return;
    if (this.sinceCheckpoint > 0 || this.seq === 0) this.checkpoint({ wait: true });
    // A background fsync still holds the descriptor: it closes it when done.
    if (this.syncing > 0) this.closeWhenSynced = true;
    else this.closeFd();
  }

  private closeFd(): void {
    closeSync(this.fd!);
    this.fd = undefined;
    this.closeWhenSynced = false;
  }

  /** Write failures since open. */
  get writeFailures(): number {
    return this.failures;
  }

  private append(line: string): boolean {
    if (this.fd === undefined || this.closeWhenSynced) return false;
    try {
      const bytes = Buffer.from(`${line}\n`);
      const n = writeSync(this.fd, bytes);
      if (n !== bytes.length) throw new Error(`short write (${n} of ${bytes.length} bytes)`);
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.seq += 1;
    this.prev = sha256Hex(line);
    return true;
  }

  private failed(err: unknown): void {
    this.failures += 1;
    this.opts.log.error(
      { path: this.opts.path, code: (err as NodeJS.ErrnoException).code, failures: this.failures },
      'audit log write failed',
    );
  }
}

/** The sequence number and hash of the last whole line of an open audit file. */
function readTail(fd: number): { seq: number; prev: string; incomplete: boolean } {
  const size = fstatSync(fd).size;
  if (size === 0) return { seq: 0, prev: GENESIS, incomplete: false };
  const len = Math.min(size, MAX_TAIL_BYTES);
  const buf = Buffer.alloc(len);
  readSync(fd, buf, 0, len, size - len);
  let text = buf.toString('utf8');
  const incomplete = !text.endsWith('\n');
  if (incomplete) text = text.slice(0, text.lastIndexOf('\n') + 1);
  const lines = text.split('\n');
  lines.pop();
  // The first line of a partial read may itself be partial; it is only used when it is whole.
  const last = lines.length > (len < size ? 1 : 0) ? lines[lines.length - 1] : undefined;
  if (last === undefined) {
    if (size <= MAX_TAIL_BYTES && text === '') return { seq: 0, prev: GENESIS, incomplete };
    throw new Error('the audit log has no whole line near its end; it is not a kmipd audit log');
  }
  let seq: unknown;
  try {
    seq = (JSON.parse(last) as { seq?: unknown }).seq;
  } catch {
    seq = undefined;
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new Error('the last line of the audit log is not an audit record');
  }
  return { seq, prev: sha256Hex(last), incomplete };
}
