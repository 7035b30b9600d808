// Checks an audit log: every line whole, canonical and sealed with its own hash; every `prev`
// the hash of the line before (GENESIS first); sequence numbers 1, 2, 3, …; every checkpoint
// signed by the audit key; and, unless the log is still being written, a checkpoint last. The
// first line that breaks a rule is reported with the reason. Files are read as a stream, one
// line at a time, so a log of any size is checked in constant memory.

import { type KeyObject, verify as verifySignature } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  type AuditLine,
  CHECKPOINT_DOMAIN,
  GENESIS,
  keyIdOf,
  sha256Hex,
  unsealLine,
} from './record.js';

export interface VerifyOptions {
  /** Ed25519 public key of the server; without it checkpoint signatures are not checked. */
  publicKey?: KeyObject;
  /**
   * The log is still being written (a running server): records after the last checkpoint
   * are accepted. Otherwise the log must end with a checkpoint, so lines cut from its end show.
   */
  live?: boolean;
}

export interface VerifyResult {
  ok: boolean;
  /** Whole lines read. */
  lines: number;
  records: number;
  checkpoints: number;
  /** Operation records after the last checkpoint, not yet covered by a signature. */
  unsigned: number;
  signaturesChecked: boolean;
  /** The first bad line (1-based) and why; only when !ok. */
  bad?: { line: number; reason: string };
}

/**
 * A line longer than this is not an audit record. Stops a damaged or hostile file (one line of
 * gigabytes) from exhausting the verifier's memory. Records are a few hundred bytes.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/** Feeds lines one at a time; stops at the first bad one. */
export class AuditVerifier {
  private prev = GENESIS;
  private readonly keyId: string | undefined;
  private readonly state: VerifyResult;

  constructor(private readonly opts: VerifyOptions = {}) {
    this.keyId = opts.publicKey === undefined ? undefined : keyIdOf(opts.publicKey);
    this.state = {
      ok: true,
      lines: 0,
      records: 0,
      checkpoints: 0,
      unsigned: 0,
      signaturesChecked: opts.publicKey !== undefined,
    };
  }

  get failed(): boolean {
    return !this.state.ok;
  }

  /** Checks the next whole line (without its newline). */
  line(line: string): void {
    if (!this.state.ok) return;
    const n = this.state.lines + 1;
    const reason = this.check(line, n);
    if (reason !== undefined) {
      this.fail(n, reason);
      return;
    }
    this.state.lines = n;
    this.prev = sha256Hex(line);
  }

  /** Ends the log; `partial` is text after the last newline ('' when the log ends whole). */
  end(partial: string): VerifyResult {
    const s = this.state;
    if (!s.ok) return s;
    if (partial !== '') {
      this.fail(s.lines + 1, 'incomplete last line (the file was truncated)');
    } else if (!this.opts.live && s.lines === 0) {
      this.fail(1, 'the log is empty');
    } else if (!this.opts.live && s.unsigned > 0) {
      this.fail(
        s.lines,
        'the log does not end with a checkpoint (lines may have been cut from its end; ' +
          'use --live for a log still being written)',
      );
    }
    return s;
  }

  private fail(line: number, reason: string): void {
    this.state.ok = false;
    this.state.bad = { line, reason };
  }

  private check(line: string, n: number): string | undefined {
    if (line.length > MAX_LINE_BYTES) return `longer than ${MAX_LINE_BYTES} bytes`;
    const sealed = unsealLine(line);
    if (sealed === undefined) return 'not an audit record (no hash)';
    let parsed: AuditLine;
    try {
      parsed = JSON.parse(line) as AuditLine;
      if (JSON.stringify(JSON.parse(sealed.body)) !== sealed.body) {
        return 'not in canonical form (the line was edited)';
      }
    } catch {
      return 'not valid JSON';
    }
    if (sha256Hex(sealed.body) !== sealed.hash) {
      return 'its hash does not match its content (the record was edited)';
    }
    if (parsed.prev !== this.prev) {
      return n === 1
        ? 'the first line does not start the chain (lines were removed from the start)'
        : `prev is not the hash of line ${n - 1} (a record was edited, removed, inserted or reordered)`;
    }
    if (parsed.seq !== n) return `sequence number ${String(parsed.seq)} where ${n} belongs`;
    if (parsed.type === 'checkpoint') {
      if (sealed.sig === undefined) return 'checkpoint without a signature';
      const key = this.opts.publicKey;
      if (key !== undefined) {
        if (parsed.keyId !== this.keyId) {
          return `checkpoint signed by key ${String(parsed.keyId)}, not by the given key ${this.keyId}`;
        }
        const message = Buffer.from(CHECKPOINT_DOMAIN + sealed.hash);
        if (!verifySignature(null, message, key, Buffer.from(sealed.sig, 'base64'))) {
          return 'bad checkpoint signature (the checkpoint was forged or altered)';
        }
      }
      this.state.checkpoints += 1;
      this.state.unsigned = 0;
      return undefined;
    }
    if (parsed.type === 'operation') {
      if (sealed.sig !== undefined) return 'an operation record with a signature';
      this.state.records += 1;
      this.state.unsigned += 1;
      return undefined;
    }
    return `unknown record type ${JSON.stringify((parsed as { type?: unknown }).type)}`;
  }
}

export function verifyAuditLog(text: string, opts: VerifyOptions = {}): VerifyResult {
  const v = new AuditVerifier(opts);
  const lines = text.split('\n');
  const partial = lines.pop()!;
  for (const line of lines) {
    v.line(line);
    if (v.failed) break;
  }
  return v.end(partial);
}

export async function verifyAuditFile(
  path: string,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const v = new AuditVerifier(opts);
  let partial = '';
  const stream = createReadStream(path, { encoding: 'utf8' });
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) v.line(line);
    if (v.failed) {
      stream.destroy();
      break;
    }
    if (partial.length > MAX_LINE_BYTES) {
      v.line(partial);
      stream.destroy();
      break;
    }
  }
  return v.end(v.failed ? '' : partial);
}
