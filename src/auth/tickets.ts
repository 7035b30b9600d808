// KMIP 2.0/2.1 Login, Logout and Delegated Login tickets (KMIP 2.1 §6.1.28, §6.1.29, §6.1.16;
// Credential Type Ticket, §2.1.2). A ticket is opaque to the client: a version byte, a JSON
// claim set (id, identity, expiry, request count, rights) and an HMAC-SHA256 over both under a
// key made once per process, so a ticket is only good on the process that issued it. The
// server keeps two small tables: tickets logged out (until they expire) and how many requests
// a ticket with a Request Count has used. When either table is full after expired entries go,
// the key is replaced: every ticket becomes invalid, and no revoked ticket becomes valid again.

import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { KmipError } from '../errors.js';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { CredentialType, ResultReason, Tag, TicketType } from '../ttlv/spec/generated.js';

/** Lease when the client asks for none (Lease Time absent or 0). */
export const DEFAULT_TICKET_SECONDS = 3600;
/** Longest lease granted: a stolen ticket is good for a day at most. */
export const MAX_TICKET_SECONDS = 24 * 3600;
/**
 * Entries kept in the logout and request-count tables: a client logging in and out in a loop
 * cannot grow server memory without bound (the key is replaced instead, see above).
 */
export const MAX_TRACKED_TICKETS = 100_000;
/** Longest ticket value accepted: stops HMAC and JSON work on oversized forged tickets. */
export const MAX_TICKET_BYTES = 8192;
/** Rights of one Delegated Login, operations plus objects over all Rights: keeps tickets small. */
export const MAX_RIGHT_ENTRIES = 256;

const FORMAT = 1;
const MAC_BYTES = 32;

/** What a Delegated Login ticket may do: an operation list and an object list per Right. */
export interface Right {
  /** Operation enumeration values; absent: any operation. */
  operations?: number[];
  /** Unique Identifiers; absent: any object. */
  objects?: string[];
}

export interface TicketClaims {
  id: string;
  identity: string;
  /** Expiry, whole seconds since the epoch. */
  expires: number;
  /** Requests the ticket may authenticate; 0: no limit. */
  requestCount: number;
  /** Present on Delegated Login tickets only. */
  rights?: Right[];
}

/**
 * What one process of a `kmipd serve --workers` cluster tells the others, so that a ticket
 * issued, used or logged out on one worker counts on every worker (src/server/cluster.ts).
 */
export type TicketEvent =
  /** `count` uses at once (a new worker catching up); default 1. */
  | { kind: 'use'; id: string; expires: number; count?: number }
  | { kind: 'revoke'; id: string; expires: number }
  | { kind: 'rekey'; key: string };

export class TicketBook {
  private key: Buffer;
  private readonly revoked = new Map<string, number>();
  private readonly used = new Map<string, { count: number; expires: number }>();
  /** Receives every change the other workers of a cluster must apply; absent alone. */
  onEvent?: (e: TicketEvent) => void;

  constructor(
    private readonly maxTracked = MAX_TRACKED_TICKETS,
    key?: Buffer,
  ) {
    this.key = key ?? randomBytes(32);
  }

  /** Applies another worker's change (TicketEvent) without telling anyone else. */
  apply(e: TicketEvent): void {
    if (e.kind === 'rekey') {
      this.key = Buffer.from(e.key, 'hex');
      this.revoked.clear();
      this.used.clear();
    } else if (e.kind === 'revoke') {
      this.revoked.set(e.id, e.expires);
      this.used.delete(e.id);
    } else {
      const entry = this.used.get(e.id) ?? { count: 0, expires: e.expires };
      entry.count += e.count ?? 1;
      this.used.set(e.id, entry);
    }
  }

  /**
   * The key and the unexpired Logouts and Request Count uses, as events: what a worker that
   * starts later must apply to agree with this book (src/server/cluster.ts).
   */
  snapshot(now: number): { key: string; events: TicketEvent[] } {
    const events: TicketEvent[] = [];
    for (const [id, expires] of this.revoked) {
      if (expires > now) events.push({ kind: 'revoke', id, expires });
    }
    for (const [id, u] of this.used) {
      if (u.expires > now) events.push({ kind: 'use', id, expires: u.expires, count: u.count });
    }
    return { key: this.key.toString('hex'), events };
  }

  /** Issues a ticket for `identity`; `leaseSeconds` 0 or absent takes the default. */
  issue(
    identity: string,
    now: number,
    opts: { leaseSeconds?: number; requestCount?: number; rights?: Right[] },
  ): Uint8Array {
    const lease =
      opts.leaseSeconds === undefined || opts.leaseSeconds <= 0
        ? DEFAULT_TICKET_SECONDS
        : Math.min(opts.leaseSeconds, MAX_TICKET_SECONDS);
    const claims: TicketClaims = {
      id: randomUUID(),
      identity,
      expires: now + lease,
      requestCount: Math.max(0, opts.requestCount ?? 0),
      ...(opts.rights === undefined ? {} : { rights: opts.rights }),
    };
    const body = Buffer.concat([Buffer.of(FORMAT), Buffer.from(JSON.stringify(claims), 'utf8')]);
    return Buffer.concat([body, this.mac(body)]);
  }

