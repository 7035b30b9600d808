// `kmipd serve --workers 2` (src/server/cluster.ts): two processes on one port and one SQLite
// file. Each fresh connection goes to the next worker, so consecutive connections alternate:
// objects made through one are read through the other, a login ticket and a TLS session from
// one are honoured by the other, Logout and Request Count hold across both, each worker keeps
// its own intact audit chain, a killed worker is replaced (and refuses the tickets logged out
// before), and SIGTERM stops them all.

import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../src/audit/index.js';
import { item, textOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  Operation,
  QueryFunction,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import {
  aesCreatePayload,
  find,
  payloadOf,
  readResponse,
  requestBytes,
  ticketCredential,
} from '../helpers/kmip-test-client.js';
import { type KmipdProcess, runKmipd, startKmipdProcess } from '../helpers/kmipd-process.js';

let server: KmipdProcess;
let tlsFiles: { cert: Buffer; key: Buffer; ca: Buffer };

beforeAll(async () => {
  server = await startKmipdProcess({ store: 'sqlite', args: ['--workers', '2'] });
  const admin = server.client('admin');
  tlsFiles = {
    cert: readFileSync(admin.cert),
    key: readFileSync(admin.key),
    ca: readFileSync(server.ca),
  };
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

interface Answer {
  status: number | undefined;
  reason: number | undefined;
  payload: TtlvItem[];
  socket: TLSSocket;
}

/** One request on a fresh TLS connection (resuming `session` when given). */
function callFresh(
  operation: number,
  payload: TtlvItem[],
  opts: { ticket?: TtlvItem; session?: Buffer } = {},
): Promise<Answer> {
  const bytes = requestBytes('2.0', [{ operation, payload }], {
    authentication: opts.ticket === undefined ? undefined : ticketCredential(opts.ticket),
  });
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: server.port,
      servername: 'localhost',
      ...tlsFiles,
      session: opts.session,
    });
    let got = Buffer.alloc(0);
    socket.on('error', reject);
    socket.once('secureConnect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 8 || got.length < 8 + got.readUInt32BE(4)) return;
      const bi = readResponse(got).batchItems[0]!;
      socket.end();
      resolve({ status: bi.resultStatus, reason: bi.resultReason, payload: payloadOf(bi), socket });
    });
  });
}

const query = [item.enum(Tag.QueryFunction, QueryFunction.QueryOperations)];

async function login(requestCount: number): Promise<TtlvItem> {
  const r = await callFresh(Operation.Login, [
    item.interval(Tag.LeaseTime, 0),
    item.int(Tag.RequestCount, requestCount),
  ]);
  expect(r.status).toBe(ResultStatus.Success);
  return find(r.payload, Tag.Ticket)!;
}

