// Two kmipd nodes on one PostgreSQL database (issue: key protection at rest and storage at
// scale). A throwaway cluster, two `kmipd serve --store postgres` children with their own data
// directories but the same KEK file and one PKI. PyKMIP's client: a key created on node A is
// at once visible to Get and Locate on node B; 20 Creates at once, split across the nodes, give
// 20 distinct uids; a batch with the ID Placeholder works on either node. kmipd's client (PyKMIP
// 0.10 has no Add Attribute): Add Attribute to one object from both nodes at once loses no
// update; a lost compare-and-swap race is a failed item with a retryable message, never a
// silently dropped attribute. A third node of two worker processes (--workers 2) serves the
// same objects from both workers. Missing PostgreSQL or PyKMIP fails the test.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmipClient, KmipOperationError } from '../../src/client/index.js';
import { initPki, type PkiFiles } from '../../src/pki/dev-pki.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { type PgCluster, startPgCluster } from '../helpers/pg-cluster.js';
import { E2E_PY_DIR, runPyScript } from '../helpers/python.js';

const SCRIPT = relative(
  E2E_PY_DIR,
  join(import.meta.dirname, '..', 'backup', 'py', 'postgres_nodes.py'),
);
const CREATES = 20;

type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; error: string; reason?: string; message?: string };

interface NodesRun {
  cross: {
    uid: string;
    on_a: Attempt<{ value: string }>;
    on_b: Attempt<{ value: string }>;
    located_on_b: Attempt<string[]>;
  };
  creates: Attempt<string>[];
  batch_a: Attempt<{
    items: { operation: string; status: string; payload?: Record<string, unknown> }[];
  }>;
  batch_b: Attempt<{
    items: { operation: string; status: string; payload?: Record<string, unknown> }[];
  }>;
}

let dir: string;
let cluster: PgCluster | undefined;
let pki: PkiFiles;
const nodes: KmipdProcess[] = [];

