// A store that fails: SQLite out of space (SQLITE_FULL, forced with PRAGMA max_page_count on
// the store's own connection) and a PostgreSQL cluster restarted under a running server. The
// request that meets the failure gets a clean KMIP error (General Failure, no data in the
// message), the server keeps serving, and it recovers by itself once the store is back.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { item, textOf } from '../../src/kmip/items.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import type { ObjectStore } from '../../src/store/object-store.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import {
  find,
  payloadOf,
  readResponse,
  requestBytes,
  silentLog,
} from '../helpers/kmip-test-client.js';
import { findPgBinDir, type PgCluster, startPgCluster } from '../helpers/pg-cluster.js';

const run = promisify(execFile);
const SECRET_NAME = 'payroll-master-key';

function createPayload(name: string): TtlvItem[] {
  return [
    item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
    item.struct(Tag.Attributes, [
      item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      item.int(Tag.CryptographicLength, 256),
      item.int(Tag.CryptographicUsageMask, CryptographicUsageMask.Encrypt),
      item.struct(Tag.Name, [item.text(Tag.NameValue, name), item.enum(Tag.NameType, 1)]),
    ]),
  ];
}

function layerOn(store: ObjectStore): MessageLayer {
  return new MessageLayer({
    store,
    wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 7)),
    log: silentLog,
  });
}

async function call(layer: MessageLayer, operation: number, payload: TtlvItem[]) {
  const res = readResponse(
    await layer.process(requestBytes('2.1', [{ operation, payload }]), { identity: 'alice' }),
  );
  return res.batchItems[0]!;
}

async function create(layer: MessageLayer, name: string) {
  return call(layer, Operation.Create, createPayload(name));
}

function expectCleanFailure(r: Awaited<ReturnType<typeof call>>) {
  expect(r.resultStatus).toBe(ResultStatus.OperationFailed);
  expect(r.resultReason).toBe(ResultReason.GeneralFailure);
  // The message carries no request data, no SQL, no driver text.
  expect(r.resultMessage).toBe('internal error');
  expect(r.resultMessage).not.toContain(SECRET_NAME);
}

describe('SQLite out of space (SQLITE_FULL)', () => {
  let dir: string;
  let store: SqliteStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmipd-full-'));
    store = await openSqliteStore({ path: dir });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails the write cleanly, keeps serving reads, and recovers when space returns', async () => {
    const layer = layerOn(store);
    const first = await create(layer, 'before');
    expect(first.resultStatus).toBe(ResultStatus.Success);
    const uid = textOf(find(payloadOf(first), Tag.UniqueIdentifier))!;

    // The store's own connection may not grow the file past its current size.
    const db = (store as unknown as { db: { pragma(s: string, o?: object): unknown } }).db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    let failures = 0;
    for (let i = 0; i < 50 && failures === 0; i++) {
      const r = await create(layer, `${SECRET_NAME}-${i}-${'x'.repeat(2000)}`);
      if (r.resultStatus !== ResultStatus.Success) {
        expectCleanFailure(r);
        failures++;
      }
    }
    expect(failures).toBe(1);

    // Reads still work while the disk is full.
    const got = await call(layer, Operation.Get, [item.text(Tag.UniqueIdentifier, uid)]);
    expect(got.resultStatus).toBe(ResultStatus.Success);

    // Space comes back: the next write succeeds without a restart.
    db.pragma('max_page_count = 1073741823');
    const after = await create(layer, 'after');
    expect(after.resultStatus).toBe(ResultStatus.Success);
    const again = textOf(find(payloadOf(after), Tag.UniqueIdentifier))!;
    const check = await call(layer, Operation.Get, [item.text(Tag.UniqueIdentifier, again)]);
    expect(check.resultStatus).toBe(ResultStatus.Success);
  });
});

describe('PostgreSQL cluster restart', () => {
  let cluster: PgCluster;
  let store: ObjectStore;
  const idleErrors: Error[] = [];

  beforeAll(async () => {
    cluster = await startPgCluster();
    store = await openPostgresStore({
      url: cluster.url,
      poolSize: 4,
      onIdleError: (err) => idleErrors.push(err),
    });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  async function dataDirectory(): Promise<string> {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    const { rows } = await admin.query('SHOW data_directory');
    await admin.end();
    return rows[0].data_directory as string;
  }

  /** pg_ctl on the cluster's data directory, as the user that owns it. */
  async function ctl(data: string, args: string[]) {
    const file = join(findPgBinDir(), 'pg_ctl');
    const [cmd, argv] =
      process.getuid?.() === 0
        ? ['runuser', ['-u', 'postgres', '--', file, ...args, '-D', data]]
        : [file, [...args, '-D', data]];
    await run(cmd, argv, { timeout: 60_000 });
  }

  it('fails requests while the cluster is down and recovers after it restarts', async () => {
    const layer = layerOn(store);
    const first = await create(layer, 'before');
    expect(first.resultStatus).toBe(ResultStatus.Success);
    const uid = textOf(find(payloadOf(first), Tag.UniqueIdentifier))!;

    const data = await dataDirectory();
    const port = new URL(cluster.url).port;
    await ctl(data, ['stop', '-m', 'fast', '-w', '-t', '30']);

    // Down: every request that needs the store fails cleanly, none takes the process with it.
    expectCleanFailure(await create(layer, SECRET_NAME));
    expectCleanFailure(await call(layer, Operation.Get, [item.text(Tag.UniqueIdentifier, uid)]));
    // Operations without the store still answer.
    const ping = await call(layer, Operation.Query, []);
    expect(ping.resultStatus).toBe(ResultStatus.Success);

    await ctl(data, [
      'start',
      '-w',
      '-t',
      '60',
      '-l',
      join(data, 'restart.log'),
      '-o',
      `-p ${port}`,
    ]);

    // Back: the pool opens new connections by itself.
    const after = await create(layer, 'after');
    expect(after.resultStatus, after.resultMessage).toBe(ResultStatus.Success);
    const got = await call(layer, Operation.Get, [item.text(Tag.UniqueIdentifier, uid)]);
    expect(got.resultStatus).toBe(ResultStatus.Success);
  }, 120_000);
});
