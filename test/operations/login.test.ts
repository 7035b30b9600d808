// KMIP 2.1 §6.1.28 Login, §6.1.29 Logout, §6.1.16 Delegated Login and the Ticket credential
// (§2.1.2), following the shapes of KMIP Test Cases 2.0 TC-LOGIN-1..3 and TC-DLOGIN-1..2:
// a ticket in the header acts as its identity, Request Count limits its uses (Usage Limit
// Exceeded), Logout makes it Invalid Ticket, Rights limit a delegated ticket (Permission
// Denied); a ticket never crosses to another TLS identity, and a forged one is refused.

import { describe, expect, it } from 'vitest';
import { DEFAULT_TICKET_SECONDS, MAX_TICKET_SECONDS, TicketBook } from '../../src/auth/tickets.js';
import { bytesOf, childOf, item, numberOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  Operation,
  QueryFunction,
  ResultReason,
  ResultStatus,
  Tag,
  TicketType,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import {
  aesCreatePayload,
  find,
  payloadOf,
  testServer,
  ticketCredential,
} from '../helpers/kmip-test-client.js';

type Server = ReturnType<typeof testServer>;

async function call(
  s: Server,
  operation: number,
  payload: TtlvItem[],
  opts: { ticket?: TtlvItem; identity?: string; version?: KmipVersion } = {},
) {
  const res = await s.send(opts.version ?? '2.0', [{ operation, payload }], {
    identity: opts.identity,
    authentication: opts.ticket === undefined ? undefined : ticketCredential(opts.ticket),
  });
  const bi = res.batchItems[0]!;
  return {
    status: bi.resultStatus,
    reason: bi.resultReason,
    message: bi.resultMessage,
    payload: payloadOf(bi),
  };
}

const query = [item.enum(Tag.QueryFunction, QueryFunction.QueryOperations)];

async function login(s: Server, requestCount: number, identity?: string): Promise<TtlvItem> {
  const r = await call(
    s,
    Operation.Login,
    [item.interval(Tag.LeaseTime, 0), item.int(Tag.RequestCount, requestCount)],
    { identity },
  );
  expect(r.status).toBe(ResultStatus.Success);
  const ticket = find(r.payload, Tag.Ticket)!;
  expect(numberOf(childOf(ticket, Tag.TicketType))).toBe(TicketType.Login);
  return ticket;
}

function rights(list: Array<{ operations?: number[]; objects?: string[] }>): TtlvItem {
  return item.struct(
    Tag.Rights,
    list.map((r) =>
      item.struct(Tag.Right, [
        ...(r.operations === undefined
          ? []
          : [
              item.struct(
                Tag.Operations,
                r.operations.map((o) => item.enum(Tag.Operation, o)),
              ),
            ]),
        ...(r.objects === undefined
          ? []
          : [
              item.struct(
                Tag.Objects,
                r.objects.map((u) => item.text(Tag.UniqueIdentifier, u)),
              ),
            ]),
      ]),
    ),
  );
}

async function createKey(s: Server): Promise<string> {
  const r = await call(s, Operation.Create, aesCreatePayload(128));
  expect(r.status).toBe(ResultStatus.Success);
  const uid = find(r.payload, Tag.UniqueIdentifier);
  return uid?.value as string;
}

describe('Login and tickets (KMIP 2.1 §6.1.28, §2.1.2)', () => {
  it('TC-LOGIN-1: a ticket in the header authenticates a Query', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const ticket = await login(s, 3);
    const r = await call(s, Operation.Query, query, { ticket });
    expect(r.status).toBe(ResultStatus.Success);
  });

  it('TC-LOGIN-3: Request Count 2 allows two requests, then Usage Limit Exceeded', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const ticket = await login(s, 2);
    expect((await call(s, Operation.Query, query, { ticket })).status).toBe(ResultStatus.Success);
    expect((await call(s, Operation.Query, query, { ticket })).status).toBe(ResultStatus.Success);
    const third = await call(s, Operation.Query, query, { ticket });
    expect(third.status).toBe(ResultStatus.OperationFailed);
    expect(third.reason).toBe(ResultReason.UsageLimitExceeded);
  });

  it('TC-LOGIN-2: after Logout the ticket is Invalid Ticket', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const ticket = await login(s, 3);
    expect((await call(s, Operation.Query, query, { ticket })).status).toBe(ResultStatus.Success);
    const out = await call(s, Operation.Logout, [ticket], { ticket });
    expect(out.status).toBe(ResultStatus.Success);
    const after = await call(s, Operation.Query, query, { ticket });
    expect(after.status).toBe(ResultStatus.OperationFailed);
    expect(after.reason).toBe(ResultReason.InvalidTicket);
  });

  it('Logout without a payload logs out the header ticket', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const ticket = await login(s, 0);
    expect((await call(s, Operation.Logout, [], { ticket })).status).toBe(ResultStatus.Success);
    expect((await call(s, Operation.Query, query, { ticket })).reason).toBe(
      ResultReason.InvalidTicket,
    );
  });

  it('refuses a ticket presented over another identity’s connection', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const ticket = await login(s, 0, 'alice');
    const r = await call(s, Operation.Query, query, { ticket, identity: 'mallory' });
    expect(r.status).toBe(ResultStatus.OperationFailed);
    expect(r.reason).toBe(ResultReason.AuthenticationNotSuccessful);
    // Nor may another identity log it out.
    const out = await call(s, Operation.Logout, [ticket], { identity: 'mallory' });
    expect(out.reason).toBe(ResultReason.PermissionDenied);
    expect((await call(s, Operation.Query, query, { ticket })).status).toBe(ResultStatus.Success);
  });

  it('refuses a forged or altered ticket, and one from another process key', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const ticket = await login(s, 0);
    const value = Buffer.from(bytesOf(childOf(ticket, Tag.TicketValue))!);
    const body = value.subarray(0, value.length - 32).toString('utf8');
    // Claim another identity with the same MAC.
    const forged = Buffer.concat([
      Buffer.from(body.replace('"identity":"alice"', '"identity":"admin"'), 'utf8'),
      value.subarray(value.length - 32),
    ]);
    for (const bad of [forged, Buffer.from('junk'), Buffer.alloc(100_000)]) {
      const t = item.struct(Tag.Ticket, [
        item.enum(Tag.TicketType, TicketType.Login),
        item.bytes(Tag.TicketValue, bad),
      ]);
      const r = await call(s, Operation.Query, query, { ticket: t, identity: 'admin' });
      expect(r.status).toBe(ResultStatus.OperationFailed);
      expect(r.reason).toBe(ResultReason.InvalidTicket);
      expect(r.message).not.toContain(bad.toString('hex').slice(0, 16));
    }
    const other = testServer({ tickets: new TicketBook() });
    expect((await call(other, Operation.Query, query, { ticket })).reason).toBe(
      ResultReason.InvalidTicket,
    );
  });

  it('Lease Time: default one hour, at most a day; an expired ticket is Invalid Ticket', () => {
    const book = new TicketBook();
    const now = 1_700_000_000;
    const short = book.issue('alice', now, {});
    expect(book.verify(short, now).expires).toBe(now + DEFAULT_TICKET_SECONDS);
    const long = book.issue('alice', now, { leaseSeconds: 10 * MAX_TICKET_SECONDS });
    expect(book.verify(long, now).expires).toBe(now + MAX_TICKET_SECONDS);
    expect(() => book.verify(short, now + DEFAULT_TICKET_SECONDS)).toThrow(/expired/);
  });

  it('a full logout table replaces the key: no revoked ticket becomes valid again', () => {
    const book = new TicketBook(2);
    const now = 1_700_000_000;
    const tickets = [0, 1, 2].map(() => book.issue('alice', now, {}));
    for (const t of tickets) book.revoke(book.verify(t, now), now);
    for (const t of tickets) expect(() => book.verify(t, now)).toThrow();
    const fresh = book.issue('alice', now, {});
    expect(book.verify(fresh, now).identity).toBe('alice');
  });

  it('Login is a KMIP 2.0 operation', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const r = await call(s, Operation.Login, [], { version: '1.4' });
    expect(r.reason).toBe(ResultReason.OperationNotSupported);
  });
});