async function startNode(
  url: string,
  kekFile: string,
  extra: string[] = [],
): Promise<KmipdProcess> {
  return startKmipdProcess({
    // The helper passes `store` through to --store.
    store: 'postgres' as 'sqlite',
    args: [
      '--postgres-url',
      url,
      '--kek-file',
      kekFile,
      '--cert',
      pki.server.cert,
      '--key',
      pki.server.key,
      '--ca',
      pki.ca.cert,
      ...extra,
    ],
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-pg-nodes-'));
  cluster = await startPgCluster();
  pki = await initPki({ dir: join(dir, 'pki'), clients: ['alice'] });
  const kekFile = join(dir, 'shared-kek.key');
  await writeFile(kekFile, randomBytes(32), { mode: 0o600 });
  // One node first, so the schema migration runs once.
  nodes.push(await startNode(cluster.url, kekFile));
  nodes.push(await startNode(cluster.url, kekFile));
}, 120_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('two kmipd nodes on PostgreSQL', () => {
  it('share objects at once, give distinct ids, run ID Placeholder batches (PyKMIP)', async () => {
    const [a, b] = nodes;
    const alice = pki.clients.alice!;
    const run = await runPyScript<NodesRun>(SCRIPT, {
      ports: { a: a!.port, b: b!.port },
      ca: pki.ca.cert,
      identity: 'alice',
      clients: { alice: { cert: alice.cert, key: alice.key } },
      name: `cross-node-${randomBytes(4).toString('hex')}`,
      creates: CREATES,
    });

    const { cross } = run;
    expect(cross.on_a.ok, JSON.stringify(cross.on_a)).toBe(true);
    expect(cross.on_b.ok, JSON.stringify(cross.on_b)).toBe(true);
    if (cross.on_a.ok && cross.on_b.ok) expect(cross.on_b.value.value).toBe(cross.on_a.value.value);
    expect(cross.located_on_b).toEqual({ ok: true, value: [cross.uid] });

    const ids = run.creates.map((c) => {
      expect(c.ok, JSON.stringify(c)).toBe(true);
      return c.ok ? c.value : '';
    });
    expect(new Set(ids).size).toBe(CREATES);

    for (const batch of [run.batch_a, run.batch_b]) {
      expect(batch.ok, JSON.stringify(batch)).toBe(true);
      if (!batch.ok) continue;
      expect(batch.value.items.map((i) => [i.operation, i.status])).toEqual([
        ['CREATE', 'SUCCESS'],
        ['ACTIVATE', 'SUCCESS'],
        ['GET', 'SUCCESS'],
      ]);
      const created = batch.value.items[0]!.payload!.uid;
      expect(batch.value.items[1]!.payload!.uid).toBe(created);
      expect(batch.value.items[2]!.payload!.uid).toBe(created);
    }
    // Both batches' keys are visible from the other node too.
    const creds = {
      cert: await readFile(alice.cert),
      key: await readFile(alice.key),
      ca: await readFile(pki.ca.cert),
    };
    const ca = await KmipClient.connect({ host: '127.0.0.1', port: a!.port, ...creds });
    const cb = await KmipClient.connect({ host: '127.0.0.1', port: b!.port, ...creds });
    try {
      for (const [batch, other] of [
        [run.batch_a, cb],
        [run.batch_b, ca],
      ] as const) {
        if (!batch.ok) continue;
        const uid = batch.value.items[0]!.payload!.uid as string;
        expect((await other.getAttributes(uid, ['State'])).values.state).toBe('Active');
      }
    } finally {
      await ca.close();
      await cb.close();
    }
  }, 120_000);

  it('loses no Add Attribute made from both nodes at once', async () => {
    const alice = pki.clients.alice!;
    const creds = {
      cert: await readFile(alice.cert),
      key: await readFile(alice.key),
      ca: await readFile(pki.ca.cert),
    };
    const clients = await Promise.all(
      nodes.map((n) =>
        KmipClient.connect({ host: '127.0.0.1', port: n.port, ...creds, poolSize: 4 }),
      ),
    );
    try {
      const { uid } = await clients[0]!.create({
        cryptographicAlgorithm: 'AES',
        cryptographicLength: 256,
      });
      const ROUNDS = 15;
      const groups: string[] = [];
      let conflicts = 0;
      const addFrom = async (c: KmipClient, group: string) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await c.addAttribute(uid, { objectGroup: group });
            return;
          } catch (err) {
            if (!(err instanceof KmipOperationError)) throw err;
            // The only acceptable failure: the compare-and-swap lost, and the client is told to retry.
            expect(err).toBeInstanceOf(KmipOperationError);
            const e = err as KmipOperationError;
            expect(e.resultReasonName).toBe('GeneralFailure');
            expect(e.resultMessage).toMatch(/changed concurrently; retry/);
            conflicts++;
            expect(attempt).toBeLessThan(50);
          }
        }
      };
      const work: Promise<void>[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        for (const [n, c] of clients.entries()) {
          const group = `node${n}-${i}`;
          groups.push(group);
          work.push(addFrom(c, group));
        }
      }
      await Promise.all(work);
      for (const [n, c] of clients.entries()) {
        const got = (await c.getAttributes(uid, ['Object Group'])).list
          .filter((a) => a.name === 'ObjectGroup')
          .map((a) => a.value.value as string);
        const missing = groups.filter((g) => !got.includes(g));
        // Recorded for the report: how often the race surfaced as a retryable failed item.
        console.info(
          `concurrent Add Attribute, read on node ${n}: ${groups.length} acknowledged, ` +
            `${conflicts} retried after a conflict, ${missing.length} lost`,
        );
        expect(missing, 'acknowledged Add Attribute missing').toEqual([]);
        expect(got).toHaveLength(groups.length);
      }
    } finally {
      for (const c of clients) await c.close();
    }
  }, 120_000);

  it('serves the same objects from a node of two worker processes (--workers 2)', async () => {
    const kekFile = join(dir, 'shared-kek.key');
    const workers = await startNode(cluster!.url, kekFile, ['--workers', '2']);
    const alice = pki.clients.alice!;
    const creds = {
      cert: await readFile(alice.cert),
      key: await readFile(alice.key),
      ca: await readFile(pki.ca.cert),
    };
    // Four pooled connections: the primary hands them to the two workers in turn.
    const onWorkers = await KmipClient.connect({
      host: '127.0.0.1',
      port: workers.port,
      ...creds,
      poolSize: 4,
    });
    const onA = await KmipClient.connect({ host: '127.0.0.1', port: nodes[0]!.port, ...creds });
    try {
      const made = await Promise.all(
        Array.from({ length: 8 }, () =>
          onWorkers.create({ cryptographicAlgorithm: 'AES', cryptographicLength: 128 }),
        ),
      );
      for (const { uid } of made) {
        expect((await onA.getAttributes(uid, ['State'])).values.state).toBe('PreActive');
      }
      const { uid } = await onA.create({ cryptographicAlgorithm: 'AES', cryptographicLength: 256 });
      const seen = await Promise.all(
        Array.from({ length: 8 }, () => onWorkers.getAttributes(uid, ['Cryptographic Length'])),
      );
      expect(seen.map((g) => g.values.cryptographicLength)).toEqual(Array(8).fill(256));
      const records = (file: string) =>
        readFile(join(workers.dataDir, file), 'utf8').then(
          (t) => t.split('\n').filter((l) => l.includes('"operation"')).length,
        );
      expect(await records('audit.log')).toBeGreaterThan(0);
      expect(await records('audit.log.w2')).toBeGreaterThan(0);
    } finally {
      await onWorkers.close();
      await onA.close();
      await workers.stop();
    }
  }, 120_000);
});
