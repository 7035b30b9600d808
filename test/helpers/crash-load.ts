// Shared steps of the durability tests: Creates on many connections until a kmipd process is
// killed, then every acknowledged key fetched back from its successor.

import { expect } from 'vitest';
import { connect, type KmipConnection, readCertificateFiles } from '../../src/client/connection.js';
import { childOf, item, textOf } from '../../src/kmip/items.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  ObjectType,
  Operation,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { find, payloadOf, readResponse, requestBytes } from './kmip-test-client.js';
import type { ExitStatus, KmipdProcess } from './kmipd-process.js';

const createAes = requestBytes('2.1', [
  {
    operation: Operation.Create,
    payload: [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 256),
      ]),
    ],
  },
]);

const getKey = (uid: string) =>
  requestBytes('2.1', [
    { operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, uid)] },
  ]);

function keyBytes(items: TtlvItem[]): Buffer | undefined {
  const m = childOf(
    childOf(childOf(find(items, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue),
    Tag.KeyMaterial,
  );
  return m?.type === ItemType.ByteString ? Buffer.from(m.value) : undefined;
}

async function open(server: KmipdProcess): Promise<KmipConnection> {
  const files = await readCertificateFiles({ ...server.client('admin'), ca: server.ca });
  return connect('127.0.0.1', server.port, files.cert, files.key, files.ca, 'localhost');
}

/**
 * Creates AES keys on `connections` connections until `acknowledged` of them have been
 * answered, then kills the server with SIGKILL. Returns the acknowledged identifiers.
 */
export async function createUntilKilled(
  server: KmipdProcess,
  opts: { connections?: number; acknowledged?: number } = {},
): Promise<{ uids: string[]; exit: ExitStatus }> {
  const uids: string[] = [];
  let stop = false;
  const worker = async () => {
    let conn: KmipConnection;
    try {
      conn = await open(server);
    } catch {
      return;
    }
    while (!stop) {
      let response: Buffer;
      try {
        response = await conn.send(createAes);
      } catch {
        return; // the server died with this request in flight: it was never acknowledged
      }
      const r = readResponse(response);
      if (r.batchItems[0]?.resultStatus === ResultStatus.Success) {
        uids.push(textOf(find(payloadOf(r.batchItems[0]), Tag.UniqueIdentifier))!);
      }
    }
  };
  const workers = Array.from({ length: opts.connections ?? 16 }, worker);
  while (uids.length < (opts.acknowledged ?? 300)) await new Promise((r) => setTimeout(r, 20));
  const exit = await server.crash();
  stop = true;
  await Promise.all(workers);
  return { uids, exit };
}

/** Gets every key from `server`, asserting each is there with 32 bytes; returns the bytes. */
export async function fetchKeys(server: KmipdProcess, uids: readonly string[]): Promise<Buffer[]> {
  const conn = await open(server);
  const keys: Buffer[] = [];
  for (const uid of uids) {
    const r = readResponse(await conn.send(getKey(uid)));
    expect(r.batchItems[0]?.resultStatus, `Get ${uid}`).toBe(ResultStatus.Success);
    const key = keyBytes(payloadOf(r.batchItems[0]));
    expect(key?.length).toBe(32);
    keys.push(key!);
  }
  await conn.close();
  return keys;
}

/** The keys that appear in `haystack` raw, as hex or as the start of their base64. */
export function leakedKeys(haystack: Buffer | string, keys: readonly Buffer[]): Buffer[] {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  return keys.filter(
    (k) =>
      text.includes(k.subarray(0, 16).toString('latin1')) ||
      text.includes(k.toString('hex')) ||
      text.includes(k.toString('base64').slice(0, 20)),
  );
}