const auditRecords = (file: string) =>
  readFileSync(join(server.dataDir, file), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"operation"')).length;

describe('kmipd serve --workers 2', () => {
  it('serves one port from two processes that share the store', async () => {
    const listening = server.logs().find((l) => l.msg === 'listening');
    expect(listening?.workers).toBe(2);
    expect(new Set(listening?.pids as number[]).size).toBe(2);
    const uids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await callFresh(Operation.Create, aesCreatePayload(256));
      expect(r.status).toBe(ResultStatus.Success);
      uids.push(textOf(find(r.payload, Tag.UniqueIdentifier))!);
    }
    // Each object read on the connection after the next: alternating workers, every pairing.
    for (const uid of [...uids].reverse()) {
      const r = await callFresh(Operation.Get, [item.text(Tag.UniqueIdentifier, uid)]);
      expect(r.status).toBe(ResultStatus.Success);
      expect(textOf(find(r.payload, Tag.UniqueIdentifier))).toBe(uid);
    }
    // Both workers answered some of them, each in its own audit file.
    expect(auditRecords('audit.log')).toBeGreaterThan(0);
    expect(auditRecords('audit.log.w2')).toBeGreaterThan(0);
  });

  it('honours a ticket on either worker; Logout and Request Count hold on both', async () => {
    const ticket = await login(0);
    for (let i = 0; i < 4; i++) {
      expect((await callFresh(Operation.Query, query, { ticket })).status).toBe(
        ResultStatus.Success,
      );
    }
    const out = await callFresh(Operation.Logout, [], { ticket });
    expect(out.status).toBe(ResultStatus.Success);
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 2; i++) {
      const r = await callFresh(Operation.Query, query, { ticket });
      expect(r.status).toBe(ResultStatus.OperationFailed);
      expect(r.reason).toBe(ResultReason.InvalidTicket);
    }

    const counted = await login(3);
    for (let i = 0; i < 3; i++) {
      expect((await callFresh(Operation.Query, query, { ticket: counted })).status).toBe(
        ResultStatus.Success,
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 2; i++) {
      const r = await callFresh(Operation.Query, query, { ticket: counted });
      expect(r.reason).toBe(ResultReason.UsageLimitExceeded);
    }
  });

  it('resumes a TLS session on either worker', async () => {
    const first = await callFresh(Operation.Query, query);
    const session = first.socket.getSession();
    expect(session).toBeDefined();
    for (let i = 0; i < 4; i++) {
      const r = await callFresh(Operation.Query, query, { session });
      expect(r.status).toBe(ResultStatus.Success);
      expect(r.socket.isSessionReused()).toBe(true);
    }
  });

  it('passes SIGHUP to both workers; sessions from before the reload still resume', async () => {
    const session = (await callFresh(Operation.Query, query)).socket.getSession();
    process.kill(server.pid, 'SIGHUP');
    await expect
      .poll(
        () =>
          server
            .logs()
            .filter((l) => l.msg.startsWith('TLS files reloaded'))
            .map((l) => l.worker)
            .sort(),
        { timeout: 10_000 },
      )
      .toEqual([1, 2]);
    for (let i = 0; i < 4; i++) {
      const r = await callFresh(Operation.Query, query, { session });
      expect(r.status).toBe(ResultStatus.Success);
      expect(r.socket.isSessionReused()).toBe(true);
    }
  });

  it('replaces a worker that dies, then stops both on SIGTERM with intact audit chains', async () => {
    // A ticket logged out before the crash stays refused by the replacement worker.
    const ticket = await login(0);
    expect((await callFresh(Operation.Logout, [], { ticket })).status).toBe(ResultStatus.Success);
    const pids = server.logs().find((l) => l.msg === 'listening')?.pids as number[];
    process.kill(pids[1]!, 'SIGKILL');
    await expect
      .poll(() => server.logs().filter((l) => l.msg === 'worker listening' && l.worker === 2), {
        timeout: 30_000,
      })
      .toHaveLength(2);
    const exited = server.logs().find((l) => l.msg === 'worker exited: starting a replacement');
    expect(exited).toMatchObject({ worker: 2, signal: 'SIGKILL' });
    for (let i = 0; i < 4; i++) {
      expect((await callFresh(Operation.Query, query)).status).toBe(ResultStatus.Success);
      expect((await callFresh(Operation.Query, query, { ticket })).reason).toBe(
        ResultReason.InvalidTicket,
      );
    }
    const publicKey = createPublicKey(readFileSync(join(server.dataDir, 'audit-signing.pub')));
    for (const file of ['audit.log', 'audit.log.w2']) {
      const check = await verifyAuditFile(join(server.dataDir, file), { publicKey, live: true });
      expect(check).toMatchObject({ ok: true, signaturesChecked: true });
      expect(check.records).toBeGreaterThan(0);
    }
    const status = await server.stop();
    expect(status).toEqual({ code: 0, signal: null });
    expect(
      server
        .logs()
        .filter((l) => l.msg === 'stopped')
        .map((l) => l.worker),
    ).toEqual(expect.arrayContaining([1, 2]));
  });

  it('fails as a whole when a worker cannot start, and refuses a store it cannot share', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kmipd-cluster-bad-'));
    try {
      const missing = join(dir, 'missing.crt');
      const bad = await runKmipd([
        'serve',
        '--workers',
        '2',
        '--port',
        '0',
        '--data-dir',
        dir,
        '--cert',
        missing,
        '--key',
        missing,
        '--ca',
        missing,
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`file not found: ${missing}`);
      expect(bad.stdout).toContain('a worker failed to start');
      const memory = await runKmipd(['serve', '--workers', '2', '--store', 'memory']);
      expect(memory.code).toBe(1);
      expect(memory.stderr).toContain('--workers above 1 needs a shared store');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