describe('Delegated Login (KMIP 2.1 §6.1.16)', () => {
  it('TC-DLOGIN-1: Rights limit the operations, Request Count the uses', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const r = await call(s, Operation.DelegatedLogin, [
      item.interval(Tag.LeaseTime, 0),
      item.int(Tag.RequestCount, 2),
      rights([{ operations: [Operation.Interop, Operation.Log, Operation.Query] }]),
    ]);
    expect(r.status).toBe(ResultStatus.Success);
    const ticket = find(r.payload, Tag.Ticket)!;
    expect((await call(s, Operation.Query, query, { ticket })).status).toBe(ResultStatus.Success);
    const create = await call(s, Operation.Create, [], { ticket });
    expect(create.reason).toBe(ResultReason.NotAuthorised);
    const third = await call(s, Operation.Query, query, { ticket });
    expect(third.reason).toBe(ResultReason.UsageLimitExceeded);
  });

  it('TC-DLOGIN-2: an operation right limited to one object', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const uid0 = await createKey(s);
    const uid1 = await createKey(s);
    const r = await call(s, Operation.DelegatedLogin, [
      item.interval(Tag.LeaseTime, 0),
      item.int(Tag.RequestCount, 0),
      rights([
        { operations: [Operation.Interop, Operation.Log, Operation.Query] },
        { operations: [Operation.GetAttributes], objects: [uid0] },
      ]),
    ]);
    const ticket = find(r.payload, Tag.Ticket)!;
    const uid = (u: string) => [item.text(Tag.UniqueIdentifier, u)];
    expect((await call(s, Operation.GetAttributes, uid(uid0), { ticket })).status).toBe(
      ResultStatus.Success,
    );
    expect((await call(s, Operation.Get, uid(uid0), { ticket })).reason).toBe(
      ResultReason.NotAuthorised,
    );
    expect((await call(s, Operation.GetAttributes, uid(uid1), { ticket })).reason).toBe(
      ResultReason.NotAuthorised,
    );
    // The delegated ticket cannot trade itself for an unlimited one.
    const again = await call(s, Operation.Login, [], { ticket });
    expect(again.reason).toBe(ResultReason.NotAuthorised);
  });

  it('needs at least one Right', async () => {
    const s = testServer({ tickets: new TicketBook() });
    const r = await call(s, Operation.DelegatedLogin, [rights([])]);
    expect(r.reason).toBe(ResultReason.InvalidField);
  });
});
