// Runs conformance test cases against a KMIP server (KMIP Profiles 2.1 §4; FORMAT.md §5
// "Runner algorithm"). Each file runs on one new connection, its pairs in order, with the
// placeholder state of that file only; the first step that does not match fails the case.
// A pair whose request is a server-to-client operation (KMIP 1.4 §5 Put, Notify) is not sent:
// the runner waits for the server to push that request to its push listener
// (src/conformance/push-listener.ts), compares it with the file's request and answers with
// the file's response.

import { ConnectionError } from '../client/connection.js';
import { KmipError } from '../errors.js';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { formatTtlv } from '../ttlv/pretty.js';
import { Operation, ResultStatus, Tag } from '../ttlv/spec/generated.js';
import { type BatchContext, batchContextOf, Comparator, type Mismatch } from './compare.js';
import { childOf, childrenOf, loadCase, type Step, type TestCase } from './loader.js';
import { CaseState, HarnessError, sameValue } from './placeholders.js';
import type { PushInbox } from './push-listener.js';
import type { SkipList } from './skip-list.js';
import {
  type Channel,
  type Encoding,
  openChannel,
  type Transport,
  wireFormFor,
} from './transports.js';

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  id: string;
  path: string;
  profile: string;
  version: string;
  status: CaseStatus;
  /** Transport and encoding the case ran on, as `tls/ttlv`, `https/xml`... */
  wire?: string;
  /** Skip reason, or a one-line failure summary. */
  reason?: string;
  /** 0-based pair index of the failing step. */
  step?: number;
  /** Operations of the failing step's request. */
  operations?: string[];
  mismatch?: Mismatch;
  /** The failing step's whole response, as a readable tree. */
  response?: string;
  /** A failure of the test file or the runner, not of the server (FORMAT.md §5 step 3). */
  harness?: boolean;
  /** Pairs in the file, pairs run, and Interop/Log pairs skipped (Profiles §4.1.2). */
  pairs: number;
  pairsRun: number;
  pairsSkipped: number;
  waivers: string[];
  durationMs: number;
}

export interface ServerTarget {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  servername?: string | undefined;
}

export interface RunOptions {
  /** The server for `transport`: the KMIP port for 'tls', the HTTPS port for 'https'. */
  target: ServerTarget;
  /** Wire of the cases that do not name their own (transports.ts). Default 'tls'. */
  transport?: Transport;
  /** Message encoding of those cases; XML and JSON need the 'https' transport. Default 'ttlv'. */
  encoding?: Encoding;
  /**
   * The HTTPS port (POST /kmip) for the MSGENC-HTTPS/XML/JSON cases; default `target` when
   * `transport` is 'https'. Without either those cases are skipped.
   */
  httpsTarget?: ServerTarget;
  /** Skip Interop and Log pairs (Profiles §4.1.2 makes Interop optional). Default true. */
  skipInterop?: boolean;
  skipList?: SkipList;
  /**
   * Where the server pushes Put and Notify; without it the cases that expect them are
   * skipped. The server must be configured to push there (kmipd serve --push-to).
   */
  push?: PushInbox;
  /** Time allowed for each response, and for each expected Put or Notify. Default 30 s. */
  requestTimeoutMs?: number;
  onCaseStart?: (path: string, index: number) => void;
  onCaseDone?: (result: CaseResult, index: number) => void;
}

/** §4.1.2 variable behavior: Interop Begin/End are optional; Log is a test-harness aid. */
const SKIPPABLE_OPERATIONS = new Set<number>([Operation.Interop, Operation.Log]);

/** Operations whose response identifiers name objects the server generated (§4.1.1 item 7). */
const GENERATING = new Set<number>([
  Operation.Create,
  Operation.CreateKeyPair,
  Operation.ReKey,
  Operation.ReKeyKeyPair,
  Operation.DeriveKey,
  Operation.CreateSplitKey,
  Operation.JoinSplitKey,
  Operation.Certify,
  Operation.ReCertify,
]);

