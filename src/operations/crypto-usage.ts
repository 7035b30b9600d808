// What the cryptographic service operations share: whether a key may be used now (state, dates,
// usage mask, usage limits), the Cryptographic Parameters in effect, and streamed requests
// (Correlation Value, Init Indicator, Final Indicator; KMIP 2.1 §6.1.20 and §6.1.51).

import { randomBytes } from 'node:crypto';
import { KmipError } from '../errors.js';
import {
  type CryptographicParameters,
  effectiveParameters,
  parametersFromAttribute,
} from '../kmip/cryptographic-parameters.js';
import { childOf, dateOf, item, numberOf } from '../kmip/items.js';
import { requireKeyValue } from '../objects/key-value.js';
import { stateName } from '../objects/lifecycle.js';
import { attr, type ManagedObject, setAttr, wrongState } from '../objects/managed-object.js';
import { loadObject, saveObject } from '../objects/repository.js';
import type { ObjectStore } from '../store/object-store.js';
import { ItemType, type StructureItem } from '../ttlv/item.js';
import { ResultReason, State, Tag, UsageLimitsUnit } from '../ttlv/spec/generated.js';
import { enumValueExistsIn, type KmipVersion, maskNames } from '../ttlv/spec/index.js';
import type { OperationContext } from './context.js';

/**
 * Protecting (Encrypt, Sign, MAC) needs an Active key before its Protect Stop Date; processing
 * (Decrypt, Signature Verify, MAC Verify) is also allowed for Deactivated and Compromised keys,
 * from the Process Start Date on (KMIP 2.1 §4.57 State, §4.46 Process Start Date, §4.48 Protect
 * Stop Date). CS-BC-M-14 and CS-AC-M-8 expect the version's wrong-state reason for the dates.
 */
export type KeyUse = 'protect' | 'process';

const ALLOWED_STATES: Record<KeyUse, readonly number[]> = {
  protect: [State.Active],
  process: [State.Active, State.Deactivated, State.Compromised],
};

export interface UsableKey {
  mo: ManagedObject;
  object: StructureItem;
  params: CryptographicParameters;
  /** From the parameters, else the Key Block, else the Cryptographic Algorithm attribute. */
  algorithm: number | undefined;
  /** Every algorithm named for the key, in that order (a MAC key may say AES in its block). */
  algorithms: number[];
}

export async function usableKey(
  ctx: OperationContext,
  uid: string,
  use: KeyUse,
  maskBit: number,
  requested: CryptographicParameters | undefined,
): Promise<UsableKey> {
  const mo = await loadObject(ctx, uid, { material: true });
  const action = maskNames(Tag.CryptographicUsageMask, maskBit).names[0] ?? 'use';
  if (!ALLOWED_STATES[use].includes(mo.state) || mo.object === null) {
    throw wrongState(ctx.version, `cannot ${action} with a key in state ${stateName(mo.state)}`);
  }
  requireKeyValue(ctx.version, uid, mo.object, action);
  if (use === 'protect') {
    const stop = dateOf(attr(mo, 'ProtectStopDate'));
    if (stop !== undefined && ctx.now > stop) {
      throw wrongState(ctx.version, `the key's Protect Stop Date has passed`);
    }
  } else {
    const start = dateOf(attr(mo, 'ProcessStartDate'));
    if (start !== undefined && ctx.now < start) {
      throw wrongState(ctx.version, `the key's Process Start Date has not come`);
    }
  }
  const mask = numberOf(attr(mo, 'CryptographicUsageMask'));
  if (mask !== undefined && (mask & maskBit) === 0) {
    throw new KmipError(
      versionReason(
        ctx.version,
        ResultReason.IncompatibleCryptographicUsageMask,
        ResultReason.PermissionDenied,
      ),
      `the key's Cryptographic Usage Mask does not allow ${action}`,
    );
  }
  const params = effectiveParameters(
    requested,
    parametersFromAttribute(attr(mo, 'CryptographicParameters')),
  );
  const algorithms = [
    params.cryptographicAlgorithm,
    numberOf(childOf(childOf(mo.object, Tag.KeyBlock), Tag.CryptographicAlgorithm)),
    numberOf(attr(mo, 'CryptographicAlgorithm')),
  ].filter((a): a is number => a !== undefined);
  return { mo, object: mo.object, params, algorithm: algorithms[0], algorithms };
}

/** A Result Reason added in KMIP 2.0, or its 1.x stand-in. */
export function versionReason(version: KmipVersion, reason: number, before: number): number {
  return enumValueExistsIn(Tag.ResultReason, reason, version) ? reason : before;
}

/**
 * Usage Limits (KMIP 2.1 §4.61, KMIP 1.4 §3.21) count protecting uses only. The remaining Usage
 * Limits Count starts at the Total and is stored after each use; a use it cannot cover is
 * refused with Permission Denied (CS-BC-M-7).
 */
export async function consumeUsage(
  ctx: OperationContext,
  mo: ManagedObject,
  dataBytes: number,
): Promise<void> {
  const limits = attr(mo, 'UsageLimits');
  if (limits === undefined || limits.type !== ItemType.Structure) return;
  const total = childOf(limits, Tag.UsageLimitsTotal);
  const count = childOf(limits, Tag.UsageLimitsCount);
  const unit = numberOf(childOf(limits, Tag.UsageLimitsUnit));
  const remaining =
    count?.type === ItemType.LongInteger
      ? count.value
      : total?.type === ItemType.LongInteger
        ? total.value
        : undefined;
  if (remaining === undefined) return;
  const amount = unit === UsageLimitsUnit.Object ? 1n : BigInt(dataBytes);
  if (amount > remaining) {
    throw new KmipError(ResultReason.PermissionDenied, 'the key has reached its Usage Limits');
  }
  setAttr(
    mo,
    item.struct(Tag.UsageLimits, [
      ...(total === undefined ? [] : [total]),
      item.long(Tag.UsageLimitsCount, remaining - amount),
      ...(unit === undefined ? [] : [item.enum(Tag.UsageLimitsUnit, unit)]),
    ]),
  );
  await saveObject(ctx, mo);
}

