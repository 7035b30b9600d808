// KMIP 2.1 §6.1.29 Logout (2.0+): the Ticket in the payload, or else the one the header
// presented, is refused from now on. A client may only log out its own tickets.

import { ticketValue } from '../auth/tickets.js';
import { KmipError } from '../errors.js';
import { opt, raw, struct } from '../kmip/schema.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import { operation } from './context.js';

const LogoutRequest = struct({ ticket: opt(raw(Tag.Ticket)) });
const Empty = struct({});

export const logout = operation({
  request: LogoutRequest,
  response: Empty,
  async run(req, ctx) {
    if (!versionAtLeast(ctx.version, '2.0') || ctx.tickets === undefined) {
      throw new KmipError(ResultReason.OperationNotSupported, 'Logout needs KMIP 2.0 or later');
    }
    const now = Number(ctx.now);
    const claims =
      req.ticket === undefined ? ctx.ticket : ctx.tickets.verify(ticketValue(req.ticket), now);
    if (claims === undefined) {
      throw new KmipError(ResultReason.InvalidTicket, 'no Ticket to log out');
    }
    if (claims.identity !== ctx.identity) {
      throw new KmipError(ResultReason.PermissionDenied, 'the ticket is not this client’s');
    }
    ctx.tickets.revoke(claims, now);
    return {};
  },
});
