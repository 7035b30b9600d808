// `kmip conformance run` against a live kmipd: the mandatory cases of KMIP Profiles 1.4 and 2.1
// three times, each on a fresh kmipd (child process, port 0, memory store): binary TTLV over
// TLS, XML over HTTPS and JSON over HTTPS (--transport https --encoding xml|json). The
// MSGENC-HTTPS/XML/JSON cases always go over the HTTPS port in the encoding their id names
// (src/conformance/transports.ts). With fixtures/conformance-skips/mandatory-skip.txt (a reason
// per case, profiles kmipd does not claim) every run must exit 0: no case that runs may fail.
// Every case in fixtures/conformance-skips/expected-pass.txt must pass on every wire, so a
// regression shows by name.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/conformance/report.js';
import { SkipList } from '../../src/conformance/skip-list.js';
import { startKmipdProcess } from '../helpers/kmipd-process.js';
import { type CliRun, expectedPasses, ROOT, runKmipCli } from './kmip-cli.js';

const SETS = [
  join(ROOT, 'fixtures', 'conformance', 'kmip-profiles-v1.4-os', 'mandatory'),
  join(ROOT, 'fixtures', 'conformance', 'kmip-profiles-v2.1-os', 'mandatory'),
];
const SKIP_LIST = join(ROOT, 'fixtures', 'conformance-skips', 'mandatory-skip.txt');
/** Measured on every wire: 151 passed, 0 failed, 3 skipped (TL-M-3-14/21, PKCS11-M-1-21). */
const MEASURED = { cases: 154, passed: 151, skipped: 3 };
/** The encoding an MSGENC case is sent in over HTTPS (Profiles §5.3.3, §5.4.4, §5.5.4). */
const MSGENC_ENCODING: Record<string, string> = { HTTPS: 'ttlv', JSON: 'json', XML: 'xml' };

interface Wire {
  transport: 'tls' | 'https';
  encoding: 'ttlv' | 'xml' | 'json';
  /** Send the Interop and Log pairs too (the runner skips them by default, Profiles §4.1.2). */
  interop: boolean;
}

/**
 * TTLV over TLS sends the Interop and Log pairs, which kmipd answers; the XML and JSON runs
 * keep the runner's default and skip them, so that default stays covered.
 */
const WIRES: Record<string, Wire> = {
  'TTLV over TLS': { transport: 'tls', encoding: 'ttlv', interop: true },
  'XML over HTTPS': { transport: 'https', encoding: 'xml', interop: false },
  'JSON over HTTPS': { transport: 'https', encoding: 'json', interop: false },
};

interface WireRun {
  run: CliRun;
  report: JsonReport;
  junit: string;
}

/** One run of the mandatory sets on a fresh kmipd, which is stopped afterwards. */
async function runOnFreshKmipd(wire: Wire, work: string): Promise<WireRun> {
  const server = await startKmipdProcess({ store: 'memory', args: ['--https-port', '0'] });
  try {
    const httpsPort = server.logs().find((l) => l.msg === 'listening')?.httpsPort;
    if (typeof httpsPort !== 'number') throw new Error('kmipd logged no HTTPS port');
    const port = wire.transport === 'https' ? httpsPort : server.port;
    const admin = server.client('admin');
    const name = `${wire.transport}-${wire.encoding}`;
    const run = await runKmipCli([
      'conformance',
      'run',
      ...SETS,
      '--server',
      `127.0.0.1:${port}`,
      '--https-server',
      `127.0.0.1:${httpsPort}`,
      '--transport',
      wire.transport,
      '--encoding',
      wire.encoding,
      ...(wire.interop ? ['--interop'] : []),
      '--skip-list',
      SKIP_LIST,
      '--cert',
      admin.cert,
      '--key',
      admin.key,
      '--ca',
      server.ca,
      '--report',
      join(work, `${name}.json`),
      '--junit',
      join(work, `${name}.xml`),
    ]);
    const report = JSON.parse(await readFile(join(work, `${name}.json`), 'utf8')) as JsonReport;
    return { run, report, junit: await readFile(join(work, `${name}.xml`), 'utf8') };
  } finally {
    await server.stop();
  }
}

describe('kmip conformance run against kmipd (mandatory 1.4 and 2.1 server profiles)', () => {
  let work: string;
  const runs = new Map<string, WireRun>();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'kmip-conformance-'));
    const done = await Promise.all(
      Object.entries(WIRES).map(async ([name, wire]) => [name, await runOnFreshKmipd(wire, work)]),
    );
    for (const [name, r] of done as [string, WireRun][]) runs.set(name, r);
  });

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('skips only cases of profiles kmipd does not claim, each with its reason', async () => {
    const list = await SkipList.load(SKIP_LIST);
    for (const e of list.entries) {
      expect(e.pattern).toMatch(/^(TL|PKCS11|SASED|QS)-/);
      expect(e.reason.length).toBeGreaterThan(10);
    }
  });

  describe.each(Object.keys(WIRES))('%s', (name) => {
    const wire = WIRES[name]!;
    const get = () => runs.get(name)!;

    it('exits 0 with no failure, and ends stdout with the totals line', () => {
      const { run, report } = get();
      const failures = report.cases
        .filter((c) => c.status === 'failed')
        .map((c) => `${c.id}: ${c.reason}`);
      expect(failures).toEqual([]);
      expect(run.code).toBe(0);
      const { passed, failed, skipped } = report.totals;
      expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(
        `${passed} passed, ${failed} failed, ${skipped} skipped`,
      );
      expect(report.cases).toHaveLength(MEASURED.cases);
    });

    it('passes every case of expected-pass.txt, and as many cases as measured', async () => {
      const { report } = get();
      const want = await expectedPasses();
      const byId = new Map(report.cases.map((c) => [c.id, c]));
      const regressions = want
        .map((id) => byId.get(id))
        .filter((c) => c?.status !== 'passed')
        .map((c) => `${c?.id}: ${c?.reason}`);
      expect(regressions).toEqual([]);
      expect(report.totals.passed).toBeGreaterThanOrEqual(MEASURED.passed);
      expect(report.totals.skipped).toBe(MEASURED.skipped);
    });

    it('runs each case on the wire of this run, the MSGENC cases in their own encoding', () => {
      const own = `${wire.transport}/${wire.encoding}`;
      for (const c of get().report.cases.filter((c) => c.status !== 'skipped')) {
        const m = /^MSGENC-(HTTPS|JSON|XML)-/.exec(c.id);
        const want = m === null ? own : `https/${MSGENC_ENCODING[m[1]!]}`;
        expect(`${c.id} ${c.wire}`).toBe(`${c.id} ${want}`);
      }
    });

    it('sends or skips the Interop Begin/End and Log pairs and counts them', () => {
      // BL-M-1-21: Interop Begin, Register, Locate, Get, Log, Destroy, Interop End.
      const bl = get().report.cases.find((c) => c.id === 'BL-M-1-21')!;
      expect(bl.status).toBe('passed');
      expect(bl.pairs).toBe(7);
      expect(bl.pairsSkipped).toBe(wire.interop ? 0 : 3);
      expect(bl.pairsRun + bl.pairsSkipped).toBe(bl.pairs);
    });

    it('writes a JUnit file with one test case per file', () => {
      const { junit } = get();
      expect(junit.match(/<testcase /g)).toHaveLength(MEASURED.cases);
      expect(junit).toContain('<testcase classname="SKLC 2.1" name="SKLC-M-1-21"');
    });
  });
});
