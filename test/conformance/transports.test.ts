// `kmip conformance run` over the HTTPS port (KMIP Profiles 2.1 §5.3 HTTPS, §5.4 XML, §5.5
// JSON) against a live kmipd started with --https-port 0: the MSGENC cases pick HTTPS and
// their encoding from their case id, and ordinary cases run over HTTPS in any encoding.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/conformance/report.js';
import { wireFormFor } from '../../src/conformance/transports.js';
import { type KmipdProcess, runKmipd, startKmipdProcess } from '../helpers/kmipd-process.js';
import { ROOT, runKmipCli } from './kmip-cli.js';

const V14 = join(ROOT, 'fixtures', 'conformance', 'kmip-profiles-v1.4-os', 'mandatory');
const V21 = join(ROOT, 'fixtures', 'conformance', 'kmip-profiles-v2.1-os', 'mandatory');
const MSGENC = ['HTTPS', 'XML', 'JSON'].flatMap((e) => [
  join(V14, `MSGENC-${e}-M-1-14.xml`),
  join(V21, `MSGENC-${e}-M-1-21.xml`),
]);
/** Ordinary cases with keys, attributes, dates, masks and the ID Placeholder. */
const ORDINARY = ['SKLC-M-1-21', 'AKLC-M-1-21', 'BL-M-3-21', 'CS-BC-M-1-14'].map((id) =>
  join(id.endsWith('-14') ? V14 : V21, `${id}.xml`),
);

describe('choosing the wire form of a case', () => {
  const fallback = { transport: 'tls', encoding: 'ttlv' } as const;
  it('MSGENC-HTTPS is TTLV, MSGENC-XML is XML and MSGENC-JSON is JSON, all over HTTPS', () => {
    expect(wireFormFor('MSGENC-HTTPS-M-1-21', fallback)).toEqual({
      transport: 'https',
      encoding: 'ttlv',
    });
    expect(wireFormFor('MSGENC-XML-M-1-14', fallback)).toEqual({
      transport: 'https',
      encoding: 'xml',
    });
    expect(wireFormFor('MSGENC-JSON-M-1-21', fallback)).toEqual({
      transport: 'https',
      encoding: 'json',
    });
  });

  it('every other case takes the run’s transport and encoding', () => {
    expect(wireFormFor('SKLC-M-1-21', fallback)).toBe(fallback);
    const https = { transport: 'https', encoding: 'json' } as const;
    expect(wireFormFor('BL-M-1-21', https)).toBe(https);
  });
});

