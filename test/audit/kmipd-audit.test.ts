// A live `kmipd serve` on the SQLite store keeps DATA/audit.log by default: one chained record
// per operation with the request id of its pino line, checked with `kmip audit verify` while
// the server runs (--live) and after shutdown (final checkpoint); no secret in it; and an
// edited record makes the command fail naming the line.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmipClient } from '../../src/client/index.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';

const KMIP_BIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'bin', 'kmip.js');
let dataDir: string;
let kmipd: KmipdProcess;

function kmip(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [KMIP_BIN, ...args], (err, stdout, stderr) => {
      done({ code: err === null ? 0 : Number(err.code), stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kmipd-audit-e2e-'));
  kmipd = await startKmipdProcess({ store: 'sqlite', dataDir });
});

afterAll(async () => {
  await kmipd?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('kmipd audit log', () => {
  const secret = Buffer.from('correct horse battery staple, not for the audit log');
  const auditLog = () => join(dataDir, 'audit.log');

  it('records every operation, verifies live and after shutdown', async () => {
    const admin = kmipd.client('admin');
    const client = await KmipClient.connect({
      host: '127.0.0.1',
      port: kmipd.port,
      cert: await readFile(admin.cert),
      key: await readFile(admin.key),
      ca: await readFile(kmipd.ca),
    });
    const { uid } = await client.create({
      cryptographicAlgorithm: 'AES',
      cryptographicLength: 256,
    });
    const reg = await client.register({ objectType: 'SecretData', value: secret });
    await client.get(reg.uid);
    await expect(client.get('no-such-object')).rejects.toThrow();
    await client.destroy(uid);
    await client.close();

    const live = await kmip(['audit', 'verify', auditLog(), '--live']);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(/intact: \d+ records, 0 checkpoints, signatures checked/);

    const text = await readFile(auditLog(), 'utf8');
    const records = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ops = records.map((r) => `${r.operation}:${(r.result as { status: string }).status}`);
    expect(ops).toEqual(
      expect.arrayContaining([
        'Create:Success',
        'Register:Success',
        'Get:Success',
        'Get:OperationFailed',
        'Destroy:Success',
      ]),
    );
    expect(records.find((r) => r.operation === 'Create')).toMatchObject({
      principal: 'admin',
      uid,
    });
    expect(records.find((r) => r.result && (r.result as { reason?: string }).reason)).toMatchObject(
      {
        operation: 'Get',
        result: { status: 'OperationFailed', reason: expect.stringMatching(/NotFound/) },
      },
    );
    // Each record's req is the req of the pino audit line of the same operation.
    const pinoReqs = new Set(
      kmipd
        .logs()
        .filter((l) => l.audit === true)
        .map((l) => l.req),
    );
    for (const r of records) expect(pinoReqs.has(r.req)).toBe(true);
    expect(text).not.toContain(secret.toString());
    expect(text).not.toContain(secret.toString('hex'));
    expect(text).not.toContain(secret.toString('base64'));

    expect((await kmipd.stop()).code).toBe(0);
    const after = await kmip(['audit', 'verify', auditLog()]);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/intact: \d+ records, 1 checkpoint/);
    const last = JSON.parse((await readFile(auditLog(), 'utf8')).trim().split('\n').pop()!);
    expect(last).toMatchObject({ type: 'checkpoint', records: records.length });
  });

  it('kmip audit verify names the first edited line and exits 1', async () => {
    const lines = (await readFile(auditLog(), 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"principal":"admin"', '"principal":"nobody"');
    const edited = join(dataDir, 'edited.log');
    await writeFile(edited, lines.join('\n'));
    const r = await kmip([
      'audit',
      'verify',
      edited,
      '--public-key',
      join(dataDir, 'audit-signing.pub'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 2: its hash does not match its content/);
  });
});