/** KMIP 1.4 §5: operations the server sends to the client. */
const SERVER_TO_CLIENT = new Set<number>([Operation.Put, Operation.Notify]);

/** Server outputs kept for request-first placeholders (FORMAT.md §5 step 5). */
const REUSED_OUTPUTS = new Set<number>([
  Tag.Data,
  Tag.IVCounterNonce,
  Tag.AuthenticatedEncryptionTag,
  Tag.MACData,
  Tag.SignatureData,
  Tag.CorrelationValue,
]);

/** Where a case runs and how its messages are encoded, or why it cannot run. */
function placeCase(
  id: string,
  opts: RunOptions,
): { target: ServerTarget; form: ReturnType<typeof wireFormFor> } | { skip: string } {
  const fallback = { transport: opts.transport ?? 'tls', encoding: opts.encoding ?? 'ttlv' };
  const form = wireFormFor(id, fallback);
  if (form === fallback) return { target: opts.target, form };
  const https = opts.httpsTarget ?? (fallback.transport === 'https' ? opts.target : undefined);
  if (https === undefined) {
    return { skip: `needs ${form.encoding.toUpperCase()} over HTTPS; give the HTTPS port` };
  }
  return { target: https, form };
}

export async function runCases(paths: readonly string[], opts: RunOptions): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const [i, path] of paths.entries()) {
    opts.onCaseStart?.(path, i);
    const result = await runFile(path, opts);
    results.push(result);
    opts.onCaseDone?.(result, i);
  }
  return results;
}

