// The message layer (KMIP 2.1 §8, §9; KMIP 1.4 §7): header, protocol version, batch loop,
// correlation values, ID Placeholder, Batch Error Continuation Option, Maximum Response Size.
// Every failure becomes a failed batch item; a message that cannot be read gets an Invalid
// Message response. Nothing thrown below escapes process() but an injected connection drop.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditSink } from '../audit/record.js';
import { type RequestAuth, setRequestAuth, type TypePolicies } from '../auth/access.js';
import {
  checkRights,
  headerTicket,
  processTickets,
  type TicketBook,
  type TicketClaims,
} from '../auth/tickets.js';
import type { CertificateAuthority } from '../crypto/ca.js';
import type { KeyWrapper } from '../crypto/key-wrapper.js';
import { KmipError, resultReasonName } from '../errors.js';
import {
  type RequestBatchItem,
  RequestMessage,
  type ResponseBatchItem,
  ResponseMessage,
  UsernamePassword,
  type UsernamePassword as UsernamePasswordType,
} from '../kmip/messages.js';
import type { OperationContext } from '../operations/context.js';
import { GRANT_OPERATIONS } from '../operations/grant.js';
import { OPERATIONS } from '../operations/index.js';
import type { PushService } from '../push/service.js';
import type { ObjectStore } from '../store/object-store.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import type { DecodeLimits } from '../ttlv/limits.js';
import {
  BatchErrorContinuationOption,
  CredentialType,
  ResultReason,
  ResultStatus,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumName, KMIP_VERSIONS, type KmipVersion, versionFrom } from '../ttlv/spec/index.js';
import type { OperationHooks } from './faults.js';

export interface MessageLayerOptions {
  store: ObjectStore;
  wrapper: KeyWrapper;
  log: Logger;
  /** Identities that may see and manage every object. Default none. */
  admins?: readonly string[];
  /**
   * Checks a username/password credential from the request header. Default: not checked, the
   * client certificate decides. When set, a request without a valid credential fails.
   */
  verifyCredential?: (username: string, password: string | undefined) => boolean;
  limits?: Partial<DecodeLimits>;
  /** Tamper-evident audit file; absent: the pino audit line only. */
  audit?: AuditSink;
  /** Run around every batch item (metrics, injected faults); absent costs nothing. */
  hooks?: OperationHooks;
  /** Unique Identifiers for new objects; default random UUIDs. */
  newUid?: () => string;
  /** Login tickets (KMIP 2.0+); default the process's own ticket book. */
  tickets?: TicketBook;
  /** The CA Certify and Re-certify sign with; default none (Feature Not Supported). */
  ca?: CertificateAuthority;
  /** Operations everyone may run on objects of a type (src/auth/access.ts); default none. */
  typePolicies?: TypePolicies;
  /** Most identifiers one Locate answers; default DEFAULT_MAX_LOCATE_ITEMS (1,000). */
  maxLocateItems?: number;
  /** Put and Notify to subscribers for every durable change (src/push); default off. */
  push?: PushService;
}

export interface Peer {
  /** Identity from the client certificate (the mapped principal with an identity map). */
  identity: string;
  /** Groups from the identity map; default none. */
  groups?: readonly string[];
}

const HIGHEST: KmipVersion = KMIP_VERSIONS[KMIP_VERSIONS.length - 1]!;
const EMPTY_PAYLOAD: TtlvItem = { tag: Tag.RequestPayload, type: ItemType.Structure, value: [] };

export class MessageLayer {
  private readonly admins: ReadonlySet<string>;

  constructor(private readonly opts: MessageLayerOptions) {
    this.admins = new Set(opts.admins ?? []);
  }

