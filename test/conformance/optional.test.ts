// `kmip conformance run` against a live kmipd: the optional cases of KMIP Profiles 1.4 and 2.1
// of the profiles kmipd claims (BL, SKLC, SKFF, AKLC, CS-BC, CS-AC, CS-RNG, OMOS, MSGENC), on a
// fresh kmipd (child process, port 0, memory store) over binary TTLV/TLS with the Interop and
// Log pairs sent. With fixtures/conformance-skips/optional-skip.txt (a reason per case) the run
// must exit 0, and the counts must not fall below what was measured.

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/conformance/report.js';
import { SkipList } from '../../src/conformance/skip-list.js';
import { startKmipdProcess } from '../helpers/kmipd-process.js';
import { type CliRun, ROOT, runKmipCli } from './kmip-cli.js';

const OPTIONAL = [
  join(ROOT, 'fixtures', 'conformance', 'kmip-profiles-v1.4-os', 'optional'),
  join(ROOT, 'fixtures', 'conformance', 'kmip-profiles-v2.1-os', 'optional'),
];
const SKIP_LIST = join(ROOT, 'fixtures', 'conformance-skips', 'optional-skip.txt');
/** The profiles kmipd claims; an optional case of any other profile is not run. */
const CLAIMED = /^(BL|SKLC|SKFF|AKLC|CS-BC|CS-AC|CS-RNG|OMOS|MSGENC)-O-/;
/**
 * Measured: 8 passed (AKLC-O-1, OMOS-O-1, SKLC-O-1, CS-RNG-O-3 at 1.4 and 2.1), 0 failed,
 * 6 skipped (the CS-RNG-O-1/2/4 alternatives to CS-RNG-O-3).
 */
const MEASURED = { cases: 14, passed: 8, skipped: 6 };

describe('kmip conformance run against kmipd (optional cases of the claimed profiles)', () => {
  let work: string;
  let run: CliRun;
  let report: JsonReport;

  beforeAll(async () => {
    const files: string[] = [];
    for (const dir of OPTIONAL) {
      for (const f of (await readdir(dir)).sort()) if (CLAIMED.test(f)) files.push(join(dir, f));
    }
    work = await mkdtemp(join(tmpdir(), 'kmip-conformance-optional-'));
    const server = await startKmipdProcess({ store: 'memory', args: ['--https-port', '0'] });
    try {
      const httpsPort = server.logs().find((l) => l.msg === 'listening')?.httpsPort;
      const admin = server.client('admin');
      run = await runKmipCli([
        'conformance',
        'run',
        ...files,
        '--server',
        `127.0.0.1:${server.port}`,
        '--https-server',
        `127.0.0.1:${httpsPort}`,
        '--interop',
        '--skip-list',
        SKIP_LIST,
        '--cert',
        admin.cert,
        '--key',
        admin.key,
        '--ca',
        server.ca,
        '--report',
        join(work, 'report.json'),
      ]);
    } finally {
      await server.stop();
    }
    report = JSON.parse(await readFile(join(work, 'report.json'), 'utf8')) as JsonReport;
  });

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('exits 0: every optional case not on the skip list passes', () => {
    const failures = report.cases
      .filter((c) => c.status === 'failed')
      .map((c) => `${c.id}: ${c.reason}`);
    expect(failures).toEqual([]);
    expect(run.code).toBe(0);
  });

  it('runs every optional case of the claimed profiles and passes as many as measured', () => {
    expect(report.cases).toHaveLength(MEASURED.cases);
    expect(report.totals.passed).toBeGreaterThanOrEqual(MEASURED.passed);
    expect(report.totals.skipped).toBeLessThanOrEqual(MEASURED.skipped);
  });

  it('skips only listed cases, with the reason from the list', async () => {
    const list = await SkipList.load(SKIP_LIST);
    for (const c of report.cases.filter((c) => c.status === 'skipped')) {
      expect(c.reason).toBe(list.reasonFor(c.id));
    }
  });

  it('answers RNG Seed with the outcome kmipd chose (CS-RNG-O-3: none of the seed used)', () => {
    for (const id of ['CS-RNG-O-3-14', 'CS-RNG-O-3-21']) {
      expect(report.cases.find((c) => c.id === id)?.status).toBe('passed');
    }
  });
});
