// KMIP 2.1 §6.1.16 Delegated Login (2.0+): a Ticket like Login's, limited to its Rights: each
// Right names Operations and/or Objects (Unique Identifiers); a request with the ticket may
// run an operation on an object only when one Right covers both (src/auth/tickets.ts).

import { MAX_RIGHT_ENTRIES, type Right, ticketItem } from '../auth/tickets.js';
import { KmipError } from '../errors.js';
import { enumeration, int, interval, many, opt, raw, struct, text } from '../kmip/schema.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { requestCountOf, TicketResponse, ticketBook } from './login.js';

const RightSchema = struct({
  usageLimits: opt(raw(Tag.UsageLimits)),
  operations: opt(struct({ operation: many(enumeration(Tag.Operation)) }).at(Tag.Operations)),
  objects: opt(struct({ uniqueIdentifier: many(text(Tag.UniqueIdentifier)) }).at(Tag.Objects)),
});

const DelegatedLoginRequest = struct({
  leaseTime: opt(interval(Tag.LeaseTime)),
  requestCount: opt(int(Tag.RequestCount)),
  rights: struct({ right: many(RightSchema.at(Tag.Right)) }).at(Tag.Rights),
});

export const delegatedLogin = operation({
  request: DelegatedLoginRequest,
  response: TicketResponse,
  async run(req, ctx) {
    const book = ticketBook(ctx);
    const rights: Right[] = req.rights.right.map((r) => ({
      ...(r.operations === undefined ? {} : { operations: r.operations.operation }),
      ...(r.objects === undefined ? {} : { objects: r.objects.uniqueIdentifier }),
    }));
    if (rights.length === 0) {
      throw new KmipError(ResultReason.InvalidField, 'Delegated Login needs at least one Right');
    }
    const entries = rights.reduce(
      (n, r) => n + 1 + (r.operations?.length ?? 0) + (r.objects?.length ?? 0),
      0,
    );
    if (entries > MAX_RIGHT_ENTRIES) {
      throw new KmipError(
        ResultReason.InvalidField,
        `Rights list more than ${MAX_RIGHT_ENTRIES} operations and objects`,
      );
    }
    const value = book.issue(ctx.identity, Number(ctx.now), {
      leaseSeconds: req.leaseTime,
      requestCount: requestCountOf(req.requestCount),
      rights,
    });
    return { ticket: ticketItem(value) };
  },
});
