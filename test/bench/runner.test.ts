// Functional tests of the load generator (no timing assertions): what it counts, against a
// scripted TLS server whose answers are known, and against a live kmipd.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/runner.js';
import type { BenchTarget } from '../../src/bench/transport.js';
import { mixWorkload, parseMix, scenario } from '../../src/bench/workloads.js';
import { item } from '../../src/kmip/items.js';
import { RequestMessage, ResponseMessage } from '../../src/kmip/messages.js';
import { initPki } from '../../src/pki/dev-pki.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import { Operation, ResultReason, ResultStatus, Tag } from '../../src/ttlv/spec/generated.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';

const RUN = { durationMs: 600, warmupMs: 100 };

describe('parseMix', () => {
  it('reads weights, defaulting to 1 and adding repeats', () => {
    expect(parseMix('create:1,get:4, locate , destroy:0.5,get:1')).toEqual({
      create: 1,
      get: 5,
      locate: 1,
      destroy: 0.5,
    });
  });

  it('names the operations it knows when given another', () => {
    expect(() => parseMix('create:1,rekey:2')).toThrow(/create, get, locate, destroy/);
    expect(() => parseMix('get:0')).toThrow(/no positive weight/);
  });
});

/**
 * A TLS server that succeeds for Create (UID "k") and Destroy and fails every Get with
 * Permission Denied; it counts what it answered.
 */