  /** Answers one request frame with one response frame. Never throws. */
  async process(frame: Buffer, peer: Peer): Promise<Buffer> {
    const now = BigInt(Math.floor(Date.now() / 1000));
    const log = this.opts.log.child({ req: randomUUID(), identity: peer.identity });
    let request: RequestMessage;
    let version: KmipVersion;
    try {
      const tree = decodeTtlv(frame, this.opts.limits);
      if (tree.tag !== Tag.RequestMessage) {
        throw new KmipError(ResultReason.InvalidMessage, 'not a Request Message');
      }
      request = RequestMessage.read(tree, HIGHEST);
      const pv = request.header.protocolVersion;
      const v = versionFrom(pv.major, pv.minor);
      if (v === undefined) {
        log.info({ major: pv.major, minor: pv.minor }, 'unsupported protocol version');
        return this.messageFailure(
          HIGHEST,
          now,
          new KmipError(
            ResultReason.InvalidMessage,
            `protocol version ${pv.major}.${pv.minor} is not supported; supported: ${KMIP_VERSIONS.join(', ')}`,
          ),
        );
      }
      version = v;
      if (request.header.batchCount !== request.batchItems.length) {
        throw new KmipError(
          ResultReason.InvalidMessage,
          `Batch Count ${request.header.batchCount} but ${request.batchItems.length} batch items`,
        );
      }
    } catch (err) {
      const e = asKmipError(err, log);
      log.info({ reason: resultReasonName(e.reason), path: e.path }, 'rejected message');
      this.auditRejected(peer, log, e);
      return this.messageFailure(sniffVersion(frame) ?? HIGHEST, now, e);
    }
    try {
      this.checkCredential(request);
    } catch (err) {
      // The message was read: every batch item fails, each echoing its Operation and Unique
      // Batch Item ID, so clients matching responses by ID find their answer.
      const e = asKmipError(err, log);
      log.info({ reason: resultReasonName(e.reason) }, 'rejected credential');
      this.auditRejected(peer, log, e);
      return this.messageFailure(version, now, e, request.batchItems);
    }
    return this.runBatch(request, version, peer, log, now);
  }

  private auditRejected(peer: Peer, log: Logger, e: KmipError): void {
    this.opts.audit?.record({
      principal: peer.identity,
      result: { status: 'OperationFailed', reason: resultReasonName(e.reason) },
      req: log.bindings().req as string | undefined,
    });
  }

  private checkCredential(request: RequestMessage): void {
    const verify = this.opts.verifyCredential;
    if (verify === undefined) return;
    for (const c of request.header.authentication?.credentials ?? []) {
      // A ticket is checked with the batch (runBatch), each of its items failing on its own.
      if (c.credentialType === CredentialType.Ticket) return;
      if (c.credentialType !== CredentialType.UsernameAndPassword) continue;
      const up: UsernamePasswordType = UsernamePassword.read(c.credentialValue, HIGHEST);
      if (verify(up.username, up.password)) return;
    }
    throw new KmipError(ResultReason.AuthenticationNotSuccessful, 'authentication failed');
  }

  private async runBatch(
    request: RequestMessage,
    version: KmipVersion,
    peer: Peer,
    log: Logger,
    now: bigint,
  ): Promise<Buffer> {
    const header = request.header;
    const continuation = header.batchErrorContinuationOption ?? BatchErrorContinuationOption.Stop;
    const undo: Array<() => Promise<void>> = [];
    const push = this.opts.push;
    // Changes an Undo could take back wait in the push queues until the batch ends.
    const hold =
      push !== undefined && continuation === BatchErrorContinuationOption.Undo
        ? push.hold()
        : undefined;
    let undone = false;
    const tickets = this.opts.tickets ?? processTickets();
    let ticket: TicketClaims | undefined;
    let ticketError: KmipError | undefined;
    try {
      const credentials = header.authentication?.credentials ?? [];
      ticket = headerTicket(tickets, credentials, peer.identity, Number(now));
    } catch (err) {
      ticketError = asKmipError(err, log);
    }
    const ctx: OperationContext = {
      identity: peer.identity,
      isAdmin: this.admins.has(peer.identity),
      version,
      store: this.opts.store,
      wrapper: this.opts.wrapper,
      log,
      placeholder: undefined,
      onUndo: (action) => undo.push(action),
      now,
      newUid: this.opts.newUid,
      auditSink: this.opts.audit,
      tickets,
      ticket,
      ca: this.opts.ca,
      maxLocateItems: this.opts.maxLocateItems,
      changes: push === undefined ? undefined : (change) => push.record(change, hold),
    };
    const auth: RequestAuth = {
      principal: peer.identity,
      groups: peer.groups ?? [],
      typePolicies: this.opts.typePolicies,
    };
    setRequestAuth(ctx, auth);
    const results: ResponseBatchItem[] = [];
    try {
      for (const item of request.batchItems) {
        auth.operation = enumName(Tag.Operation, item.operation);
        const result = ticketError
          ? refused(ctx, item, ticketError)
          : header.asynchronousIndicator
            ? failed(
                item,
                new KmipError(
                  ResultReason.FeatureNotSupported,
                  'asynchronous operations are not supported',
                ),
              )
            : await this.runItem(item, ctx);
        results.push(result);
        if (result.resultStatus === ResultStatus.Success) continue;
        if (continuation === BatchErrorContinuationOption.Continue) continue;
        if (continuation === BatchErrorContinuationOption.Undo) {
          await this.undoAll(undo, log);
          undone = true;
          for (const r of results) {
            if (r.resultStatus === ResultStatus.Success) {
              // The payload stays: it tells the client what was done and then undone (BL-M-2-21).
              r.resultStatus = ResultStatus.OperationUndone;
            }
          }
        }
        break;
      }
    } finally {
      if (hold !== undefined) push?.settle(hold, !undone);
    }
    const correlated =
      header.clientCorrelationValue !== undefined || header.serverCorrelationValue !== undefined;
    const response: ResponseMessage = {
      header: {
        protocolVersion: header.protocolVersion,
        timeStamp: now,
        clientCorrelationValue: header.clientCorrelationValue,
        serverCorrelationValue: correlated
          ? (header.serverCorrelationValue ?? randomUUID())
          : undefined,
        batchCount: results.length,
      },
      batchItems: results,
    };
    let bytes = encodeTtlv(ResponseMessage.write(Tag.ResponseMessage, response, version));
    const max = header.maximumResponseSize;
    if (max !== undefined && bytes.length > max) {
      // KMIP 2.1 §9.3 Maximum Response Size: the payloads that do not fit are replaced by a
      // Response Too Large failure.
      for (const r of results) {
        if (r.responsePayload === undefined) continue;
        Object.assign(
          r,
          failed(
            { operation: r.operation ?? 0, uniqueBatchItemId: r.uniqueBatchItemId },
            new KmipError(
              ResultReason.ResponseTooLarge,
              `response of ${bytes.length} bytes exceeds Maximum Response Size ${max}`,
            ),
          ),
        );
        delete r.responsePayload;
      }
      bytes = encodeTtlv(ResponseMessage.write(Tag.ResponseMessage, response, version));
    }
    return bytes;
  }

