// `kmip conformance run` against a live kmipd (child process, memory store, one server per set)
// over the non-normative KMIP Test Cases notes: kmip-testcases-v1.4-cnprd01 (KMIP 1.0-1.4 files)
// and kmip-testcases-v2.1-cn01. Cases kmipd does not pass are listed, each with its reason, in
// fixtures/conformance-skips/testcases-skip.txt; every other case must pass. The counts are the
// ones measured when the list was written, so a case that starts passing shows up here too
// (take it off the list and raise the count).

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/conformance/report.js';
import { SkipList } from '../../src/conformance/skip-list.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { type CliRun, ROOT, runKmipCli } from './kmip-cli.js';

const SKIP_FILE = join(ROOT, 'fixtures', 'conformance-skips', 'testcases-skip.txt');

/**
 * Files the runner cannot load (it reports them failed before the skip list applies). They are
 * left out of the run and counted as skipped; the skip list names them with the reason.
 */
const UNLOADABLE = ['TC-DERIVEKEY-4-10'];

interface SetRun {
  name: string;
  dir: string;
  /** Measured when testcases-skip.txt was written. */
  measured: { cases: number; passed: number; skipped: number };
  run?: CliRun;
  report?: JsonReport;
  leftOut?: string[];
}

const SETS: SetRun[] = [
  {
    name: 'v1.4 Test Cases',
    dir: join(ROOT, 'fixtures', 'conformance', 'kmip-testcases-v1.4-cnprd01'),
    measured: { cases: 110, passed: 70, skipped: 40 },
  },
  {
    name: 'v2.1 Test Cases',
    dir: join(ROOT, 'fixtures', 'conformance', 'kmip-testcases-v2.1-cn01'),
    measured: { cases: 6, passed: 4, skipped: 2 },
  },
];

/** passed / (passed + failed + skipped) over both sets, as measured: 74 of 116. */
const MEASURED_RATIO = { passed: 74, cases: 116 };

async function runSet(set: SetRun, work: string): Promise<void> {
  const files = (await readdir(set.dir)).filter((f) => f.endsWith('.xml')).sort();
  set.leftOut = files.map((f) => f.replace(/\.xml$/, '')).filter((id) => UNLOADABLE.includes(id));
  const server: KmipdProcess = await startKmipdProcess({ store: 'memory' });
  try {
    const admin = server.client('admin');
    const reportPath = join(work, `${set.name.replace(/\W+/g, '-')}.json`);
    set.run = await runKmipCli([
      'conformance',
      'run',
      ...files
        .filter((f) => !UNLOADABLE.includes(f.replace(/\.xml$/, '')))
        .map((f) => join(set.dir, f)),
      '--server',
      `127.0.0.1:${server.port}`,
      '--cert',
      admin.cert,
      '--key',
      admin.key,
      '--ca',
      server.ca,
      '--skip-list',
      SKIP_FILE,
      '--report',
      reportPath,
    ]);
    set.report = JSON.parse(await readFile(reportPath, 'utf8')) as JsonReport;
  } finally {
    await server.stop();
  }
}

describe('kmip conformance run against kmipd (KMIP Test Cases notes 1.4 and 2.1)', () => {
  let work: string;
  let skips: SkipList;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'kmip-testcases-'));
    skips = await SkipList.load(SKIP_FILE);
    for (const set of SETS) await runSet(set, work);
  }, 300_000);

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it.each(SETS)('$name: every case not on the skip list passes (exit code 0)', (set) => {
    const failed = set.report!.cases.filter((c) => c.status === 'failed');
    expect(failed.map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
    expect(set.run!.code).toBe(0);
  });

  it.each(SETS)('$name: passes and skips exactly the measured cases', (set) => {
    const { passed, failed, skipped } = set.report!.totals;
    expect(failed).toBe(0);
    expect(passed).toBe(set.measured.passed);
    expect(skipped + set.leftOut!.length).toBe(set.measured.skipped);
    expect(passed + skipped + set.leftOut!.length).toBe(set.measured.cases);
  });

  it.each(SETS)('$name: each skipped case carries its reason from the list', (set) => {
    for (const c of set.report!.cases.filter((c) => c.status === 'skipped')) {
      expect(c.reason).toBe(skips.reasonFor(c.id));
    }
    for (const id of set.leftOut!) expect(skips.reasonFor(id)).toMatch(/^known-bad file/);
  });

  it('passes the measured share of all cases', () => {
    const passed = SETS.reduce((n, s) => n + s.report!.totals.passed, 0);
    const cases = SETS.reduce((n, s) => n + s.report!.cases.length + s.leftOut!.length, 0);
    expect({ passed, cases }).toEqual(MEASURED_RATIO);
  });
});
