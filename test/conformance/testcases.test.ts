// `kmip conformance run` against a live kmipd (child process, memory store) over the
// non-normative KMIP Test Cases notes: v1.3 (cnd01), v1.4 (cnprd01, KMIP 1.0-1.4 files), v2.0
// (cnd02) and v2.1 (cn01). Each set runs on its own server; the cases of ISOLATED run each on a
// fresh server of their own. Cases kmipd does not pass are listed, each with its reason, in
// fixtures/conformance-skips/testcases-skip.txt; every other case must pass. The counts are the
// ones measured when the list was written, so a case that starts passing shows up here too
// (take it off the list and raise the count).

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/conformance/report.js';
import type { CaseResult } from '../../src/conformance/runner.js';
import { SkipList } from '../../src/conformance/skip-list.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { ROOT, runKmipCli } from './kmip-cli.js';

const SKIP_FILE = join(ROOT, 'fixtures', 'conformance-skips', 'testcases-skip.txt');
const NOTES = join(ROOT, 'fixtures', 'conformance');

/**
 * Files the runner cannot load (it reports them failed before the skip list applies). They are
 * left out of the run and counted as skipped; the skip list names them with the reason.
 */
const UNLOADABLE = ['TC-DERIVEKEY-4-10'];

const SETUP_1 = join(NOTES, 'kmip-testcases-v1.3-cnd01', 'TC-OTP-SETUP-1-13.xml');
const SETUP_2 = join(NOTES, 'kmip-testcases-v1.3-cnd01', 'TC-OTP-SETUP-2-13.xml');

/**
 * Cases that need a server of their own, with the fixture files (FORMAT.md §2) run there first.
 * The notes' cases are independent scenarios, but these Locate by attributes that other cases'
 * objects share, or register what another case must find exactly once:
 * - TC-OFFSET-*: Locate by Object Type and dates, expecting only the case's own objects;
 * - TC-OTP-SETUP-2-13 registers a second "one-time-pad-1", without a Key Value: the alternative
 *   to TC-OTP-SETUP-1-13, whose pad TC-OTP-1/2/5 and TC-OTP-CLEANUP-1 expect to find alone;
 * - TC-OTP-3-*: Get of the pad that TC-OTP-SETUP-2-13 registers without a Key Value;
 * - TC-NP-*: the server pushes Put and Notify (KMIP 1.4 §5) to the runner's push listener
 *   (`push`), so its server is started with --push-to that listener; on a server of its own,
 *   no other case's objects are pushed to it.
 */
const ISOLATED: { pattern: RegExp; setup: string[]; push?: boolean }[] = [
  { pattern: /^TC-OFFSET-/, setup: [] },
  { pattern: /^TC-OTP-SETUP-2-/, setup: [] },
  { pattern: /^TC-OTP-3-/, setup: [SETUP_2] },
  { pattern: /^TC-NP-/, setup: [], push: true },
];

const isolation = (file: string) => ISOLATED.find((i) => i.pattern.test(file));

interface SetRun {
  name: string;
  dir: string;
  /** Fixture files of another set run first on the same server, not counted (FORMAT.md §2). */
  setup?: string[];
  /** Measured when testcases-skip.txt was written. */
  measured: { cases: number; passed: number; skipped: number };
  cases?: CaseResult[];
  codes?: (number | null)[];
  leftOut?: string[];
}

const SETS: SetRun[] = [
  {
    name: 'v1.3 Test Cases',
    dir: join(NOTES, 'kmip-testcases-v1.3-cnd01'),
    measured: { cases: 39, passed: 26, skipped: 13 },
  },
  {
    name: 'v1.4 Test Cases',
    dir: join(NOTES, 'kmip-testcases-v1.4-cnprd01'),
    // TC-OTP-*-14 locate the pad that the v1.3 note's TC-OTP-SETUP-1-13 registers.
    setup: [SETUP_1],
    measured: { cases: 110, passed: 95, skipped: 15 },
  },
  {
    name: 'v2.0 Test Cases',
    dir: join(NOTES, 'kmip-testcases-v2.0-cnd02'),
    measured: { cases: 60, passed: 57, skipped: 3 },
  },
  {
    name: 'v2.1 Test Cases',
    dir: join(NOTES, 'kmip-testcases-v2.1-cn01'),
    measured: { cases: 6, passed: 6, skipped: 0 },
  },
];

/** passed / (passed + failed + skipped) over all four sets, as measured. */
const MEASURED_RATIO = { passed: 184, cases: 215 };

const idOf = (file: string) => file.replace(/\.xml$/, '');

