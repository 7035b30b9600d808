// `kmip conformance run` against a live kmipd (child process, port 0, memory store): the
// mandatory server-profile cases of KMIP Profiles 1.4 and 2.1 over binary TTLV, and the
// MSGENC-HTTPS/XML/JSON cases over the HTTPS port (--https-port 0) in the encoding each case
// names (src/conformance/transports.ts). Every case in
// fixtures/conformance-skips/expected-pass.txt must pass, so a regression shows by name, and
// the totals must not fall below what was measured when the list was written.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/conformance/report.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { type CliRun, expectedPasses, ROOT, runKmipCli } from './kmip-cli.js';

const SETS = [
  join(ROOT, 'fixtures', 'conformance', 'kmip-profiles-v1.4-os', 'mandatory'),
  join(ROOT, 'fixtures', 'conformance', 'kmip-profiles-v2.1-os', 'mandatory'),
];
/**
 * expected-pass.txt lists 151 cases: measured 151 passed, 3 failed (TL-M-3-14/21 depend on
 * key material another file's server made; PKCS11-M-1-21 needs the PKCS#11 operation),
 * 0 skipped.
 */
const MEASURED = { cases: 154, passed: 151, skipped: 0 };
/** The encoding an MSGENC case is sent in over HTTPS (Profiles §5.3.3, §5.4.4, §5.5.4). */
const MSGENC_ENCODING: Record<string, string> = { HTTPS: 'ttlv', JSON: 'json', XML: 'xml' };

describe('kmip conformance run against kmipd (mandatory 1.4 and 2.1 server profiles)', () => {
  let server: KmipdProcess;
  let work: string;
  let run: CliRun;
  let report: JsonReport;

  beforeAll(async () => {
    server = await startKmipdProcess({ store: 'memory', args: ['--https-port', '0'] });
    const httpsPort = server.logs().find((l) => l.msg === 'listening')?.httpsPort;
    expect(httpsPort).toBeTypeOf('number');
    work = await mkdtemp(join(tmpdir(), 'kmip-conformance-'));
    const admin = server.client('admin');
    run = await runKmipCli([
      'conformance',
      'run',
      ...SETS,
      '--server',
      `127.0.0.1:${server.port}`,
      '--https-server',
      `127.0.0.1:${httpsPort}`,
      '--cert',
      admin.cert,
      '--key',
      admin.key,
      '--ca',
      server.ca,
      '--report',
      join(work, 'report.json'),
      '--junit',
      join(work, 'junit.xml'),
    ]);
    report = JSON.parse(await readFile(join(work, 'report.json'), 'utf8')) as JsonReport;
  });

  afterAll(async () => {
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('runs every file and ends stdout with the totals line', () => {
    const { passed, failed, skipped } = report.totals;
    expect(report.cases).toHaveLength(MEASURED.cases);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(
      `${passed} passed, ${failed} failed, ${skipped} skipped`,
    );
    expect(passed + failed + skipped).toBe(MEASURED.cases);
  });

  it('passes every case of expected-pass.txt', async () => {
    const want = await expectedPasses();
    const byId = new Map(report.cases.map((c) => [c.id, c]));
    const regressions = want
      .map((id) => byId.get(id))
      .filter((c) => c?.status !== 'passed')
      .map((c) => `${c?.id}: ${c?.reason}`);
    expect(regressions).toEqual([]);
    expect(want.length).toBe(MEASURED.passed);
  });

  it('passes at least as many cases as measured, skips none, and runs MSGENC over HTTPS', () => {
    expect(report.totals.passed).toBeGreaterThanOrEqual(MEASURED.passed);
    expect(report.totals.skipped).toBe(MEASURED.skipped);
    for (const c of report.cases) {
      const m = /^MSGENC-(HTTPS|JSON|XML)-/.exec(c.id);
      const want = m === null ? 'tls/ttlv' : `https/${MSGENC_ENCODING[m[1]!]}`;
      expect(`${c.id} ${c.wire}`).toBe(`${c.id} ${want}`);
    }
  });

  it('exits non-zero while cases fail, and reports each failure with its path', () => {
    expect(report.totals.failed).toBeGreaterThan(0);
    expect(run.code).toBe(1);
    for (const c of report.cases.filter((c) => c.status === 'failed')) {
      expect(c.reason).toMatch(/^step \d+ \(/);
      expect(c.harness ?? false).toBe(false);
    }
  });

  it('skips Interop Begin/End and Log pairs by default and counts them', () => {
    // BL-M-1-21: Interop Begin, Register, Locate, Get, Log, Destroy, Interop End.
    const bl = report.cases.find((c) => c.id === 'BL-M-1-21')!;
    expect(bl.pairs).toBe(7);
    expect(bl.pairsSkipped).toBe(3);
    expect(bl.pairsRun + bl.pairsSkipped).toBe(bl.pairs);
  });

  it('writes a JUnit file with one test case per file', async () => {
    const xml = await readFile(join(work, 'junit.xml'), 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(MEASURED.cases);
    expect(xml).toContain('<testcase classname="SKLC 2.1" name="SKLC-M-1-21"');
  });
});