// ---------------------------------------------------------------------------------------------
// Streams

/** An idle stream is dropped after this long, so abandoned streams do not hold keys. */
const STREAM_IDLE_MS = 5 * 60_000;
/** Open streams per server: stops a client exhausting memory by opening streams it never ends. */
const MAX_STREAMS = 1024;

interface Stream {
  owner: string;
  operation: number;
  uid: string | undefined;
  expires: number;
  state: unknown;
}

class StreamTable {
  private readonly streams = new Map<string, Stream>();

  open(s: Omit<Stream, 'expires'>): Buffer {
    const now = Date.now();
    if (this.streams.size >= MAX_STREAMS) {
      for (const [k, v] of this.streams) if (v.expires <= now) this.streams.delete(k);
    }
    if (this.streams.size >= MAX_STREAMS) {
      throw new KmipError(ResultReason.GeneralFailure, 'too many open streams; finish some first');
    }
    const correlation = randomBytes(16);
    this.streams.set(correlation.toString('hex'), { ...s, expires: now + STREAM_IDLE_MS });
    return correlation;
  }

  /** The stream of this correlation value if it belongs to this caller and operation. */
  find(correlation: Uint8Array, owner: string, operation: number): Stream | undefined {
    const key = Buffer.from(correlation).toString('hex');
    const s = this.streams.get(key);
    if (s === undefined || s.owner !== owner || s.operation !== operation) return undefined;
    if (s.expires <= Date.now()) {
      this.streams.delete(key);
      return undefined;
    }
    s.expires = Date.now() + STREAM_IDLE_MS;
    return s;
  }

  close(correlation: Uint8Array): void {
    this.streams.delete(Buffer.from(correlation).toString('hex'));
  }
}

/** One table per server: a server is identified by its store, shared by all its connections. */
const TABLES = new WeakMap<ObjectStore, StreamTable>();

function tableOf(ctx: OperationContext): StreamTable {
  let t = TABLES.get(ctx.store);
  if (t === undefined) {
    t = new StreamTable();
    TABLES.set(ctx.store, t);
  }
  return t;
}

export interface StreamFields {
  correlationValue?: Uint8Array;
  initIndicator?: boolean;
  finalIndicator?: boolean;
}

export interface StreamStep<S> {
  state: S;
  /** True when this request opened the state (a single request or the first of a stream). */
  first: boolean;
  /** True when the result is final: a single request or the last of a stream. */
  last: boolean;
  /** True when the request is part of a stream. */
  streamed: boolean;
  /** The value to answer with while the stream stays open. */
  correlationValue?: Buffer;
}

function invalidCorrelation(version: KmipVersion): KmipError {
  return new KmipError(
    versionReason(version, ResultReason.InvalidCorrelationValue, ResultReason.InvalidField),
    'unknown or expired Correlation Value',
  );
}

/** The UID of the stream a request continues, when the request names none. */
export function streamUid(ctx: OperationContext, operation: number, f: StreamFields) {
  if (f.correlationValue === undefined) return undefined;
  return tableOf(ctx).find(f.correlationValue, ctx.identity, operation)?.uid;
}

/** Refuses the streaming fields for an operation or key that is not streamed. */
export function noStreaming(req: { initIndicator?: boolean; correlationValue?: Uint8Array }) {
  if (req.initIndicator === true || req.correlationValue !== undefined) {
    throw new KmipError(ResultReason.FeatureNotSupported, 'streamed requests need a symmetric key');
  }
}

/**
 * Resolves a request to its processing state: a new one for a single request or the start of a
 * stream, the stored one for a continuation. The stream is closed on its final request; the
 * caller closes it too when a step fails (`abort`).
 */
export function streamStep<S>(
  ctx: OperationContext,
  operation: number,
  uid: string | undefined,
  f: StreamFields,
  start: () => S,
): StreamStep<S> & { abort(): void } {
  const table = tableOf(ctx);
  const last = f.finalIndicator === true;
  if (f.correlationValue !== undefined) {
    const cv = f.correlationValue;
    const s = table.find(cv, ctx.identity, operation);
    if (s === undefined || (uid !== undefined && s.uid !== undefined && s.uid !== uid)) {
      throw invalidCorrelation(ctx.version);
    }
    if (last) table.close(cv);
    return {
      state: s.state as S,
      first: false,
      last,
      streamed: true,
      ...(last ? {} : { correlationValue: Buffer.from(cv) }),
      abort: () => table.close(cv),
    };
  }
  const state = start();
  if (f.initIndicator !== true || last) {
    return { state, first: true, last: true, streamed: f.initIndicator === true, abort() {} };
  }
  const correlationValue = table.open({ owner: ctx.identity, operation, uid, state });
  return {
    state,
    first: true,
    last: false,
    streamed: true,
    correlationValue,
    abort: () => table.close(correlationValue),
  };
}

/** Streamed steps answer Data only when there is some; a single request always answers it. */
export function streamedOutput(step: { streamed: boolean }, out: Buffer): Buffer | undefined {
  return step.streamed && out.length === 0 ? undefined : out;
}
