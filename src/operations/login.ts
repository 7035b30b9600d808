// KMIP 2.1 §6.1.28 Login (2.0+): a Ticket for the caller's identity, good for Lease Time
// seconds (absent or 0: one hour; at most a day) and, when Request Count is not 0, for that
// many requests. A request whose header presents the ticket acts as the same identity
// (src/auth/tickets.ts); the ticket never grants more than the client's certificate does.

import { ticketItem } from '../auth/tickets.js';
import { KmipError } from '../errors.js';
import { int, interval, opt, raw, struct } from '../kmip/schema.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { type OperationContext, operation } from './context.js';

export const LoginRequest = struct({
  leaseTime: opt(interval(Tag.LeaseTime)),
  requestCount: opt(int(Tag.RequestCount)),
  usageLimits: opt(raw(Tag.UsageLimits)),
});

export const TicketResponse = struct({ ticket: raw(Tag.Ticket) });

/**
 * The ticket book, for KMIP 2.0 and later only. A Delegated Login ticket cannot log in again:
 * its new ticket would not carry the Rights that limit it.
 */
export function ticketBook(ctx: OperationContext) {
  if (!versionAtLeast(ctx.version, '2.0') || ctx.tickets === undefined) {
    throw new KmipError(ResultReason.OperationNotSupported, 'Login needs KMIP 2.0 or later');
  }
  if (ctx.ticket?.rights !== undefined) {
    throw new KmipError(
      ResultReason.NotAuthorised,
      'a Delegated Login ticket cannot obtain another ticket',
    );
  }
  return ctx.tickets;
}

export function requestCountOf(n: number | undefined): number {
  if (n !== undefined && n < 0) {
    throw new KmipError(ResultReason.InvalidField, 'Request Count must not be negative');
  }
  return n ?? 0;
}

export const login = operation({
  request: LoginRequest,
  response: TicketResponse,
  async run(req, ctx) {
    const book = ticketBook(ctx);
    const value = book.issue(ctx.identity, Number(ctx.now), {
      leaseSeconds: req.leaseTime,
      requestCount: requestCountOf(req.requestCount),
    });
    return { ticket: ticketItem(value) };
  },
});