  private async runItem(item: RequestBatchItem, ctx: OperationContext): Promise<ResponseBatchItem> {
    const hooks = this.opts.hooks;
    if (hooks === undefined) return this.runOperation(item, ctx);
    const opName = enumName(Tag.Operation, item.operation) ?? String(item.operation);
    const started = performance.now();
    let result: ResponseBatchItem;
    try {
      await hooks.before?.(opName);
      result = await this.runOperation(item, ctx);
    } catch (err) {
      // Only an injected ConnectionDrop is not a KmipError: it leaves process() on purpose.
      if (!(err instanceof KmipError)) throw err;
      audit(ctx, opName, undefined, err);
      result = failed(item, err);
    }
    const outcome =
      result.resultReason === undefined ? 'Success' : resultReasonName(result.resultReason);
    hooks.after?.(opName, outcome, (performance.now() - started) / 1000);
    return result;
  }

  private async runOperation(
    item: RequestBatchItem,
    ctx: OperationContext,
  ): Promise<ResponseBatchItem> {
    const opName = enumName(Tag.Operation, item.operation) ?? String(item.operation);
    const handler = OPERATIONS.get(item.operation) ?? GRANT_OPERATIONS.get(item.operation);
    if (handler === undefined) {
      const e = new KmipError(
        ResultReason.OperationNotSupported,
        `operation ${opName} is not supported`,
      );
      audit(ctx, opName, undefined, e);
      return failed(item, e);
    }
    let uid: string | undefined;
    try {
      checkRights(ctx.ticket, item.operation, item.requestPayload, ctx.placeholder);
      const payload = handler.request.read(item.requestPayload ?? EMPTY_PAYLOAD, ctx.version);
      const result = await handler.run(payload, ctx);
      uid = producedUid(result);
      if (uid !== undefined) ctx.placeholder = uid;
      audit(ctx, opName, uid);
      return {
        operation: item.operation,
        uniqueBatchItemId: item.uniqueBatchItemId,
        resultStatus: ResultStatus.Success,
        responsePayload: handler.response.write(Tag.ResponsePayload, result, ctx.version),
      };
    } catch (err) {
      const e = asKmipError(err, ctx.log);
      audit(ctx, opName, uid, e);
      return failed(item, e);
    }
  }

