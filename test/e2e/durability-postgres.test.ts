// Durability on PostgreSQL (issue: key protection at rest and storage at scale): a Create is
// acknowledged only once PostgreSQL has committed it. Sixteen connections create keys while
// the kmipd process is killed with SIGKILL; a new process on the same database (and the same
// data directory, for its KEK) answers every acknowledged key intact, and no key's bytes sit
// in the database in clear. A missing PostgreSQL fails the test.

import { rm } from 'node:fs/promises';
import pg from 'pg';
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
import { type PgCluster, startPgCluster } from '../helpers/pg-cluster.js';

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
let cluster: PgCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('durability on PostgreSQL', () => {
  it('loses no acknowledged Create when the server is killed mid-load', async () => {
    cluster = await startPgCluster();
    const options = {
      // The helper passes `store` through to --store.
      store: 'postgres' as 'sqlite',
      args: ['--postgres-url', cluster.url],
    };
    const first = await startKmipdProcess(options);
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

    const second = await startKmipdProcess({ ...options, dataDir });
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

      // Every row of the database, in clear or hex, holds none of the keys.
      const db = new pg.Client({ connectionString: cluster.url });
      await db.connect();
      let dump: Buffer;
      try {
        const rows = await db.query<{ row: string }>(
          'SELECT row_to_json(o)::text AS row FROM objects o UNION ALL SELECT row_to_json(i)::text FROM object_index i',
        );
        expect(rows.rows.length).toBeGreaterThanOrEqual(acknowledged.length);
        dump = Buffer.from(rows.rows.map((r) => r.row).join('\n'));
      } finally {
        await db.end();
      }
      const leaked = keys.filter((k) => dump.includes(k.subarray(0, 16).toString('hex')));
      expect(leaked).toHaveLength(0);
      const logs = JSON.stringify([...first.logs(), ...second.logs()]);
      const inLogs = keys.filter(
        (k) => logs.includes(k.toString('hex')) || logs.includes(k.toString('base64').slice(0, 20)),
      );
      expect(inLogs).toHaveLength(0);
    } finally {
      await second.stop();
    }
  }, 180_000);
});