async function runFile(path: string, opts: RunOptions): Promise<CaseResult> {
  const started = Date.now();
  let tc: TestCase;
  try {
    tc = await loadCase(path);
  } catch (err) {
    const id = path.replace(/^.*\//, '').replace(/\.xml$/, '');
    return {
      id,
      path,
      profile: '?',
      version: '?',
      status: 'failed',
      harness: true,
      reason: `cannot load: ${(err as Error).message}`,
      pairs: 0,
      pairsRun: 0,
      pairsSkipped: 0,
      waivers: [],
      durationMs: Date.now() - started,
    };
  }
  return runCase(tc, opts);
}

export async function runCase(tc: TestCase, opts: RunOptions): Promise<CaseResult> {
  const started = Date.now();
  const result: CaseResult = {
    id: tc.id,
    path: tc.path,
    profile: tc.profile,
    version: tc.version,
    status: 'passed',
    pairs: tc.steps.length,
    pairsRun: 0,
    pairsSkipped: 0,
    waivers: tc.waivers,
    durationMs: 0,
  };
  const place = placeCase(tc.id, opts);
  const pushes = tc.steps.some(isServerToClient);
  const skip =
    opts.skipList?.reasonFor(tc.id) ??
    ('skip' in place ? place.skip : undefined) ??
    (pushes && opts.push === undefined
      ? 'expects Put or Notify from the server; give a push listener (--push-listen)'
      : undefined);
  if (skip !== undefined || 'skip' in place) {
    result.status = 'skipped';
    result.reason = skip;
    return result;
  }
  result.wire = `${place.form.transport}/${place.form.encoding}`;
  let conn: Channel | undefined;
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  if (pushes) opts.push?.beginCase();
  try {
    conn = await openChannel(place.form, place.target, timeoutMs);
    const state = new CaseState();
    for (const step of tc.steps) {
      if ((opts.skipInterop ?? true) && onlySkippable(step)) {
        result.pairsSkipped++;
        continue;
      }
      const failure =
        opts.push !== undefined && isServerToClient(step)
          ? await runPushStep(opts.push, state, step, timeoutMs)
          : await runStep(conn, state, step);
      result.pairsRun++;
      if (failure !== undefined) {
        Object.assign(result, failure, { status: 'failed', step: step.index });
        break;
      }
    }
  } catch (err) {
    result.status = 'failed';
    result.harness = err instanceof HarnessError;
    result.reason =
      err instanceof KmipError ? err.describe() : (err as Error).message.replace(/\s*\n\s*/g, ' ');
  } finally {
    if (pushes) opts.push?.endCase();
    await conn?.close();
  }
  result.durationMs = Date.now() - started;
  return result;
}

type StepFailure = Pick<
  CaseResult,
  'reason' | 'mismatch' | 'operations' | 'harness' | 'step' | 'response'
>;

async function runStep(
  conn: Channel,
  state: CaseState,
  step: Step,
): Promise<StepFailure | undefined> {
  const operations = operationsOf(step.request.item);
  const fail = (reason: string, extra: Partial<StepFailure> = {}): StepFailure => ({
    reason: `step ${step.index} (${operations.join(', ')}): ${reason}`,
    operations,
    ...extra,
  });
  let request: TtlvItem;
  try {
    // FORMAT.md §5 step 3: "now" is fixed once per step.
    request = state.materialise(step.request, BigInt(Math.floor(Date.now() / 1000)));
  } catch (err) {
    if (err instanceof HarnessError) return fail(err.message, { harness: true });
    throw err;
  }
  let actual: TtlvItem;
  try {
    actual = await conn.exchange(request);
  } catch (err) {
    if (err instanceof KmipError) return fail(`response does not decode: ${err.describe()}`);
    if (err instanceof ConnectionError) return fail(err.message);
    throw err;
  }
  const batches = batchContexts(state, request, actual);
  const comparator = new Comparator(state, step.response.marks);
  const mismatches = comparator.compareMessage(step.response.item, actual, batches);
  if (mismatches.length > 0) {
    const m = mismatches[0]!;
    return fail(`${m.path}: ${m.message}`, {
      mismatch: m,
      response: formatTtlv(actual, { revealKeyMaterial: true, maxBytes: 48 }),
    });
  }
  comparator.commit();
  rememberOutputs(state, actual);
  return undefined;
}

/**
 * A server-to-client pair: waits for the server's request about the object the file names,
 * compares it with the file's request (§6 rules; the server's request is the actual side) and
 * answers with the file's response.
 */
async function runPushStep(
  push: PushInbox,
  state: CaseState,
  step: Step,
  timeoutMs: number,
): Promise<StepFailure | undefined> {
  const operations = operationsOf(step.request.item);
  const fail = (reason: string, extra: Partial<StepFailure> = {}): StepFailure => ({
    reason: `step ${step.index} (${operations.join(', ')} from the server): ${reason}`,
    operations,
    ...extra,
  });
  const uid = expectedUid(state, step);
  if (uid === undefined) {
    return fail('the expected request names no known Unique Identifier', { harness: true });
  }
  const got = await push.take(uid, timeoutMs);
  if (got === undefined) return fail(`nothing about ${uid} arrived within ${timeoutMs} ms`);
  const batch = childOf(got.item, Tag.BatchItem);
  const payload = batch === undefined ? undefined : childOf(batch, Tag.RequestPayload);
  const batches = [batchContextOf(got.operation, payload, state.generatedIds.has(uid))];
  const comparator = new Comparator(state, step.request.marks);
  const mismatches = comparator.compareMessage(step.request.item, got.item, batches);
  if (!got.answered) {
    got.reply(
      state.materialise(step.response, BigInt(Math.floor(Date.now() / 1000)), { record: false }),
    );
  }
  if (mismatches.length > 0) {
    const m = mismatches[0]!;
    return fail(`${m.path}: ${m.message}`, {
      mismatch: m,
      response: formatTtlv(got.item, { revealKeyMaterial: true, maxBytes: 48 }),
    });
  }
  comparator.commit();
  return undefined;
}

/** The Unique Identifier the file's server-to-client request names, with its binding applied. */
function expectedUid(state: CaseState, step: Step): string | undefined {
  const batch = childOf(step.request.item, Tag.BatchItem);
  const payload = batch === undefined ? undefined : childOf(batch, Tag.RequestPayload);
  const uid = payload === undefined ? undefined : childOf(payload, Tag.UniqueIdentifier);
  if (uid?.type !== ItemType.TextString) return undefined;
  const p = step.request.marks.get(uid);
  if (p === undefined) return uid.value;
  const bound = state.bindings.get(p.text);
  return bound?.type === ItemType.TextString ? (bound.value as string) : undefined;
}

function isServerToClient(step: Step): boolean {
  const items = childrenOf(step.request.item, Tag.BatchItem);
  return (
    items.length > 0 &&
    items.every((b) => {
      const op = childOf(b, Tag.Operation);
      return op?.type === ItemType.Enumeration && SERVER_TO_CLIENT.has(op.value);
    })
  );
}

function onlySkippable(step: Step): boolean {
  const items = childrenOf(step.request.item, Tag.BatchItem);
  return (
    items.length > 0 &&
    items.every((b) => {
      const op = childOf(b, Tag.Operation);
      return op?.type === ItemType.Enumeration && SKIPPABLE_OPERATIONS.has(op.value);
    })
  );
}

function operationsOf(message: TtlvItem): string[] {
  return childrenOf(message, Tag.BatchItem).map((b) => {
    const op = childOf(b, Tag.Operation);
    if (op?.type !== ItemType.Enumeration) return '?';
    return (
      Object.entries(Operation).find(([, v]) => v === op.value)?.[0] ?? `0x${op.value.toString(16)}`
    );
  });
}

/**
 * One context per request batch item. The target of an item is its Unique Identifier, or
 * the ID Placeholder (the identifier returned last, KMIP 2.1 §6.1 ID Placeholder) when it has
 * none; the placeholder advances through the actual responses of the batch.
 */
function batchContexts(state: CaseState, request: TtlvItem, actual: TtlvItem): BatchContext[] {
  const responses = childrenOf(actual, Tag.BatchItem);
  let lastId = state.lastId;
  return childrenOf(request, Tag.BatchItem).map((item, i) => {
    const op = childOf(item, Tag.Operation);
    const operation = op?.type === ItemType.Enumeration ? op.value : undefined;
    const payload = childOf(item, Tag.RequestPayload);
    const uid = payload === undefined ? undefined : childOf(payload, Tag.UniqueIdentifier);
    const target = uid?.type === ItemType.TextString ? uid.value : lastId;
    const data = payload === undefined ? undefined : childOf(payload, Tag.Data);
    const lastData = state.lastOutputByTag.get(Tag.Data);
    const ctx = batchContextOf(
      operation,
      payload,
      target !== undefined && state.generatedIds.has(target),
      data?.type === ItemType.ByteString &&
        lastData !== undefined &&
        sameValue(lastData.value, data.value),
    );
    const response = responses[i];
    if (response !== undefined) {
      const status = childOf(response, Tag.ResultStatus);
      const out = childOf(response, Tag.ResponsePayload);
      const ids = out === undefined ? [] : returnedIds(out);
      if (ids.length > 0) lastId = ids[0];
      if (
        status?.type === ItemType.Enumeration &&
        status.value === ResultStatus.Success &&
        operation !== undefined &&
        GENERATING.has(operation)
      ) {
        for (const id of ids) state.generatedIds.add(id);
      }
    }
    state.lastId = lastId;
    return ctx;
  });
}

/**
 * Identifiers a response payload returns, the ID Placeholder candidate first. Create Split Key
 * returns one Unique Identifier per part, every one of them server-generated.
 */
function returnedIds(payload: TtlvItem): string[] {
  const ids: string[] = [];
  for (const tag of [
    Tag.UniqueIdentifier,
    Tag.PrivateKeyUniqueIdentifier,
    Tag.PublicKeyUniqueIdentifier,
  ]) {
    for (const it of childrenOf(payload, tag)) {
      if (it.type === ItemType.TextString) ids.push(it.value);
    }
  }
  return ids;
}

function rememberOutputs(state: CaseState, actual: TtlvItem): void {
  const walk = (it: TtlvItem): void => {
    if (it.type === ItemType.Structure) {
      for (const c of it.value) walk(c);
    } else if (REUSED_OUTPUTS.has(it.tag)) {
      state.lastOutputByTag.set(it.tag, { type: it.type, value: it.value });
    }
  };
  walk(actual);
}
