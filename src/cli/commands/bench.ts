// `kmip bench`: a KMIP load generator for any server speaking binary TTLV over mutual TLS.
// Progress goes to stderr once a second; the summary table goes to stdout; --json writes the
// figures (ops_per_sec, cycles_per_sec, errors, per-operation rates and percentiles).

import { writeFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { progressLine, summary } from '../../bench/format.js';
import { runBench } from '../../bench/runner.js';
import {
  mixWorkload,
  parseMix,
  SCENARIOS,
  type ScenarioName,
  scenario,
} from '../../bench/workloads.js';
import { readCertificateFiles } from '../../client/connection.js';
import { KMIP_VERSIONS, type KmipVersion } from '../../ttlv/spec/index.js';
import { parseServer } from './conformance.js';

interface BenchArgs {
  server: string;
  cert: string;
  key: string;
  ca: string;
  servername: string | undefined;
  connections: number;
  duration: number;
  warmup: number | undefined;
  mix: string | undefined;
  scenario: ScenarioName | undefined;
  'new-connection-per-op': boolean | undefined;
  'kmip-version': KmipVersion | undefined;
  'tls-max-version': '1.2' | '1.3' | undefined;
  'pool-size': number;
  json: string | undefined;
}

const DEFAULT_MIX = 'create:1,get:4,locate:1,destroy:1';

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Load a KMIP server: N mutual-TLS connections, ops/s and latency percentiles',
  builder: (y: Argv) =>
    y
      .option('server', { type: 'string', demandOption: true, describe: 'HOST:PORT' })
      .option('cert', { type: 'string', demandOption: true, describe: 'client certificate (PEM)' })
      .option('key', { type: 'string', demandOption: true, describe: 'client key (PEM)' })
      .option('ca', { type: 'string', demandOption: true, describe: 'CA of the server (PEM)' })
      .option('servername', {
        type: 'string',
        describe: 'name to check in the server certificate (default HOST unless an IP address)',
      })
      .option('connections', {
        type: 'number',
        default: 1,
        describe: 'concurrent connections, one outstanding request each',
      })
      .option('duration', { type: 'number', default: 10, describe: 'seconds measured' })
      .option('warmup', {
        type: 'number',
        describe: 'seconds run before measuring (default 1, or a fifth of --duration)',
      })
      .option('mix', {
        type: 'string',
        describe: `weighted operations over a pool of keys, e.g. ${DEFAULT_MIX} (ops: create, get, locate, destroy, get-missing); the default workload`,
      })
      .option('scenario', {
        choices: SCENARIOS,
        describe:
          'cycle: Create AES-256, Get, Destroy; barbican: the same on a new connection per call, ' +
          'KMIP 1.2; vsphere: named Create, Get, Locate by name on long-lived connections',
      })
      .conflicts('mix', 'scenario')
      .option('new-connection-per-op', {
        type: 'boolean',
        describe: 'open a TLS connection for every request (default: as the scenario models)',
      })
      .option('kmip-version', {
        type: 'string',
        choices: KMIP_VERSIONS,
        describe: 'protocol version of every request (default 1.2: Template-Attribute forms)',
      })
      .option('tls-max-version', {
        type: 'string',
        choices: ['1.2', '1.3'] as const,
        describe: 'highest TLS version offered (default: what Node offers, 1.3)',
      })
      .option('pool-size', {
        type: 'number',
        default: 32,
        describe: 'keys created before a --mix run starts',
      })
      .option('json', { type: 'string', describe: 'write the figures as JSON here' })
      .check((a) => {
        if (!Number.isInteger(a.connections) || a.connections < 1) {
          throw new Error('--connections must be a whole number, at least 1');
        }
        if (!(a.duration > 0)) throw new Error('--duration must be above 0');
        return true;
      })
      .example(
        '$0 bench --server 127.0.0.1:5696 --cert admin.crt --key admin.key --ca ca.crt --scenario cycle --connections 4',
        'create, get and destroy AES keys over 4 connections for 10 s',
      ),
  handler: async (args) => {
    const { host, port } = parseServer(args.server);
    const creds = await readCertificateFiles({ cert: args.cert, key: args.key, ca: args.ca });
    const workload =
      args.scenario !== undefined
        ? scenario(args.scenario)
        : mixWorkload(parseMix(args.mix ?? DEFAULT_MIX), args['pool-size']);
    const tlsMax = args['tls-max-version'];
    const report = await runBench({
      target: {
        host,
        port,
        ...creds,
        servername: args.servername,
        tlsMaxVersion: tlsMax === undefined ? undefined : `TLSv${tlsMax}`,
      },
      workload,
      connections: args.connections,
      durationMs: args.duration * 1000,
      warmupMs: args.warmup === undefined ? undefined : args.warmup * 1000,
      newConnectionPerOp: args['new-connection-per-op'],
      version: args['kmip-version'],
      onProgress: (s) => process.stderr.write(`${progressLine(s)}\n`),
    });
    process.stdout.write(`${summary(report)}\n`);
    if (args.json !== undefined) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
    if (report.ops_per_sec === 0) process.exitCode = 1;
  },
};
