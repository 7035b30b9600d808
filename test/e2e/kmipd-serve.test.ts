// `kmipd serve` as an operator meets it: start-up failures exit non-zero with one clear line on
// stderr, the first start writes the development PKI, and SIGTERM while idle stops cleanly.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKmipd, startKmipdProcess } from '../helpers/kmipd-process.js';

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kmipd-serve-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('kmipd serve start-up failures', () => {
  it('an unknown flag: exit 1, names the flag', async () => {
    const r = await runKmipd(['serve', '--data-dir', join(scratch, 'flag'), '--bogus-flag']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmipd: Unknown arguments?: bogus-flag/);
    expect(r.stdout).not.toContain('"listening"');
  });

  it.each([
    [['--port', '99999'], '--port must be 0-65535'],
    [['--store', 'floppy'], 'Invalid values'],
  ])('a bad flag value %j: exit 1, says what is wrong', async (flags, message) => {
    const r = await runKmipd(['serve', '--data-dir', join(scratch, 'value'), ...flags]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmipd: /);
    expect(r.stderr).toContain(message);
  });

  it('a port already in use: exit 1, says so', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const r = await runKmipd([
        'serve',
        '--data-dir',
        join(scratch, 'busy'),
        '--store',
        'memory',
        '--port',
        String(port),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^kmipd: port already in use/);
      expect(r.stderr).toContain(String(port));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('a certificate path that cannot be read: exit 1, names the file', async () => {
    const missing = join(scratch, 'nowhere', 'server.crt');
    const r = await runKmipd([
      'serve',
      '--data-dir',
      join(scratch, 'cert'),
      '--store',
      'memory',
      '--port',
      '0',
      '--cert',
      missing,
      '--key',
      join(scratch, 'nowhere', 'server.key'),
      '--ca',
      join(scratch, 'nowhere', 'ca.crt'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmipd: file not found: /);
    expect(r.stderr).toContain(join(scratch, 'nowhere'));
    expect(r.stdout).not.toContain('"listening"');
  });

  it('--cert without --key and --ca: exit 1, says they go together', async () => {
    const r = await runKmipd(['serve', '--data-dir', join(scratch, 'half'), '--cert', 'x.crt']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--cert, --key and --ca go together');
  });
});

describe('kmipd serve lifecycle', () => {
  it('first start writes the development PKI; SIGTERM while idle exits 0 and logs "stopped"', async () => {
    const server = await startKmipdProcess({ store: 'sqlite' });
    const pki = join(server.dataDir, 'pki');
    for (const file of ['ca.crt', 'server.crt', 'server.key', 'admin.crt', 'admin.key']) {
      expect(existsSync(join(pki, file)), file).toBe(true);
    }
    const listening = server.logs().find((l) => l.msg === 'listening');
    expect(listening).toMatchObject({ host: '127.0.0.1', port: server.port, store: 'sqlite' });
    const status = await server.stop();
    expect(status).toEqual({ code: 0, signal: null });
    const messages = server.logs().map((l) => l.msg);
    expect(messages).toContain('stopped');
    expect(messages.indexOf('stopped')).toBeGreaterThan(messages.indexOf('listening'));
    expect(server.stderr()).toBe('');
  });
});
