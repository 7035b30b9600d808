// A scripted client session for the compatibility flows: every request carries a Unique Batch
// Item ID (as vCenter, MySQL and most appliance clients send), every response is checked to
// echo it and to name the operation, and failures come back with their reason and message so
// an assertion shows why the server refused.

import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { childOf, item, textOf } from '../../src/kmip/items.js';
import type { ResponseBatchItem } from '../../src/kmip/messages.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { NameType, ResultStatus, Tag } from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import {
  type HeaderExtras,
  payloadOf,
  readResponse,
  requestBytes,
  testServer,
} from '../helpers/kmip-test-client.js';

export type Transport = (request: Buffer) => Promise<Buffer>;

export interface Reply {
  item: ResponseBatchItem;
  payload: TtlvItem[];
}

export class ClientSession {
  constructor(
    readonly version: KmipVersion,
    private readonly transport: Transport,
    private readonly extras: HeaderExtras = {},
  ) {}

  /** Sends one batch item and returns its response, whatever the status. */
  async call(operation: number, payload: TtlvItem[]): Promise<Reply> {
    const [reply] = await this.batch([{ operation, payload }]);
    return reply!;
  }

  /** Sends one batch item and asserts it succeeded. */
  async ok(operation: number, payload: TtlvItem[]): Promise<TtlvItem[]> {
    const { item: r, payload: p } = await this.call(operation, payload);
    expect(
      { status: r.resultStatus, reason: r.resultReason, message: r.resultMessage },
      `operation ${operation}`,
    ).toEqual({ status: ResultStatus.Success, reason: undefined, message: undefined });
    return p;
  }

  /** Sends several batch items in one message; each response must echo its ID in order. */
  async batch(items: Array<{ operation: number; payload: TtlvItem[] }>): Promise<Reply[]> {
    const ids = items.map(() => randomBytes(4));
    const bytes = requestBytes(
      this.version,
      items.map((i, n) => ({ operation: i.operation, payload: i.payload, id: ids[n] })),
      this.extras,
    );
    const res = readResponse(await this.transport(bytes));
    const [major, minor] = this.version.split('.').map(Number);
    expect(res.header.protocolVersion).toEqual({ major, minor });
    expect(res.header.batchCount).toBe(items.length);
    expect(res.batchItems).toHaveLength(items.length);
    return res.batchItems.map((r, n) => {
      expect(r.operation).toBe(items[n]!.operation);
      expect(Buffer.from(r.uniqueBatchItemId ?? [])).toEqual(ids[n]);
      return { item: r, payload: payloadOf(r) };
    });
  }
}

/** A session against an in-memory message layer (no sockets). */
export function memorySession(
  version: KmipVersion,
  extras: HeaderExtras = {},
  server = testServer(),
  identity = 'alice',
): ClientSession {
  return new ClientSession(version, (bytes) => server.raw(bytes, identity), extras);
}

/** KMIP 1.x `Attribute{Attribute Name, [Attribute Index], Attribute Value}`. */
export function attr(name: string, value: TtlvItem, index?: number): TtlvItem {
  return item.struct(Tag.Attribute, [
    item.text(Tag.AttributeName, name),
    ...(index === undefined ? [] : [item.int(Tag.AttributeIndex, index)]),
    { ...value, tag: Tag.AttributeValue } as TtlvItem,
  ]);
}

export function nameValue(n: string): TtlvItem {
  return item.struct(Tag.Name, [
    item.text(Tag.NameValue, n),
    item.enum(Tag.NameType, NameType.UninterpretedTextString),
  ]);
}

export const uidOf = (payload: TtlvItem[]): string =>
  textOf(payload.find((i) => i.tag === Tag.UniqueIdentifier))!;

export const uidItem = (uid: string): TtlvItem => item.text(Tag.UniqueIdentifier, uid);

/** The 1.x Attribute structures of a payload, by attribute name. */
export function attributesByName(payload: TtlvItem[]): Map<string, TtlvItem[]> {
  const out = new Map<string, TtlvItem[]>();
  for (const a of payload) {
    if (a.tag !== Tag.Attribute) continue;
    const n = textOf(childOf(a, Tag.AttributeName))!;
    const v = childOf(a, Tag.AttributeValue)!;
    out.set(n, [...(out.get(n) ?? []), v]);
  }
  return out;
}

/** The single value of a named 1.x attribute. */
export function attrValue(payload: TtlvItem[], name: string): TtlvItem | undefined {
  const values = attributesByName(payload).get(name) ?? [];
  expect(values.length, `instances of ${name}`).toBeLessThanOrEqual(1);
  return values[0];
}

/** The children of a structure (empty for anything else). */
export function children(i: TtlvItem | undefined): TtlvItem[] {
  return i?.type === ItemType.Structure ? i.value : [];
}
