// The audit log's line format. One JSON object per line, fields in a fixed order, so a line's
// bytes are a function of its content and can be hashed and chained:
//
//   {"seq":1,"type":"operation","time":"…","principal":"alice","operation":"Create",
//    "uid":"…","result":{"status":"Success"},"req":"…","prev":"<hex>","hash":"<hex>"}
//   {"seq":1001,"type":"checkpoint","time":"…","records":1000,"keyId":"…","prev":"<hex>",
//    "hash":"<hex>","sig":"<base64>"}
//
// `prev` is the SHA-256 of the whole previous line (without its newline; GENESIS for the first
// line); `hash` is the SHA-256 of the line up to `prev` inclusive, closed with `}`. A checkpoint's
// `sig` is an Ed25519 signature over CHECKPOINT_DOMAIN followed by its `hash`, which covers
// `prev` and so every line before it. Nothing here takes key material or credentials.

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** `prev` of the first line. */
export const GENESIS = '0'.repeat(64);
/** Signed before a checkpoint's hash so the signature cannot be replayed as anything else. */
export const CHECKPOINT_DOMAIN = 'kmipd audit checkpoint v1\n';

/** One operation as the message layer saw it. */
export interface AuditEvent {
  /** Client identity (certificate CN). */
  principal: string;
  /** Operation name; absent when the request message itself was rejected. */
  operation?: string;
  uid?: string;
  /** `Success`, or `OperationFailed` with the Result Reason name. */
  result: { status: string; reason?: string };
  /** Per-request correlation id, the `req` field of the pino lines of the same request. */
  req?: string;
}

/** Receives one event per operation. Must not throw and must not block for long. */
export interface AuditSink {
  record(event: AuditEvent): void;
  /** Writes a final checkpoint and releases the file. */
  close(): void;
}

export interface OperationLine extends AuditEvent {
  seq: number;
  type: 'operation';
  time: string;
  prev: string;
  hash: string;
}

export interface CheckpointLine {
  seq: number;
  type: 'checkpoint';
  time: string;
  /** Operation lines since the previous checkpoint (or since the server started). */
  records: number;
  keyId: string;
  prev: string;
  hash: string;
  sig: string;
}

export type AuditLine = OperationLine | CheckpointLine;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** First 16 hex digits of the SHA-256 of the public key (SPKI DER). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Serialises the body (everything but hash and sig) in the fixed field order. */
export function operationBody(seq: number, time: string, e: AuditEvent, prev: string): string {
  return JSON.stringify({
    seq,
    type: 'operation',
    time,
    principal: e.principal,
    operation: e.operation,
    uid: e.uid,
    result: e.result.reason === undefined ? { status: e.result.status } : e.result,
    req: e.req,
    prev,
  });
}

export function checkpointBody(
  seq: number,
  time: string,
  records: number,
  keyId: string,
  prev: string,
): string {
  return JSON.stringify({ seq, type: 'checkpoint', time, records, keyId, prev });
}

/** Closes a body with its hash (and signature); returns the line without its newline. */
export function sealLine(body: string, sig?: (hash: string) => string): string {
  const hash = sha256Hex(body);
  const tail = sig === undefined ? '' : `,"sig":"${sig(hash)}"`;
  return `${body.slice(0, -1)},"hash":"${hash}"${tail}}`;
}

const SEAL = /,"hash":"([0-9a-f]{64})"(?:,"sig":"([A-Za-z0-9+/=]+)")?\}$/;

/** Splits a line into its body and seal; undefined when the line has no seal. */
export function unsealLine(line: string): { body: string; hash: string; sig?: string } | undefined {
  const m = SEAL.exec(line);
  if (m === null) return undefined;
  return { body: `${line.slice(0, m.index)}}`, hash: m[1]!, sig: m[2] };
}
