// `kmip conformance run` against a live kmipd: the optional cases of KMIP Profiles 1.4 and 2.1
// of the profiles kmipd claims (BL, SKLC, SKFF, AKLC, CS-BC, CS-AC, CS-RNG, OMOS, MSGENC), three
// times, each on a fresh kmipd (child process, port 0, memory store): binary TTLV over TLS, XML
// over HTTPS and JSON over HTTPS, with the Interop and Log pairs sent. With
// fixtures/conformance-skips/optional-skip.txt (a reason per case) each run must exit 0, and
// the counts must not fall below what was measured.

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
 * 6 skipped (the CS-RNG-O-1/2/4 alternatives to CS-RNG-O-3), on every wire.
 */
const MEASURED = { cases: 14, passed: 8, skipped: 6 };

interface Wire {
  transport: 'tls' | 'https';
  encoding: 'ttlv' | 'xml' | 'json';
}
const WIRES: Record<string, Wire> = {
  'TTLV over TLS': { transport: 'tls', encoding: 'ttlv' },
  'XML over HTTPS': { transport: 'https', encoding: 'xml' },
  'JSON over HTTPS': { transport: 'https', encoding: 'json' },
};

interface WireRun {
  run: CliRun;
  report: JsonReport;
}

/** One run of the optional cases on a fresh kmipd, which is stopped afterwards. */
async function runOnFreshKmipd(files: string[], wire: Wire, work: string): Promise<WireRun> {
  const server = await startKmipdProcess({ store: 'memory', args: ['--https-port', '0'] });
  try {
    const httpsPort = server.logs().find((l) => l.msg === 'listening')?.httpsPort;
    if (typeof httpsPort !== 'number') throw new Error('kmipd logged no HTTPS port');
    const admin = server.client('admin');
    const reportFile = join(work, `${wire.transport}-${wire.encoding}.json`);
    const run = await runKmipCli([
      'conformance',
      'run',
      ...files,
      '--server',
      `127.0.0.1:${wire.transport === 'https' ? httpsPort : server.port}`,
      '--https-server',
      `127.0.0.1:${httpsPort}`,
      '--transport',
      wire.transport,
      '--encoding',
      wire.encoding,
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
      reportFile,
    ]);
    return { run, report: JSON.parse(await readFile(reportFile, 'utf8')) as JsonReport };
  } finally {
    await server.stop();
  }
}

describe('kmip conformance run against kmipd (optional cases of the claimed profiles)', () => {
  let work: string;
  const runs = new Map<string, WireRun>();

  beforeAll(async () => {
    const files: string[] = [];
    for (const dir of OPTIONAL) {
      for (const f of (await readdir(dir)).sort()) if (CLAIMED.test(f)) files.push(join(dir, f));
    }
    work = await mkdtemp(join(tmpdir(), 'kmip-conformance-optional-'));
    const done = await Promise.all(
      Object.entries(WIRES).map(
        async ([name, wire]) => [name, await runOnFreshKmipd(files, wire, work)] as const,
      ),
    );
    for (const [name, r] of done) runs.set(name, r);
  });

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  describe.each(Object.keys(WIRES))('%s', (name) => {
    const get = () => runs.get(name)!;

    it('exits 0: every optional case not on the skip list passes', () => {
      const { run, report } = get();
      const failures = report.cases
        .filter((c) => c.status === 'failed')
        .map((c) => `${c.id}: ${c.reason}`);
      expect(failures).toEqual([]);
      expect(run.code).toBe(0);
    });

    it('runs every optional case of the claimed profiles and passes as many as measured', () => {
      const { report } = get();
      expect(report.cases).toHaveLength(MEASURED.cases);
      expect(report.totals.passed).toBeGreaterThanOrEqual(MEASURED.passed);
      expect(report.totals.skipped).toBeLessThanOrEqual(MEASURED.skipped);
    });

    it('skips only listed cases, with the reason from the list', async () => {
      const list = await SkipList.load(SKIP_LIST);
      for (const c of get().report.cases.filter((c) => c.status === 'skipped')) {
        expect(c.reason).toBe(list.reasonFor(c.id));
      }
    });

    it('answers RNG Seed with the outcome kmipd chose (CS-RNG-O-3: none of the seed used)', () => {
      for (const id of ['CS-RNG-O-3-14', 'CS-RNG-O-3-21']) {
        expect(get().report.cases.find((c) => c.id === id)?.status).toBe('passed');
      }
    });
  });
});
