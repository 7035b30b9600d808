// The admin port: /metrics moves with KMIP traffic (operations by result, latency, open
// connections, store timings) and /healthz answers whether the object store does.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmipClient, KmipOperationError } from '../../src/client/index.js';
import { KmipdMetrics } from '../../src/metrics/metrics.js';
import { startAdminServer } from '../../src/server/admin-server.js';
import { type Kmipd, startKmipd } from '../../src/server/kmipd.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import type { ObjectStore } from '../../src/store/object-store.js';

const log = pino({ level: 'silent' });
let dir: string;
let kmipd: Kmipd;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-metrics-'));
  kmipd = await startKmipd({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'data'),
    store: 'memory',
    ephemeral: true,
    pkiDir: join(dir, 'pki'),
    admin: { host: '127.0.0.1', port: 0 },
    log,
  });
  base = `http://127.0.0.1:${kmipd.admin!.address.port}`;
});

afterAll(async () => {
  await kmipd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The value of one sample line of the text format, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

describe('admin port', () => {
  it('binds the loopback address', () => {
    expect(kmipd.admin!.address.address).toBe('127.0.0.1');
  });

  it('counts operations by result, times them and the store, and sees the connection', async () => {
    const before = await scrape();
    const pki = join(dir, 'pki');
    const client = await KmipClient.connect({
      host: '127.0.0.1',
      port: kmipd.server.address.port,
      cert: await readFile(join(pki, 'admin.crt')),
      key: await readFile(join(pki, 'admin.key')),
      ca: await readFile(join(pki, 'ca.crt')),
      version: '1.4',
    });
    try {
      const { uid } = await client.create({
        cryptographicAlgorithm: 'AES',
        cryptographicLength: 128,
      });
      await client.get(uid);
      await client.destroy(uid);
      await expect(client.get('no-such-object')).rejects.toBeInstanceOf(KmipOperationError);
      const during = await scrape();
      expect(sample(during, 'kmipd_open_connections')).toBeGreaterThanOrEqual(1);
    } finally {
      await client.close();
    }
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('kmipd_operations_total', { operation: 'Create', result: 'Success' })).toBe(1);
    expect(moved('kmipd_operations_total', { operation: 'Get', result: 'Success' })).toBe(1);
    expect(moved('kmipd_operations_total', { operation: 'Destroy', result: 'Success' })).toBe(1);
    expect(moved('kmipd_operations_total', { operation: 'Get', result: 'ItemNotFound' })).toBe(1);
    expect(moved('kmipd_operation_duration_seconds_count', { operation: 'Get' })).toBe(2);
    expect(
      moved('kmipd_store_operation_duration_seconds_count', { method: 'insert', outcome: 'ok' }),
    ).toBe(1);
    expect(
      moved('kmipd_store_operation_duration_seconds_count', { method: 'get' }),
    ).toBeGreaterThanOrEqual(3);
    // No identity, unique identifier or key byte becomes a label.
    expect(after).not.toMatch(/identity=|uid=|admin"/);
  });

  it('answers /healthz with 200 while the store answers', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('/healthz with a store that does not answer', () => {
  it('answers 503 once the health timeout passes, and 503 when the store fails', async () => {
    const memory = await openMemoryStore();
    let mode: 'hang' | 'fail' = 'hang';
    const store = new Proxy(memory, {
      get(target, prop, receiver) {
        if (prop === 'count') {
          return () =>
            mode === 'hang' ? new Promise(() => {}) : Promise.reject(new Error('store down'));
        }
        return Reflect.get(target, prop, receiver);
      },
    }) as ObjectStore;
    const admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      metrics: new KmipdMetrics(),
      store,
      log,
      healthTimeoutMs: 50,
    });
    try {
      const url = `http://127.0.0.1:${admin.address.port}/healthz`;
      const hung = await fetch(url);
      expect(hung.status).toBe(503);
      expect(await hung.json()).toEqual({ status: 'unavailable' });
      mode = 'fail';
      expect((await fetch(url)).status).toBe(503);
    } finally {
      await admin.close();
      await memory.close();
    }
  });
});