describe('kmip conformance run over HTTPS against kmipd', () => {
  let server: KmipdProcess;
  let httpsPort: number;
  let work: string;
  let creds: string[];

  beforeAll(async () => {
    server = await startKmipdProcess({ store: 'memory', args: ['--https-port', '0'] });
    const listening = server.logs().find((l) => l.msg === 'listening');
    httpsPort = listening?.httpsPort as number;
    work = await mkdtemp(join(tmpdir(), 'kmip-transports-'));
    const admin = server.client('admin');
    creds = ['--cert', admin.cert, '--key', admin.key, '--ca', server.ca];
  });

  afterAll(async () => {
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const run = async (name: string, args: string[]) => {
    const report = join(work, `${name}.json`);
    const cli = await runKmipCli(['conformance', 'run', ...args, ...creds, '--report', report]);
    return { cli, report: JSON.parse(await readFile(report, 'utf8')) as JsonReport };
  };

  it('kmipd serve --https-port 0 names the HTTPS port in its listening line', () => {
    expect(httpsPort).toBeGreaterThan(0);
    expect(httpsPort).not.toBe(server.port);
  });

  it('passes MSGENC-HTTPS/XML/JSON-M-1-14/21, each over HTTPS in its own encoding', async () => {
    const { cli, report } = await run('msgenc', [
      ...MSGENC,
      '--server',
      `127.0.0.1:${server.port}`,
      '--https-server',
      `127.0.0.1:${httpsPort}`,
    ]);
    const got = report.cases.map((c) => [c.id, c.status, c.wire, c.reason]).sort();
    expect(got).toEqual([
      ['MSGENC-HTTPS-M-1-14', 'passed', 'https/ttlv', undefined],
      ['MSGENC-HTTPS-M-1-21', 'passed', 'https/ttlv', undefined],
      ['MSGENC-JSON-M-1-14', 'passed', 'https/json', undefined],
      ['MSGENC-JSON-M-1-21', 'passed', 'https/json', undefined],
      ['MSGENC-XML-M-1-14', 'passed', 'https/xml', undefined],
      ['MSGENC-XML-M-1-21', 'passed', 'https/xml', undefined],
    ]);
    expect(cli.code).toBe(0);
    expect(cli.stdout.trimEnd().split('\n').at(-1)).toBe('6 passed, 0 failed, 0 skipped');
  });

  it('fails an MSGENC case when the HTTPS port answers something else', async () => {
    // The KMIP port given as the HTTPS port: no HTTP there, so the case fails, naming the step.
    const { cli, report } = await run('wrong-port', [
      join(V21, 'MSGENC-XML-M-1-21.xml'),
      '--server',
      `127.0.0.1:${server.port}`,
      '--https-server',
      `127.0.0.1:${server.port}`,
      '--timeout',
      '5',
    ]);
    expect(report.cases[0]?.status).toBe('failed');
    expect(report.cases[0]?.reason).toMatch(/^step 0 \(Query\): /);
    expect(cli.code).toBe(1);
  });

  it('skips the MSGENC cases, saying why, when no HTTPS port is given', async () => {
    const { report } = await run('no-https', [...MSGENC, '--server', `127.0.0.1:${server.port}`]);
    expect(report.cases.map((c) => c.status)).toEqual(Array(6).fill('skipped'));
    const xml = report.cases.find((c) => c.id === 'MSGENC-XML-M-1-21');
    expect(xml?.reason).toBe('needs XML over HTTPS; give the HTTPS port');
  });

  for (const encoding of ['ttlv', 'xml', 'json'] as const) {
    it(`runs ordinary cases with --transport https --encoding ${encoding}`, async () => {
      const { cli, report } = await run(`ordinary-${encoding}`, [
        ...ORDINARY,
        '--transport',
        'https',
        '--encoding',
        encoding,
        '--server',
        `127.0.0.1:${httpsPort}`,
      ]);
      const got = report.cases.map((c) => [c.id, c.status, c.wire, c.reason]).sort();
      expect(got).toEqual(
        ['AKLC-M-1-21', 'BL-M-3-21', 'CS-BC-M-1-14', 'SKLC-M-1-21'].map((id) => [
          id,
          'passed',
          `https/${encoding}`,
          undefined,
        ]),
      );
      expect(report.options).toMatchObject({ transport: 'https', encoding });
      expect(cli.code).toBe(0);
    });
  }

  it('refuses --encoding xml over the KMIP port', async () => {
    const cli = await runKmipCli([
      'conformance',
      'run',
      V21,
      '--encoding',
      'xml',
      '--server',
      `127.0.0.1:${server.port}`,
      ...creds,
    ]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('--encoding xml needs --transport https');
  });
});

describe('kmipd serve HTTPS flags', () => {
  it('refuses --https-host without --https-port, and a port out of range', async () => {
    const lone = await runKmipd(['serve', '--store', 'memory', '--https-host', '127.0.0.1']);
    expect(lone.code).not.toBe(0);
    expect(lone.stderr).toContain('--https-host needs --https-port');
    const range = await runKmipd(['serve', '--store', 'memory', '--https-port', '70000']);
    expect(range.code).not.toBe(0);
    expect(range.stderr).toContain('--https-port must be 0-65535');
  });
});
