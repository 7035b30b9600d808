// Requests and checks shared by the KEK rotation tests: AES Creates in batches, Gets that
// return the key bytes, and a scan of raw files for key bytes.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { childOf, item, textOf } from '../../src/kmip/items.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  ObjectType,
  Operation,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { find, payloadOf, readResponse, requestBytes } from '../helpers/kmip-test-client.js';

/** One request of `count` AES-256 Creates. */
export function createRequest(count: number): Buffer {
  const one = {
    operation: Operation.Create,
    payload: [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 256),
      ]),
    ],
  };
  return requestBytes(
    '2.1',
    Array.from({ length: count }, () => one),
  );
}

export function getRequest(uids: string[]): Buffer {
  return requestBytes(
    '2.1',
    uids.map((uid) => ({
      operation: Operation.Get,
      payload: [item.text(Tag.UniqueIdentifier, uid)],
    })),
  );
}

function keyBytes(items: TtlvItem[]): Buffer | undefined {
  const m = childOf(
    childOf(childOf(find(items, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue),
    Tag.KeyMaterial,
  );
  return m?.type === ItemType.ByteString ? Buffer.from(m.value) : undefined;
}

/** The uids a Create response names; every item must have succeeded. */
export function createdUids(response: Buffer): string[] {
  return readResponse(response).batchItems.map((b) => {
    expect(b.resultStatus, b.resultMessage).toBe(ResultStatus.Success);
    return textOf(find(payloadOf(b), Tag.UniqueIdentifier))!;
  });
}

/** The key bytes a Get response returns, in order; every item must have succeeded. */
export function gotKeys(response: Buffer): Buffer[] {
  return readResponse(response).batchItems.map((b) => {
    expect(b.resultStatus, b.resultMessage).toBe(ResultStatus.Success);
    const k = keyBytes(payloadOf(b));
    expect(k).toHaveLength(32);
    return k!;
  });
}

/** Files in `dir` (not recursive) whose bytes contain any of `secrets`, with the match. */
export async function filesContaining(
  dir: string,
  names: (n: string) => boolean,
  secrets: Buffer[],
): Promise<string[]> {
  const hits: string[] = [];
  for (const name of (await readdir(dir)).filter(names)) {
    const bytes = await readFile(join(dir, name));
    for (const s of secrets) {
      if (bytes.includes(s) || bytes.includes(s.toString('hex'))) hits.push(name);
    }
  }
  return hits;
}
