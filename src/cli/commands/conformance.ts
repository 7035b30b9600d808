// `kmip conformance run`: runs the OASIS KMIP conformance test cases (KMIP Profiles 2.1 §4,
// the XML files under fixtures/conformance) against a server: binary TTLV over mutual TLS, or
// TTLV, XML or JSON over HTTPS (--transport, --encoding). The MSGENC-HTTPS/XML/JSON cases
// always go over HTTPS in their own encoding (src/conformance/transports.ts), to
// --https-server. The Put and Notify pairs (server-to-client) need --push-listen: the runner
// listens there for the server's pushes (src/conformance/push-listener.ts).
// Progress goes to stderr (a bar on a terminal, one line per file otherwise); stdout gets the
// per-profile table and, as its last line, `N passed, M failed, K skipped`. The exit code is 1
// when a case that is not in a skip list fails.

import { writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import { readCertificateFiles } from '../../client/connection.js';
import { findCaseFiles } from '../../conformance/loader.js';
import { PushListener } from '../../conformance/push-listener.js';
import {
  caseLine,
  jsonReport,
  junitReport,
  summaryTable,
  totalsLine,
  totalsOf,
} from '../../conformance/report.js';
import { runCases } from '../../conformance/runner.js';
import { SkipList } from '../../conformance/skip-list.js';

interface RunArgs {
  paths: string[];
  server: string;
  cert: string;
  key: string;
  ca: string;
  servername: string | undefined;
  transport: 'tls' | 'https';
  encoding: 'ttlv' | 'xml' | 'json';
  'https-server': string | undefined;
  report: string | undefined;
  junit: string | undefined;
  'skip-list': string[] | undefined;
  interop: boolean;
  timeout: number;
  'push-listen': string | undefined;
  'push-cert': string | undefined;
  'push-key': string | undefined;
}

export function parseServer(text: string, flag = '--server'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new Error(`${flag} wants HOST:PORT, got '${text}'`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

const run: CommandModule<object, RunArgs> = {
  command: 'run <paths..>',
  describe: 'Run every test-case file (*.xml) found under PATHS against a server',
  builder: (y: Argv) =>
    y
      .positional('paths', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'test-case files or directories (searched recursively for *.xml)',
      })
      .option('server', {
        type: 'string',
        demandOption: true,
        describe: 'HOST:PORT of the --transport: the KMIP port, or the HTTPS port',
      })
      .option('cert', { type: 'string', demandOption: true, describe: 'client certificate (PEM)' })
      .option('key', { type: 'string', demandOption: true, describe: 'client key (PEM)' })
      .option('ca', { type: 'string', demandOption: true, describe: 'CA of the server (PEM)' })
      .option('servername', {
        type: 'string',
        describe: 'name to check in the server certificate (default HOST unless an IP address)',
      })
      .option('transport', {
        choices: ['tls', 'https'] as const,
        default: 'tls' as const,
        describe: 'tls: the KMIP port (binary TTLV); https: POST /kmip (Profiles §5.3)',
      })
      .option('encoding', {
        choices: ['ttlv', 'xml', 'json'] as const,
        default: 'ttlv' as const,
        describe: 'message encoding on the wire; xml and json need --transport https',
      })
      .option('https-server', {
        type: 'string',
        describe:
          'HOST:PORT of the HTTPS port for the MSGENC-HTTPS/XML/JSON cases, which always run ' +
          'over HTTPS in their own encoding (TTLV, XML, JSON; chosen by the case id). Default ' +
          '--server with --transport https; without it those cases are skipped',
      })
      .option('push-listen', {
        type: 'string',
        describe:
          'HOST:PORT (loopback) to listen on, with mutual TLS, for the Put and Notify the ' +
          'server pushes (KMIP 1.4 §5); the server must push there (kmipd serve --push-to ' +
          "'HOST:PORT,owners=*'). Without it the cases expecting them are skipped",
      })
      .option('push-cert', {
        type: 'string',
        describe:
          "the listener's server certificate (PEM), valid for the --push-listen host, e.g. a " +
          "development PKI's server.crt; --ca must have signed the server's client certificate",
      })
      .option('push-key', { type: 'string', describe: 'the key of --push-cert (PEM)' })
      .check((a) => {
        if (a.encoding !== 'ttlv' && a.transport !== 'https') {
          throw new Error(`--encoding ${a.encoding} needs --transport https`);
        }
        if (a['push-listen'] !== undefined) {
          parseServer(a['push-listen'], '--push-listen');
          if (a['push-cert'] === undefined || a['push-key'] === undefined) {
            throw new Error('--push-listen needs --push-cert and --push-key');
          }
        }
        return true;
      })
      .option('report', { type: 'string', describe: 'write a JSON report of every case here' })
      .option('junit', { type: 'string', describe: 'write a JUnit XML report here' })
      .option('skip-list', {
        type: 'string',
        array: true,
        describe: 'file of cases not to run, one `CASE-ID reason` per line (repeatable)',
      })
      .option('interop', {
        type: 'boolean',
        default: false,
        describe:
          'also send the Interop Begin/End and Log pairs (optional per Profiles §4.1.2; ' +
          'skipped and counted by default)',
      })
      .option('timeout', {
        type: 'number',
        default: 30,
        describe: 'seconds to wait for each response',
      })
      .example(
        '$0 conformance run fixtures/conformance/kmip-profiles-v2.1-os/mandatory --server 127.0.0.1:5696 --https-server 127.0.0.1:8443 --cert admin.crt --key admin.key --ca ca.crt',
        'run the mandatory KMIP 2.1 profile cases, the MSGENC ones over HTTPS',
      ),
  handler: async (args) => {
    const { host, port } = parseServer(args.server);
    const httpsAt =
      args['https-server'] === undefined
        ? undefined
        : parseServer(args['https-server'], '--https-server');
    const files = await findCaseFiles(args.paths);
    if (files.length === 0) throw new Error(`no *.xml test cases under ${args.paths.join(', ')}`);
    const skipList = SkipList.merge(
      await Promise.all((args['skip-list'] ?? []).map((p) => SkipList.load(p))),
    );
    const creds = await readCertificateFiles({ cert: args.cert, key: args.key, ca: args.ca });
    const push =
      args['push-listen'] === undefined
        ? undefined
        : await PushListener.listen({
            ...parseServer(args['push-listen'], '--push-listen'),
            ...(await readCertificateFiles({
              cert: args['push-cert']!,
              key: args['push-key']!,
              ca: args.ca,
            })),
          });
    const started = new Date();

    const tty = process.stderr.isTTY === true;
    const bar = tty
      ? new SingleBar(
          {
            format: ' {bar} {value}/{total} | pass {passed} fail {failed} skip {skipped} | {case}',
            stream: process.stderr,
            hideCursor: true,
          },
          undefined,
        )
      : undefined;
    const counts = { passed: 0, failed: 0, skipped: 0 };
    bar?.start(files.length, 0, { ...counts, case: '' });

    let results: Awaited<ReturnType<typeof runCases>>;
    try {
      results = await runCases(files, {
        target: { host, port, ...creds, servername: args.servername },
        transport: args.transport,
        encoding: args.encoding,
        httpsTarget:
          httpsAt === undefined ? undefined : { ...httpsAt, ...creds, servername: args.servername },
        skipInterop: !args.interop,
        skipList,
        push,
        requestTimeoutMs: args.timeout * 1000,
        onCaseStart: (path) => bar?.update({ case: path.replace(/^.*\//, '') }),
        onCaseDone: (r) => {
          counts[r.status]++;
          if (bar !== undefined) bar.increment(1, { ...counts });
          else process.stderr.write(`${caseLine(r)}\n`);
        },
      });
    } finally {
      bar?.stop();
      await push?.close();
    }

    if (args.report !== undefined) {
      const report = jsonReport(results, {
        server: args.server,
        started: started.toISOString(),
        finished: new Date().toISOString(),
        options: {
          skipInterop: !args.interop,
          transport: args.transport,
          encoding: args.encoding,
          httpsServer: args['https-server'],
        },
      });
      await writeFile(args.report, `${JSON.stringify(report, null, 2)}\n`);
    }
    if (args.junit !== undefined) await writeFile(args.junit, junitReport(results));

    const totals = totalsOf(results);
    process.stdout.write(`${summaryTable(results)}\n\n${totalsLine(totals)}\n`);
    if (totals.failed > 0) process.exitCode = 1;
  },
};

export const conformanceCommand: CommandModule = {
  command: 'conformance <command>',
  describe: 'Run the OASIS KMIP conformance test cases against a server',
  builder: (y: Argv) =>
    y.command(run as unknown as CommandModule).demandCommand(1, 'name a conformance command: run'),
  handler: () => {},
};