  /**
   * The claims of a genuine, unexpired, not logged-out ticket, or Invalid Ticket. Neither the
   * ticket bytes nor the claims ever go into the error message.
   */
  verify(value: Uint8Array, now: number): TicketClaims {
    const bad = () => new KmipError(ResultReason.InvalidTicket, 'the ticket is not valid');
    if (value.byteLength <= MAC_BYTES + 1 || value.byteLength > MAX_TICKET_BYTES) throw bad();
    const bytes = Buffer.from(value);
    const body = bytes.subarray(0, bytes.length - MAC_BYTES);
    if (!timingSafeEqual(this.mac(body), bytes.subarray(bytes.length - MAC_BYTES))) throw bad();
    if (body[0] !== FORMAT) throw bad();
    const claims = JSON.parse(body.subarray(1).toString('utf8')) as TicketClaims;
    if (claims.expires <= now) {
      throw new KmipError(ResultReason.InvalidTicket, 'the ticket has expired');
    }
    if (this.revoked.has(claims.id)) throw bad();
    return claims;
  }

  /** Counts one request against the ticket's Request Count: Usage Limit Exceeded past it. */
  use(claims: TicketClaims, now: number): void {
    if (claims.requestCount === 0) return;
    const entry = this.used.get(claims.id) ?? { count: 0, expires: claims.expires };
    if (entry.count >= claims.requestCount) {
      throw new KmipError(
        ResultReason.UsageLimitExceeded,
        'the ticket has been used for its Request Count',
      );
    }
    if (!this.used.has(claims.id)) this.track(this.used, (v) => v.expires, now);
    entry.count += 1;
    this.used.set(claims.id, entry);
    this.onEvent?.({ kind: 'use', id: claims.id, expires: claims.expires });
  }

  /** Logout: the ticket is refused from now until it expires. */
  revoke(claims: TicketClaims, now: number): void {
    this.track(this.revoked, (v) => v, now);
    this.revoked.set(claims.id, claims.expires);
    this.used.delete(claims.id);
    this.onEvent?.({ kind: 'revoke', id: claims.id, expires: claims.expires });
  }

  /** Makes room for one entry: drops expired ones, or replaces the key when none has expired. */
  private track<V>(table: Map<string, V>, expiresOf: (v: V) => number, now: number): void {
    if (table.size < this.maxTracked) return;
    for (const [id, v] of table) if (expiresOf(v) <= now) table.delete(id);
    if (table.size < this.maxTracked) return;
    this.key = randomBytes(32);
    this.revoked.clear();
    this.used.clear();
    this.onEvent?.({ kind: 'rekey', key: this.key.toString('hex') });
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }
}

let processBook: TicketBook | undefined;

/** The tickets of this process: one HMAC key for every listener (TTLV, HTTPS). */
export function processTickets(): TicketBook {
  processBook ??= new TicketBook();
  return processBook;
}

/** A cluster worker's ticket book: the key all workers share (src/server/cluster.ts). */
export function useSharedTickets(key: Buffer): TicketBook {
  processBook = new TicketBook(MAX_TRACKED_TICKETS, key);
  return processBook;
}

/** Ticket{Ticket Type, Ticket Value} (KMIP 2.1 §2.1.2). */
export function ticketItem(value: Uint8Array): TtlvItem {
  return {
    tag: Tag.Ticket,
    type: ItemType.Structure,
    value: [
      { tag: Tag.TicketType, type: ItemType.Enumeration, value: TicketType.Login },
      { tag: Tag.TicketValue, type: ItemType.ByteString, value },
    ],
  };
}

/** The Ticket Value inside a Ticket structure, or Invalid Ticket. */
export function ticketValue(item: TtlvItem | undefined): Uint8Array {
  const v =
    item?.type === ItemType.Structure
      ? item.value.find((c) => c.tag === Tag.TicketValue)
      : undefined;
  if (v?.type !== ItemType.ByteString) {
    throw new KmipError(ResultReason.InvalidTicket, 'the Ticket has no Ticket Value');
  }
  return v.value;
}

interface HeaderCredential {
  credentialType: number;
  credentialValue: TtlvItem;
}

/**
 * The ticket a request header presents (Credential Type Ticket), checked and counted. A ticket
 * only ever narrows what the TLS identity may do: one issued to another identity is refused.
 * Undefined when the header carries no ticket.
 */
export function headerTicket(
  book: TicketBook,
  credentials: readonly HeaderCredential[],
  tlsIdentity: string,
  now: number,
): TicketClaims | undefined {
  const c = credentials.find((x) => x.credentialType === CredentialType.Ticket);
  if (c === undefined) return undefined;
  const inner =
    c.credentialValue.type === ItemType.Structure
      ? (c.credentialValue.value.find((x) => x.tag === Tag.Ticket) ?? c.credentialValue)
      : undefined;
  const claims = book.verify(ticketValue(inner), now);
  if (claims.identity !== tlsIdentity) {
    throw new KmipError(
      ResultReason.AuthenticationNotSuccessful,
      'the ticket was not issued to this client',
    );
  }
  book.use(claims, now);
  return claims;
}

/**
 * Not Authorised (2.0+, as tickets are) when a Delegated Login ticket's Rights do not cover the
 * operation on the object the request names (its Unique Identifier, or else the batch's ID
 * Placeholder); TC-DLOGIN-2-20 shows that reason.
 */
export function checkRights(
  claims: TicketClaims | undefined,
  operation: number,
  payload: TtlvItem | undefined,
  placeholder: string | undefined,
): void {
  if (claims?.rights === undefined) return;
  const named =
    payload?.type === ItemType.Structure
      ? payload.value.find((c) => c.tag === Tag.UniqueIdentifier)
      : undefined;
  const uid = named?.type === ItemType.TextString ? named.value : placeholder;
  const allowed = claims.rights.some(
    (r) =>
      (r.operations === undefined || r.operations.includes(operation)) &&
      (r.objects === undefined || (uid !== undefined && r.objects.includes(uid))),
  );
  if (!allowed) {
    throw new KmipError(
      ResultReason.NotAuthorised,
      "the ticket's Rights do not cover this operation",
    );
  }
}