async function scriptedServer(files: { cert: Buffer; key: Buffer; ca: Buffer }) {
  const answered = { create: 0, get: 0, destroy: 0 };
  const respond = (operation: number): Buffer => {
    const fails = operation === Operation.Get;
    return encodeTtlv(
      ResponseMessage.write(
        Tag.ResponseMessage,
        {
          header: { protocolVersion: { major: 1, minor: 2 }, timeStamp: 0n, batchCount: 1 },
          batchItems: [
            {
              operation,
              resultStatus: fails ? ResultStatus.OperationFailed : ResultStatus.Success,
              resultReason: fails ? ResultReason.PermissionDenied : undefined,
              resultMessage: fails ? 'not yours' : undefined,
              responsePayload: fails
                ? undefined
                : item.struct(Tag.ResponsePayload, [item.text(Tag.UniqueIdentifier, 'k')]),
            },
          ],
        },
        '1.2',
      ),
    );
  };
  const server = tls.createServer(
    { ...files, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      const splitter = new FrameSplitter();
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => {
        for (const frame of splitter.push(chunk)) {
          const op = RequestMessage.read(decodeTtlv(frame), '1.2').batchItems[0]!.operation;
          if (op === Operation.Create) answered.create++;
          if (op === Operation.Get) answered.get++;
          if (op === Operation.Destroy) answered.destroy++;
          socket.write(respond(op));
        }
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, answered, port: (server.address() as AddressInfo).port };
}

describe('runBench against a scripted server', () => {
  let dir: string;
  let creds: { cert: Buffer; key: Buffer; ca: Buffer };
  let scripted: Awaited<ReturnType<typeof scriptedServer>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kmipd-bench-test-'));
    const pki = await initPki({ dir, clients: ['bench'] });
    const read = (p: string) => readFile(p);
    creds = {
      cert: await read(pki.clients.bench!.cert),
      key: await read(pki.clients.bench!.key),
      ca: await read(pki.ca.cert),
    };
    scripted = await scriptedServer({
      cert: await read(pki.server.cert),
      key: await read(pki.server.key),
      ca: await read(pki.ca.cert),
    });
  });

  afterAll(async () => {
    scripted?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const target = (): BenchTarget => ({ host: '127.0.0.1', port: scripted.port, ...creds });

  it('counts failed operations as errors by Result Reason, never as throughput or cycles', async () => {
    const r = await runBench({
      ...RUN,
      target: target(),
      workload: scenario('cycle'),
      connections: 2,
    });
    expect(r.operations.create!.count).toBeGreaterThan(0);
    expect(r.operations.get!.count).toBe(0);
    expect(r.operations.get!.per_sec).toBe(0);
    expect(r.operations.get!.p50_ms).toBe(0);
    expect(r.operations.get!.errors).toBeGreaterThan(0);
    expect(r.operations.get!.errors_by_reason).toEqual({
      PermissionDenied: r.operations.get!.errors,
    });
    expect(r.errors_by_reason).toEqual({ PermissionDenied: r.operations.get!.errors });
    expect(r.error_messages.PermissionDenied).toBe('not yours');
    // The cycle goes on to Destroy after a failed Get, but a cycle with a failure is not one.
    expect(r.operations.destroy!.count).toBeGreaterThan(0);
    expect(r.cycles_per_sec).toBe(0);
    const okPerSec = r.operations.create!.per_sec + r.operations.destroy!.per_sec;
    expect(Math.abs(r.ops_per_sec - okPerSec)).toBeLessThanOrEqual(0.2);
    // The measured window is part of the run: the server answered at least as many.
    expect(scripted.answered.create).toBeGreaterThanOrEqual(r.operations.create!.count);
    expect(scripted.answered.get).toBeGreaterThanOrEqual(r.operations.get!.errors);
  });

  it('reports a server that cannot be reached before measuring anything', async () => {
    const closed = tls.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(
      runBench({
        ...RUN,
        target: { ...target(), port },
        workload: scenario('cycle'),
        connections: 1,
      }),
    ).rejects.toThrow(/cannot connect/);
  });

  it('opens a connection per operation when asked (the Barbican pattern)', async () => {
    const r = await runBench({
      ...RUN,
      target: { ...target(), tlsMaxVersion: 'TLSv1.2' },
      workload: scenario('barbican'),
      connections: 1,
    });
    expect(r.new_connection_per_op).toBe(true);
    expect(r.kmip_version).toBe('1.2');
    expect(r.tls_protocol).toBe('TLSv1.2');
    expect(r.operations.create!.count).toBeGreaterThan(0);
  });
});

describe('runBench against kmipd', () => {
  let kmipd: KmipdProcess;
  let target: BenchTarget;

  beforeAll(async () => {
    kmipd = await startKmipdProcess({ clients: ['bench'] });
    const files = kmipd.client('bench');
    target = {
      host: '127.0.0.1',
      port: kmipd.port,
      cert: await readFile(files.cert),
      key: await readFile(files.key),
      ca: await readFile(kmipd.ca),
    };
  });

  afterAll(async () => {
    await kmipd?.stop();
  });

  it('shows a Get of a missing UID as ItemNotFound errors with no throughput', async () => {
    const r = await runBench({
      ...RUN,
      target,
      workload: mixWorkload(parseMix('get:1,get-missing:1'), 4),
      connections: 2,
    });
    const missing = r.operations['get-missing']!;
    expect(missing.count).toBe(0);
    expect(missing.per_sec).toBe(0);
    expect(missing.errors).toBeGreaterThan(0);
    expect(missing.errors_by_reason).toEqual({ ItemNotFound: missing.errors });
    expect(r.errors).toBe(missing.errors);
    expect(r.operations.get!.errors).toBe(0);
    expect(r.operations.get!.count).toBeGreaterThan(0);
    expect(r.ops_per_sec).toBe(r.operations.get!.per_sec);
    expect(r.cycles_per_sec).toBeNull();
  });

  it.each(['1.2', '1.4', '2.1'] as const)(
    'runs every scenario without errors at KMIP %s',
    async (version) => {
      for (const name of ['cycle', 'vsphere', 'barbican'] as const) {
        const r = await runBench({
          ...RUN,
          target,
          workload: scenario(name),
          connections: 2,
          version,
        });
        expect(r.errors_by_reason, name).toEqual({});
        expect(r.kmip_version).toBe(version);
        expect(r.cycles_per_sec, name).toBeGreaterThan(0);
        for (const op of Object.values(r.operations)) {
          // Each counted cycle did every step, but a cycle that ends in the window may have
          // begun in the warm-up (at most one per connection), and the rates are rounded.
          const cycles = Math.round(r.cycles_per_sec! * r.duration_s);
          expect(op.count).toBeGreaterThanOrEqual(cycles - r.connections - 1);
          expect(op.p50_ms).toBeGreaterThan(0);
          expect(op.p50_ms).toBeLessThanOrEqual(op.p99_ms);
          expect(op.p99_ms).toBeLessThanOrEqual(op.max_ms);
        }
      }
    },
  );

  it('keeps a create/get/locate/destroy mix error-free over a shared pool', async () => {
    const r = await runBench({
      ...RUN,
      target,
      workload: mixWorkload(parseMix('create:1,get:4,locate:1,destroy:2'), 8),
      connections: 4,
    });
    expect(r.errors_by_reason).toEqual({});
    expect(Object.keys(r.operations).sort()).toEqual(['create', 'destroy', 'get', 'locate']);
    expect(r.operations.get!.count).toBeGreaterThan(0);
  });
});
