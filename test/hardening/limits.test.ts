// Connection caps, handshake deadlines and vanishing clients on an in-process TLS listener
// with small limits (the defaults are in DEFAULT_CONNECTION_LIMITS, src/server/connection.ts).

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONNECTION_LIMITS } from '../../src/server/connection.js';
import {
  closed,
  connectAs,
  DISCOVER,
  discover,
  eventually,
  type InProcessServer,
  inProcessServer,
  serves,
} from './support.js';

describe('defaults', () => {
  it('are the documented ones', () => {
    expect(DEFAULT_CONNECTION_LIMITS).toEqual({
      maxMessageBytes: 1024 * 1024,
      idleTimeoutMs: 120_000,
      messageTimeoutMs: 30_000,
      maxQueuedRequests: 16,
      handshakeTimeoutMs: 10_000,
      maxConnections: 10_000,
      maxConnectionsPerIdentity: 1_000,
      shutdownGraceMs: 10_000,
    });
  });
});

describe('connection caps', () => {
  let s: InProcessServer;
  beforeAll(async () => {
    s = await inProcessServer(['alice', 'bob', 'carol'], {
      maxConnections: 8,
      maxConnectionsPerIdentity: 3,
    });
  });
  afterAll(() => s.stop());

  it('refuses a fourth connection of one identity after the handshake, with a log line; others are served', async () => {
    const held = await Promise.all([1, 2, 3].map(() => connectAs(s, 'bob')));
    const fourth = await connectAs(s, 'bob');
    await closed(fourth);
    expect(s.logs.some((l) => l.msg.includes('too many connections for this identity'))).toBe(true);
    // bob's first three still work, and alice is unaffected.
    expect(await discover(held[0]!)).toBe(true);
    expect(await serves(s, 'alice')).toBe(true);
    for (const h of held) h.destroy();
    // Once bob's connections are gone he may connect again.
    expect(await eventually(() => s.server.stats().identities.get('bob') === undefined)).toBe(true);
    expect(await serves(s, 'bob')).toBe(true);
  });

  it('refuses connections over the overall cap before their handshake, with a log line', async () => {
    // Eight raw TCP connections fill the cap (handshaking connections count).
    const raw = await Promise.all(
      Array.from({ length: 8 }, () => {
        const c = net.connect(s.port, '127.0.0.1');
        c.on('error', () => {});
        return new Promise<net.Socket>((r) => c.once('connect', () => r(c)));
      }),
    );
    expect(await eventually(() => s.server.stats().connections === 8)).toBe(true);
    await expect(connectAs(s, 'carol')).rejects.toThrow();
    expect(s.logs.some((l) => l.msg === 'connection refused: too many connections')).toBe(true);
    for (const c of raw) c.destroy();
    expect(await eventually(() => s.server.stats().connections === 0)).toBe(true);
    expect(await serves(s, 'carol')).toBe(true);
  });
});

describe('handshake deadline', () => {
  let s: InProcessServer;
  beforeAll(async () => {
    s = await inProcessServer(['alice'], { handshakeTimeoutMs: 500 });
  });
  afterAll(() => s.stop());

  it('closes a TCP client that never sends a ClientHello', async () => {
    const c = net.connect(s.port, '127.0.0.1');
    c.on('error', () => {});
    await closed(c);
    expect(
      s.logs.filter((l) => l.msg === 'closing connection: TLS handshake too slow'),
    ).toHaveLength(1);
  });

  it('closes a client that trickles its ClientHello, however often it sends', async () => {
    // A real ClientHello, one byte every 100 ms: Node's inactivity timer alone never fires.
    const c = net.connect(s.port, '127.0.0.1');
    c.on('error', () => {});
    const hello = Buffer.from(
      '16030100c4010000c00303' +
        'ab'.repeat(32) +
        '00' +
        '0002c02f' +
        '0100' +
        '0095' +
        '00'.repeat(0x95),
      'hex',
    );
    let i = 0;
    const timer = setInterval(() => {
      if (!c.destroyed && i < hello.length) c.write(hello.subarray(i, ++i));
    }, 100);
    await closed(c);
    clearInterval(timer);
    expect(i).toBeLessThan(hello.length);
    expect(
      s.logs.filter((l) => l.msg === 'closing connection: TLS handshake too slow'),
    ).toHaveLength(2);
    expect(await serves(s)).toBe(true);
  });
});

describe('vanishing clients', () => {
  let s: InProcessServer;
  beforeAll(async () => {
    s = await inProcessServer(['alice'], {});
  });
  afterAll(() => s.stop());

  it('forgets a client that disappears mid-request or with answers unread', async () => {
    for (let k = 0; k < 20; k++) {
      const half = await connectAs(s, 'alice');
      half.write(DISCOVER.subarray(0, 20));
      const unread = await connectAs(s, 'alice');
      unread.write(Buffer.concat(Array.from({ length: 200 }, () => DISCOVER)));
      await new Promise((r) => setImmediate(r));
      half.destroy();
      unread.destroy();
    }
    expect(await eventually(() => s.server.stats().connections === 0)).toBe(true);
    expect(s.server.stats().identities.size).toBe(0);
    expect(await serves(s)).toBe(true);
  });
});
