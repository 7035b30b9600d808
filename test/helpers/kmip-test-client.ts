// Builds request messages and reads responses for server tests, through the same schemas the
// server uses for the message envelope; payload contents are written by the tests themselves.

import { duplexPair } from 'node:stream';
import pino from 'pino';
import { expect } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { item } from '../../src/kmip/items.js';
import {
  RequestMessage,
  type ResponseBatchItem,
  ResponseMessage,
} from '../../src/kmip/messages.js';
import { handleConnection } from '../../src/server/connection.js';
import { MessageLayer, type MessageLayerOptions } from '../../src/server/message-layer.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import type { ObjectStore } from '../../src/store/object-store.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CredentialType,
  CryptographicAlgorithm,
  ObjectType,
  Operation,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { type KmipVersion, tagDef } from '../../src/ttlv/spec/index.js';

export interface BatchRequest {
  operation: number;
  payload?: TtlvItem[];
  id?: Uint8Array;
}

export interface HeaderExtras {
  batchErrorContinuationOption?: number;
  maximumResponseSize?: number;
  asynchronousIndicator?: boolean;
  clientCorrelationValue?: string;
  authentication?: TtlvItem;
}

export function requestBytes(
  version: KmipVersion,
  items: BatchRequest[],
  extras: HeaderExtras = {},
): Buffer {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  const tree = RequestMessage.write(
    Tag.RequestMessage,
    {
      header: {
        protocolVersion: { major, minor },
        batchCount: items.length,
        maximumResponseSize: extras.maximumResponseSize,
        asynchronousIndicator: extras.asynchronousIndicator,
        batchErrorContinuationOption: extras.batchErrorContinuationOption,
        clientCorrelationValue: extras.clientCorrelationValue,
        authentication: undefined,
      },
      batchItems: items.map((i) => ({
        operation: i.operation,
        uniqueBatchItemId: i.id,
        requestPayload: {
          tag: Tag.RequestPayload,
          type: ItemType.Structure,
          value: i.payload ?? [],
        },
      })),
    },
    version,
  );
  if (extras.authentication !== undefined && tree.value[0]?.type === ItemType.Structure) {
    const header = tree.value[0];
    header.value.splice(header.value.length - 1, 0, extras.authentication);
  }
  return encodeTtlv(tree);
}

/** Create's payload in the 2.x form: an AES key of `bits` for Encrypt and Decrypt. */
export function aesCreatePayload(bits: number): TtlvItem[] {
  return [
    item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
    item.struct(Tag.Attributes, [
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      item.int(Tag.CryptographicLength, bits),
      item.int(Tag.CryptographicUsageMask, 12),
    ]),
  ];
}

/** Authentication{Credential{Ticket}}: a Login ticket presented in a request header. */
export function ticketCredential(ticket: TtlvItem): TtlvItem {
  return item.struct(Tag.Authentication, [
    item.struct(Tag.Credential, [
      item.enum(Tag.CredentialType, CredentialType.Ticket),
      item.struct(Tag.CredentialValue, [ticket]),
    ]),
  ]);
}

export function readResponse(bytes: Buffer) {
  return ResponseMessage.read(decodeTtlv(bytes), '2.1');
}

export interface TestServer {
  layer: MessageLayer;
  store: ObjectStore;
  /** Sends one request as `identity` and returns the decoded response. */
  send(
    version: KmipVersion,
    items: BatchRequest[],
    opts?: HeaderExtras & { identity?: string },
  ): Promise<ReturnType<typeof readResponse>>;
  /** Sends raw bytes and returns the raw response. */
  raw(bytes: Buffer, identity?: string): Promise<Buffer>;
}

export const silentLog = pino({ level: 'silent' });

export function testServer(opts: Partial<MessageLayerOptions> = {}): TestServer {
  const store = opts.store ?? openMemoryStore();
  const layer = new MessageLayer({
    store,
    wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 7)),
    log: silentLog,
    ...opts,
  });
  const raw = (bytes: Buffer, identity = 'alice') => layer.process(bytes, { identity });
  return {
    layer,
    store,
    raw,
    async send(version, items, o = {}) {
      return readResponse(await raw(requestBytes(version, items, o), o.identity));
    },
  };
}

/** A connection driven through an in-memory duplex pair, no sockets. */
export function connectPair(layer: MessageLayer, identity = 'alice') {
  const [client, server] = duplexPair();
  const handle = handleConnection(server, { identity }, layer, silentLog);
  const splitter = new FrameSplitter();
  const received: Buffer[] = [];
  const waiters: Array<() => void> = [];
  client.on('data', (chunk: Buffer) => {
    received.push(...splitter.push(chunk));
    for (const w of waiters.splice(0)) w();
  });
  return {
    client,
    handle,
    async next(count = 1): Promise<Buffer[]> {
      while (received.length < count) await new Promise<void>((r) => waiters.push(r));
      return received.splice(0, count);
    },
  };
}

export function payloadOf(item: ResponseBatchItem | undefined): TtlvItem[] {
  const p = item?.responsePayload;
  return p?.type === ItemType.Structure ? p.value : [];
}

export function find(items: TtlvItem[], tag: number): TtlvItem | undefined {
  return items.find((i) => i.tag === tag);
}

/** Attributes in the version's wire form: 2.x Attributes, 1.x Template-Attribute. */
export function attributesFor(version: KmipVersion, list: TtlvItem[]): TtlvItem {
  if (version.startsWith('2'))
    return { tag: Tag.Attributes, type: ItemType.Structure, value: list };
  return {
    tag: Tag.TemplateAttribute,
    type: ItemType.Structure,
    value: list.map((a) => ({
      tag: Tag.Attribute,
      type: ItemType.Structure,
      value: [
        { tag: Tag.AttributeName, type: ItemType.TextString, value: tagDef(a.tag)!.specName },
        { ...a, tag: Tag.AttributeValue } as TtlvItem,
      ],
    })),
  };
}

/**
 * One-item requests to S as its default identity: `call` returns the batch item, `succeeded`
 * asserts Success and returns the Unique Identifier, `register` sends a Register of OBJECT.
 */
export function oneItemCalls(s: TestServer) {
  const call = async (version: KmipVersion, operation: number, payload: TtlvItem[]) =>
    (await s.send(version, [{ operation, payload }])).batchItems[0]!;
  return {
    call,
    async succeeded(version: KmipVersion, operation: number, payload: TtlvItem[]) {
      const res = await call(version, operation, payload);
      expect(res.resultMessage).toBeUndefined();
      expect(res.resultStatus).toBe(ResultStatus.Success);
      const uid = find(payloadOf(res), Tag.UniqueIdentifier);
      return uid?.type === ItemType.TextString ? uid.value : '';
    },
    register(version: KmipVersion, objectType: number, object: TtlvItem, attrs: TtlvItem[]) {
      return call(version, Operation.Register, [
        { tag: Tag.ObjectType, type: ItemType.Enumeration, value: objectType },
        attributesFor(version, attrs),
        object,
      ]);
    },
  };
}