/** A port that was free a moment ago, for the push listener kmipd must know before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs FILES against a new kmipd; SETUP files first, on the same server, unreported. The
 * client is an administrator: TC-MD-24-21 sets the server's constraints. With `push`, kmipd
 * pushes the admin's objects to the runner's push listener (--push-to, --push-listen), which
 * presents the development PKI's server certificate.
 */
async function runOnNewServer(
  files: string[],
  reportPath: string,
  setup: string[] = [],
  push = false,
): Promise<{ code: number | null; report: JsonReport }> {
  const pushPort = push ? await freePort() : undefined;
  const server: KmipdProcess = await startKmipdProcess({
    store: 'memory',
    admins: ['admin'],
    args: pushPort === undefined ? [] : ['--push-to', `127.0.0.1:${pushPort},owners=admin`],
  });
  try {
    const admin = server.client('admin');
    const common = [
      '--server',
      `127.0.0.1:${server.port}`,
      '--cert',
      admin.cert,
      '--key',
      admin.key,
      '--ca',
      server.ca,
    ];
    const listen =
      pushPort === undefined
        ? []
        : [
            '--push-listen',
            `127.0.0.1:${pushPort}`,
            '--push-cert',
            join(server.pkiDir, 'server.crt'),
            '--push-key',
            join(server.pkiDir, 'server.key'),
          ];
    if (setup.length > 0) {
      const pre = await runKmipCli(['conformance', 'run', ...setup, ...common]);
      if (pre.code !== 0) throw new Error(`setup files failed:\n${pre.stdout}${pre.stderr}`);
    }
    const run = await runKmipCli([
      'conformance',
      'run',
      ...files,
      ...common,
      ...listen,
      '--skip-list',
      SKIP_FILE,
      '--report',
      reportPath,
    ]);
    return {
      code: run.code,
      report: JSON.parse(await readFile(reportPath, 'utf8')) as JsonReport,
    };
  } finally {
    await server.stop();
  }
}

async function runSet(set: SetRun, work: string): Promise<void> {
  const files = (await readdir(set.dir)).filter((f) => f.endsWith('.xml')).sort();
  set.leftOut = files.map(idOf).filter((id) => UNLOADABLE.includes(id));
  const runnable = files.filter((f) => !UNLOADABLE.includes(idOf(f)));
  const shared = runnable.filter((f) => isolation(f) === undefined);
  const alone = runnable.filter((f) => isolation(f) !== undefined);
  const tag = set.name.replace(/\W+/g, '-');
  const runs = [
    await runOnNewServer(
      shared.map((f) => join(set.dir, f)),
      join(work, `${tag}.json`),
      set.setup,
    ),
  ];
  for (const f of alone) {
    const report = join(work, `${tag}-${idOf(f)}.json`);
    const { setup, push } = isolation(f)!;
    runs.push(await runOnNewServer([join(set.dir, f)], report, setup, push));
  }
  set.cases = runs.flatMap((r) => r.report.cases);
  set.codes = runs.map((r) => r.code);
}

const count = (set: SetRun, status: CaseResult['status']) =>
  set.cases!.filter((c) => c.status === status).length;

describe('kmip conformance run against kmipd (KMIP Test Cases notes 1.3, 1.4, 2.0, 2.1)', () => {
  let work: string;
  let skips: SkipList;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'kmip-testcases-'));
    skips = await SkipList.load(SKIP_FILE);
    for (const set of SETS) await runSet(set, work);
  }, 600_000);

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it.each(SETS)('$name: every case not on the skip list passes (exit code 0)', (set) => {
    const failed = set.cases!.filter((c) => c.status === 'failed');
    expect(failed.map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
    expect(set.codes!.every((c) => c === 0)).toBe(true);
  });

  it.each(SETS)('$name: passes and skips exactly the measured cases', (set) => {
    const skipped = count(set, 'skipped') + set.leftOut!.length;
    expect({
      cases: set.cases!.length + set.leftOut!.length,
      passed: count(set, 'passed'),
      skipped,
    }).toEqual(set.measured);
  });

  it.each(SETS)('$name: each skipped case carries its reason from the list', (set) => {
    for (const c of set.cases!.filter((c) => c.status === 'skipped')) {
      expect(c.reason).toBe(skips.reasonFor(c.id));
    }
    for (const id of set.leftOut!) expect(skips.reasonFor(id)).toMatch(/^known-bad file/);
  });

  it('passes the measured share of all cases', () => {
    const passed = SETS.reduce((n, s) => n + count(s, 'passed'), 0);
    const cases = SETS.reduce((n, s) => n + s.cases!.length + s.leftOut!.length, 0);
    expect({ passed, cases }).toEqual(MEASURED_RATIO);
  });
});