  private async undoAll(undo: Array<() => Promise<void>>, log: Logger): Promise<void> {
    for (const action of undo.reverse()) {
      try {
        await action();
      } catch (err) {
        log.error({ err: errorSummary(err) }, 'undo step failed');
      }
    }
  }

  /** A failed response for the whole message: one item, or one per request item given. */
  private messageFailure(
    version: KmipVersion,
    now: bigint,
    e: KmipError,
    items?: readonly RequestBatchItem[],
  ): Buffer {
    const [major, minor] = version.split('.').map(Number) as [number, number];
    const batchItems: ResponseBatchItem[] =
      items === undefined || items.length === 0
        ? [
            {
              resultStatus: ResultStatus.OperationFailed,
              resultReason: e.reason,
              resultMessage: e.describe(),
            },
          ]
        : items.map((i) => failed(i, e));
    const response: ResponseMessage = {
      header: { protocolVersion: { major, minor }, timeStamp: now, batchCount: batchItems.length },
      batchItems,
    };
    return encodeTtlv(ResponseMessage.write(Tag.ResponseMessage, response, version));
  }
}

/** The one place an error becomes a failed batch item. */
function failed(
  item: Pick<RequestBatchItem, 'operation' | 'uniqueBatchItemId'>,
  e: KmipError,
): ResponseBatchItem {
  return {
    operation: item.operation,
    uniqueBatchItemId: item.uniqueBatchItemId,
    resultStatus: ResultStatus.OperationFailed,
    resultReason: e.reason,
    resultMessage: e.path.length > 0 ? `${e.message} at ${e.path.join(' › ')}` : e.message,
  };
}

/** A batch item refused before its operation runs (a bad header ticket), audited as such. */
function refused(ctx: OperationContext, item: RequestBatchItem, e: KmipError): ResponseBatchItem {
  audit(ctx, enumName(Tag.Operation, item.operation) ?? String(item.operation), undefined, e);
  return failed(item, e);
}

/** An unexpected error is logged (without its data) and answered as General Failure. */
function asKmipError(err: unknown, log: Logger): KmipError {
  if (err instanceof KmipError) return err;
  log.error({ err: errorSummary(err) }, 'unexpected error');
  return new KmipError(ResultReason.GeneralFailure, 'internal error');
}

function errorSummary(err: unknown): { type: string; stack?: string } {
  if (err instanceof Error)
    return { type: err.name, stack: err.stack?.split('\n').slice(1, 6).join('\n') };
  return { type: typeof err };
}

function audit(ctx: OperationContext, operation: string, uid: string | undefined, e?: KmipError) {
  const result = e === undefined ? 'Success' : resultReasonName(e.reason);
  ctx.log.info({ audit: true, identity: ctx.identity, operation, uid, result }, 'operation');
  ctx.auditSink?.record({
    principal: ctx.identity,
    operation,
    uid,
    result: e === undefined ? { status: 'Success' } : { status: 'OperationFailed', reason: result },
    // The same per-request id as the `req` field of this request's pino lines.
    req: ctx.log.bindings().req as string | undefined,
  });
}

/** The UID an operation produced, which becomes the batch's ID Placeholder. */
function producedUid(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const r = result as {
    uniqueIdentifier?: unknown;
    privateKeyUniqueIdentifier?: unknown;
    uniqueIdentifiers?: unknown;
  };
  if (typeof r.privateKeyUniqueIdentifier === 'string') return r.privateKeyUniqueIdentifier;
  if (typeof r.uniqueIdentifier === 'string') return r.uniqueIdentifier;
  // Locate: the first object found (TL-M-3 follows a Locate with a Get of the placeholder).
  if (Array.isArray(r.uniqueIdentifiers) && typeof r.uniqueIdentifiers[0] === 'string') {
    return r.uniqueIdentifiers[0];
  }
  return undefined;
}

/**
 * Reads the protocol version from the fixed position it has in every well-formed request
 * (Request Message › Request Header › Protocol Version › Major, Minor), so that even a message
 * that fails to decode is answered in the client's version.
 */
export function sniffVersion(frame: Buffer): KmipVersion | undefined {
  if (frame.length < 56) return undefined;
  const tagAt = (off: number) => (frame[off]! << 16) | (frame[off + 1]! << 8) | frame[off + 2]!;
  if (tagAt(24) !== Tag.ProtocolVersionMajor || tagAt(40) !== Tag.ProtocolVersionMinor) {
    return undefined;
  }
  return versionFrom(frame.readInt32BE(32), frame.readInt32BE(48));
}
