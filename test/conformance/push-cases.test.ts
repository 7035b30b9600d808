// The server-to-client cases of the KMIP 1.4 Test Cases note (TC-NP-1-14, TC-NP-2-14: Put and
// Notify) through the conformance runner: a kmipd child process pushes to the runner's push
// listener (mutual TLS, 127.0.0.1, a port the system chose), which compares each message with
// the file's request. Without a listener the cases are skipped; a file whose expected Notify
// differs from what kmipd sends fails.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushListener } from '../../src/conformance/push-listener.js';
import { runCases, type ServerTarget } from '../../src/conformance/runner.js';
import { initPki } from '../../src/pki/dev-pki.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { ROOT } from './kmip-cli.js';

const NOTE = join(ROOT, 'fixtures', 'conformance', 'kmip-testcases-v1.4-cnprd01');
const CASES = ['TC-NP-1-14.xml', 'TC-NP-2-14.xml'].map((f) => join(NOTE, f));

let work: string;
let listener: PushListener;
let server: KmipdProcess;
let target: ServerTarget;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kmip-push-cases-'));
  const pki = await initPki({ dir: join(work, 'pki'), clients: ['admin'] });
  const read = (p: string) => readFile(p);
  const ca = await read(pki.ca.cert);
  listener = await PushListener.listen({
    host: '127.0.0.1',
    port: 0,
    cert: await read(pki.server.cert),
    key: await read(pki.server.key),
    ca,
  });
  server = await startKmipdProcess({
    store: 'memory',
    args: [
      ...['--cert', pki.server.cert, '--key', pki.server.key, '--ca', pki.ca.cert],
      ...['--push-to', `127.0.0.1:${listener.address.port},owners=admin`],
    ],
  });
  target = {
    host: '127.0.0.1',
    port: server.port,
    cert: await read(pki.clients.admin!.cert),
    key: await read(pki.clients.admin!.key),
    ca,
  };
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await listener?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('TC-NP (Put and Notify) through kmip conformance run', () => {
  it('passes TC-NP-1-14 and TC-NP-2-14 with a push listener', async () => {
    const results = await runCases(CASES, { target, push: listener, requestTimeoutMs: 10_000 });
    expect(results.map((r) => [r.id, r.status, r.reason])).toEqual([
      ['TC-NP-1-14', 'passed', undefined],
      ['TC-NP-2-14', 'passed', undefined],
    ]);
    expect(results.map((r) => r.pairsRun)).toEqual([3, 8]);
  });

  it('skips them, with the reason, without a push listener', async () => {
    const results = await runCases(CASES, { target });
    for (const r of results) {
      expect(r.status).toBe('skipped');
      expect(r.reason).toMatch(/push listener \(--push-listen\)/);
    }
  });

  it('fails a case whose expected Notify differs from the one kmipd sends', async () => {
    const text = await readFile(CASES[1]!, 'utf8');
    const at = text.lastIndexOf('value="Destroyed"');
    const wrong = join(work, 'TC-NP-2-14.xml');
    await writeFile(wrong, `${text.slice(0, at)}value="Active"${text.slice(at + 17)}`);
    const [r] = await runCases([wrong], { target, push: listener, requestTimeoutMs: 10_000 });
    expect(r!.status).toBe('failed');
    expect(r!.step).toBe(7);
    expect(r!.reason).toMatch(
      /Notify from the server.*Attribute\['State'\] › AttributeValue: values differ/,
    );
  });
});
