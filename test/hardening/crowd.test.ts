// 1,000 idle connections and 1,000 slowloris connections (one byte per second) on a real kmipd
// child with its default limits: a legitimate client is still served while they are all open.
// Each crowd uses its own identity, so the per-identity cap (1,000) is reached but not passed.

import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { type Credentials, connectAs, DISCOVER, loadClients, serves } from './support.js';

const CROWD = 1_000;

let kmipd: KmipdProcess;
let creds: Credentials;
const sockets: TLSSocket[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  kmipd = await startKmipdProcess({ clients: ['alice', 'idle', 'slow'] });
  creds = { port: kmipd.port, ...(await loadClients(kmipd.pkiDir, ['alice', 'idle', 'slow'])) };
}, 60_000);
afterAll(async () => {
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  await kmipd.stop();
});

async function crowd(name: string, count: number): Promise<TLSSocket[]> {
  const out: TLSSocket[] = [];
  for (let i = 0; i < count; i += 50) {
    out.push(...(await Promise.all(Array.from({ length: 50 }, () => connectAs(creds, name)))));
  }
  sockets.push(...out);
  return out;
}

describe('crowds', () => {
  it('serves a legitimate client while 1,000 idle and 1,000 slowloris connections are open', async () => {
    const idle = await crowd('idle', CROWD);
    const slow = await crowd('slow', CROWD);
    for (const s of slow) {
      let i = 0;
      const t = setInterval(() => {
        if (!s.destroyed) s.write(DISCOVER.subarray(i, ++i));
      }, 1_000);
      timers.push(t);
    }
    await new Promise((r) => setTimeout(r, 3_000));
    for (let k = 0; k < 5; k++) expect(await serves(creds)).toBe(true);
    // The crowds were still connected while the legitimate client was served.
    expect(idle.filter((s) => s.destroyed)).toHaveLength(0);
    expect(slow.filter((s) => s.destroyed)).toHaveLength(0);
  }, 180_000);
});
