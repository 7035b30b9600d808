// Durability (issue: key protection at rest): a Create is acknowledged only once it is on
// disk. Sixteen connections create keys while the server is killed with SIGKILL; after a
// restart on the same data directory every acknowledged key is there, intact, and its bytes
// never reached the database file, its WAL or a log line in clear.

import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
import { find, payloadOf, readResponse, requestBytes } from '../helpers/kmip-test-client.js';
import { startKmipdProcess } from '../helpers/kmipd-process.js';

const CONNECTIONS = 16;

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

let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('durability on SQLite', () => {
  it('loses no acknowledged Create when the server is killed mid-load', async () => {
    const first = await startKmipdProcess({ store: 'sqlite' });
    dataDir = first.dataDir;
    const files = await readCertificateFiles({ ...first.client('admin'), ca: first.ca });
    const acknowledged: string[] = [];
    let stop = false;
    const worker = async () => {
      let conn: KmipConnection;
      try {
        conn = await connect('127.0.0.1', first.port, files.cert, files.key, files.ca, 'localhost');
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
          acknowledged.push(textOf(find(payloadOf(r.batchItems[0]), Tag.UniqueIdentifier))!);
        }
      }
    };
    const workers = Array.from({ length: CONNECTIONS }, worker);
    while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 20));
    const crashed = await first.crash();
    stop = true;
    await Promise.all(workers);
    expect(crashed.signal).toBe('SIGKILL');

    const second = await startKmipdProcess({ store: 'sqlite', dataDir });
    try {
      const conn = await connect(
        '127.0.0.1',
        second.port,
        files.cert,
        files.key,
        files.ca,
        'localhost',
      );
      const keys: Buffer[] = [];
      for (const uid of acknowledged) {
        const r = readResponse(await conn.send(getKey(uid)));
        expect(r.batchItems[0]?.resultStatus, `Get ${uid}`).toBe(ResultStatus.Success);
        const key = keyBytes(payloadOf(r.batchItems[0]));
        expect(key?.length).toBe(32);
        keys.push(key!);
      }
      await conn.close();
      expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(acknowledged.length);

      // No key reached the database, its WAL or any other file in the data directory in clear.
      const names = (await readdir(dataDir)).filter((n) => n.startsWith('objects.sqlite'));
      expect(names).toContain('objects.sqlite');
      const raw = Buffer.concat(await Promise.all(names.map((n) => readFile(join(dataDir!, n)))));
      const leaked = keys.filter((k) => raw.includes(k.subarray(0, 16)));
      expect(leaked).toHaveLength(0);
      // Nor any log line, in hex or base64.
      const logs = JSON.stringify([...first.logs(), ...second.logs()]);
      expect(logs).toContain('"audit":true');
      const inLogs = keys.filter(
        (k) => logs.includes(k.toString('hex')) || logs.includes(k.toString('base64').slice(0, 20)),
      );
      expect(inLogs).toHaveLength(0);
    } finally {
      await second.stop();
    }
  });
});
