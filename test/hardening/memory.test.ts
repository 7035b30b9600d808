// Memory under hostile clients, measured on a real kmipd child with its default limits: a
// header claiming 4 GiB is refused before anything that size exists, and a client that sends
// 10,000 requests without reading an answer is stopped by backpressure, not buffered.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import {
  type Credentials,
  closed,
  connectAs,
  DISCOVER,
  eventually,
  loadClients,
  rssKiB,
  serves,
} from './support.js';

let kmipd: KmipdProcess;
let creds: Credentials;

beforeAll(async () => {
  kmipd = await startKmipdProcess({ clients: ['alice'] });
  creds = { port: kmipd.port, ...(await loadClients(kmipd.pkiDir, ['alice'])) };
  // Warm up (JIT, TLS session state) before the baselines.
  for (let i = 0; i < 20; i++) await serves(creds);
});
afterAll(() => kmipd.stop());

const MiB = 1024;

describe('memory', () => {
  it('closes a connection whose header claims 4 GiB before allocating it', async () => {
    const before = await rssKiB(kmipd.pid);
    for (let i = 0; i < 50; i++) {
      const socket = await connectAs(creds, 'alice');
      socket.write(Buffer.from('42007801fffffff8', 'hex'));
      socket.write(Buffer.alloc(64 * 1024, 0x42)); // and the start of a body
      await closed(socket);
    }
    expect(await rssKiB(kmipd.pid)).toBeLessThan(before + 64 * MiB);
    expect(kmipd.logs().filter((l) => l.msg === 'closing connection: bad frame')).toHaveLength(50);
    expect(await serves(creds)).toBe(true);
  });

  it('stops reading from a client that sends 10,000 requests and reads none', async () => {
    const before = await rssKiB(kmipd.pid);
    const answered = () => kmipd.logs().filter((l) => l.audit === true).length;
    const answeredBefore = answered();
    const socket = await connectAs(creds, 'alice');
    socket.pause();
    const n = 10_000;
    socket.write(Buffer.concat(Array.from({ length: n }, () => DISCOVER)));
    // The server answers until the socket buffers fill, then waits; it has not read the rest.
    let last = -1;
    await eventually(() => {
      const now = answered();
      const still = now === last;
      last = now;
      return still && now > answeredBefore;
    }, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const stalled = answered() - answeredBefore;
    expect(stalled).toBeLessThan(n);
    expect(await rssKiB(kmipd.pid)).toBeLessThan(before + 64 * MiB);
    // Others are served meanwhile.
    expect(await serves(creds)).toBe(true);
    // Once the client reads, every request is answered, in order and whole.
    const splitter = new FrameSplitter();
    let responses = 0;
    socket.on('data', (chunk: Buffer) => {
      responses += splitter.push(chunk).length;
    });
    socket.resume();
    expect(await eventually(() => responses === n, 60_000)).toBe(true);
    socket.destroy();
  });
});
