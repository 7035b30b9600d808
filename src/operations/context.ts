import type { Logger } from 'pino';
import type { AuditSink } from '../audit/record.js';
import type { TicketBook, TicketClaims } from '../auth/tickets.js';
import type { CertificateAuthority } from '../crypto/ca.js';
import type { KeyWrapper } from '../crypto/key-wrapper.js';
import type { StructSchema } from '../kmip/schema.js';
import type { ChangeSink } from '../objects/changes.js';
import type { ObjectStore } from '../store/object-store.js';
import type { KmipVersion } from '../ttlv/spec/index.js';

/** What a handler may know about the request it serves. Handlers never see bytes. */
export interface OperationContext {
  /** Client identity from its certificate (CN by default). */
  readonly identity: string;
  /** Configured admin identities see and manage every object. */
  readonly isAdmin: boolean;
  /** Protocol version of the request; the response is shaped for it. */
  readonly version: KmipVersion;
  readonly store: ObjectStore;
  readonly wrapper: KeyWrapper;
  readonly log: Logger;
  /** The batch's ID Placeholder (KMIP 2.1 §2.1.14): the UID the previous item produced. */
  placeholder: string | undefined;
  /** Registers how to reverse a change, for Batch Error Continuation Option Undo. */
  onUndo(action: () => Promise<void>): void;
  /** Server time, whole seconds since the epoch, fixed for the whole request message. */
  readonly now: bigint;
  /** Receives one record per operation (the tamper-evident audit file); absent when off. */
  readonly auditSink?: AuditSink;
  /** Unique Identifier for a new object (deterministic in fixture mode); default random UUIDs. */
  readonly newUid?: () => string;
  /** Login tickets of this process (Login, Logout, Delegated Login); absent: not offered. */
  readonly tickets?: TicketBook;
  /** The ticket the request header presented, when it presented one. */
  readonly ticket?: TicketClaims;
  /** The CA Certify and Re-certify sign with; absent: Feature Not Supported. */
  readonly ca?: CertificateAuthority;
  /** Most identifiers one Locate answers; default DEFAULT_MAX_LOCATE_ITEMS. */
  readonly maxLocateItems?: number;
  /** Told of every durable object change (push to subscribers, src/push); absent when off. */
  readonly changes?: ChangeSink;
}

/**
 * Locate answers at most this many identifiers unless configured otherwise: a Locate matching
 * every object of a large store would otherwise build an answer of megabytes on the event loop.
 */
export const DEFAULT_MAX_LOCATE_ITEMS = 1000;

export interface OperationHandler<Req, Res> {
  readonly request: StructSchema<Req>;
  readonly response: StructSchema<Res>;
  run(request: Req, ctx: OperationContext): Promise<Res>;
}

/** Declares a handler with its payload schemas, keeping request and response types linked. */
export function operation<Req, Res>(
  handler: OperationHandler<Req, Res>,
): OperationHandler<Req, Res> {
  return handler;
}
