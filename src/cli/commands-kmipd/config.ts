// `kmipd serve` options for the configuration file, fixture mode, faults and the admin port,
// and `kmipd config check FILE`.
//
// The file and the KMIPD_* variables reach yargs as one config object, which yargs ranks
// under the command line and over the defaults: flag > environment > file > built-in default (src/config/load.ts).

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Argv, CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  formatEffective,
  readConfigFile,
  readEnv,
  redact,
  resolveConfig,
} from '../../config/load.js';
import { DEFAULT_ADMIN_HOST } from '../../config/options.js';
import { parseUidSequence } from '../../config/unique-ids.js';
import { type FaultRule, parseFault } from '../../server/faults.js';
import type { Kmipd, KmipdConfig } from '../../server/kmipd.js';

/** `--config FILE` or `--config=FILE` among the arguments, read before yargs parses them. */
export function configPathFromArgv(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (a === '--config') return args[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}

/** Reads the file (when named) and the environment; the values neither sets are absent. */
export function fileAndEnv(file: string | undefined, env: NodeJS.ProcessEnv) {
  return resolveConfig({
    file: file === undefined ? undefined : readConfigFile(file),
    fileName: file,
    env: readEnv(env),
  });
}

const KEK_KEYS = [
  'kek-file',
  'kek-env',
  'kek-passphrase-env',
  'hsm-module',
  'hsm-token',
  'hsm-slot',
  'hsm-pin-file',
  'hsm-pin-env',
  'hsm-kek-label',
];

/**
 * Adds --config and the fixture, fault and admin-port options to `kmipd serve`, and hands the
 * file's and the environment's values to yargs as a config object, which a flag overrides.
 */
export function withServeConfig<T>(y: Argv<T>, argv = hideBin(process.argv)) {
  let loaded: ReturnType<typeof fileAndEnv> | undefined;
  let problem: unknown;
  try {
    loaded = fileAndEnv(configPathFromArgv(argv), process.env);
  } catch (err) {
    problem = err;
  }
  const out = y
    .option('config', {
      type: 'string',
      describe:
        'YAML configuration file; its keys are these option names (see docs/configuration.md)',
    })
    .option('ephemeral', {
      type: 'boolean',
      default: false,
      describe:
        'Fixture mode for test suites: memory store, a KEK in memory, nothing written but the ' +
        'PKI; prints {"port":N,"pki":DIR} as the first line on stdout, logs go to stderr',
    })
    .option('pki-out', {
      type: 'string',
      describe:
        'Write (or reuse) the development PKI here: ca.crt, server.crt/key, admin.crt/key ' +
        '(default DATA/pki; a new temporary directory with --ephemeral)',
    })
    .option('deterministic-ids', {
      type: 'string',
      describe:
        "Unique Identifiers 00000001, 00000002, ... ('counter', the default) or a seeded UUID " +
        "sequence ('uuid:SEED'); memory store only",
    })
    .option('fault', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe:
        "Inject a fault: 'op=Get,reason=ItemNotFound', 'op=Create,delay=200', " +
        "'op=Destroy,drop'; add times=N to fault only the first N; repeatable",
    })
    .option('admin-port', {
      type: 'number',
      describe: 'Serve /metrics (Prometheus) and /healthz over HTTP on this port. Default off',
    })
    .option('admin-host', {
      type: 'string',
      default: DEFAULT_ADMIN_HOST,
      describe: 'Address of the admin port',
    })
    .check((a) => {
      if (problem !== undefined) throw problem;
      for (const spec of a.fault) parseFault(spec);
      if (a['deterministic-ids'] !== undefined) {
        parseUidSequence(a['deterministic-ids']);
        const store = (a as { store?: string }).store;
        if (!a.ephemeral && store !== 'memory') {
          throw new Error('--deterministic-ids needs --ephemeral or --store memory');
        }
      }
      const ap = a['admin-port'];
      if (ap !== undefined && (!Number.isInteger(ap) || ap < 0 || ap > 65535))
        throw new Error('--admin-port must be 0-65535');
      if (a.ephemeral) {
        const given = KEK_KEYS.filter((k) => (a as Record<string, unknown>)[k] !== undefined);
        if (given.length > 0) {
          throw new Error(`--ephemeral keeps a random KEK in memory; drop --${given.join(', --')}`);
        }
        if ((a as { store?: string }).store === 'postgres') {
          throw new Error('--ephemeral uses the memory store, not --store postgres');
        }
      }
      return true;
    });
  // yargs ranks a config object under the command line and over the defaults.
  const given = Object.entries(loaded?.values ?? {}).filter(
    ([key]) => loaded?.sources[key] !== 'default',
  );
  if (given.length > 0) out.config(Object.fromEntries(given));
  return out;
}

export interface ServeExtrasArgs {
  ephemeral: boolean;
  'pki-out'?: string;
  'deterministic-ids'?: string;
  fault: string[];
  'admin-port'?: number;
  'admin-host': string;
}

/** The parts of startKmipd's configuration these options decide. */
export async function serveExtras(a: ServeExtrasArgs): Promise<Partial<KmipdConfig>> {
  const faults: FaultRule[] = a.fault.map(parseFault);
  let pkiDir = a['pki-out'] === undefined ? undefined : resolve(a['pki-out']);
  if (a.ephemeral && pkiDir === undefined) pkiDir = await mkdtemp(join(tmpdir(), 'kmipd-pki-'));
  return {
    ephemeral: a.ephemeral,
    pkiDir,
    newUid:
      a['deterministic-ids'] === undefined ? undefined : parseUidSequence(a['deterministic-ids']),
    faults,
    admin:
      a['admin-port'] === undefined ? undefined : { host: a['admin-host'], port: a['admin-port'] },
  };
}

/** Fields for the "listening" log line. */
export function listeningFields(kmipd: Kmipd, ephemeral: boolean) {
  return {
    ...(ephemeral ? { store: 'memory', dataDir: undefined } : {}),
    adminHost: kmipd.admin?.address.address,
    adminPort: kmipd.admin?.address.port,
    readyMs: Math.round(performance.now()),
  };
}

/**
 * In fixture mode, the first line on stdout: one JSON object a test harness reads to learn
 * where the server is. readyMs is the time from process start to listening.
 */
export function announce(kmipd: Kmipd): void {
  const line = {
    port: kmipd.server.address.port,
    pki: kmipd.pkiDir,
    ...(kmipd.httpsServer === undefined ? {} : { httpsPort: kmipd.httpsServer.address.port }),
    ...(kmipd.admin === undefined ? {} : { adminPort: kmipd.admin.address.port }),
    readyMs: Math.round(performance.now()),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

interface CheckArgs {
  file: string;
  json: boolean;
}

const check: CommandModule<object, CheckArgs> = {
  command: 'check <file>',
  describe:
    'Validate a configuration file and print the effective kmipd serve configuration ' +
    '(file, KMIPD_* environment and defaults; secrets redacted)',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'YAML file' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print JSON instead of YAML',
      }) as unknown as Argv<CheckArgs>,
  async handler(a) {
    const resolved = fileAndEnv(a.file, process.env);
    if (a.json) {
      process.stdout.write(
        `${JSON.stringify({ values: redact(resolved.values), sources: resolved.sources }, null, 2)}\n`,
      );
      return;
    }
    process.stdout.write(formatEffective(resolved));
  },
};

export const configCommand: CommandModule = {
  command: 'config',
  describe: 'Configuration file: check',
  builder: (y: Argv) =>
    y.command(check as unknown as CommandModule).demandCommand(1, 'name a config command'),
  handler: () => {},
};
