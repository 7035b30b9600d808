// `kmipd kek rotate|status`, and the KEK-choice options shared with `kmipd serve`.
//
// rotate: progress on stderr (a bar on a terminal, a line per batch otherwise), a summary
// on stdout; exit 1 when an object could not be re-wrapped (the rotation stays unfinished
// and the next run resumes it). status: a table on stdout, or JSON with --json.

import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import { type KekArgs, kekChoiceFromArgs } from '../../kek/choice.js';
import { describeSpec, type KekDescriptor } from '../../kek/layout.js';
import {
  DEFAULT_BATCH,
  DEFAULT_GRACE_MS,
  kekStatus,
  type RewrapProgress,
  rotateKek,
} from '../../kek/rotate.js';
import { openServerStore, type StoreArgs, withStoreOptions } from './store-options.js';

const DATA_DIR = {
  default: 'kmipd-data',
  describe: 'Data directory of the server (DATA/keks holds the KEK versions)',
};

/** Options choosing a KEK; without any, a new random software key file in DATA/keks. */
export function withKekOptions<T>(y: Argv<T>) {
  return y
    .option('kek-file', {
      type: 'string',
      describe: 'KEK: a file of 32 random bytes (created with mode 0600 when missing)',
    })
    .option('kek-env', {
      type: 'string',
      describe: 'KEK: name of an environment variable holding 32 bytes as hex or base64',
    })
    .option('kek-passphrase-env', {
      type: 'string',
      describe:
        'KEK: name of an environment variable holding a passphrase (scrypt, salt in DATA/keks)',
    })
    .option('hsm-module', {
      type: 'string',
      describe: 'KEK in a PKCS#11 HSM: path of the PKCS#11 module',
    })
    .option('hsm-token', { type: 'string', describe: 'HSM token label (or --hsm-slot)' })
    .option('hsm-slot', { type: 'number', describe: 'HSM slot ID (or --hsm-token)' })
    .option('hsm-pin-file', {
      type: 'string',
      describe: 'File holding the HSM user PIN (or --hsm-pin-env)',
    })
    .option('hsm-pin-env', {
      type: 'string',
      describe: 'Name of an environment variable holding the HSM user PIN',
    })
    .option('hsm-kek-label', {
      type: 'string',
      describe: 'Label of the AES-256 KEK on the token (generated when missing)',
    })
    .group(
      [
        'kek-file',
        'kek-env',
        'kek-passphrase-env',
        'hsm-module',
        'hsm-token',
        'hsm-slot',
        'hsm-pin-file',
        'hsm-pin-env',
        'hsm-kek-label',
      ],
      'Key-encryption key (default: a new software key file DATA/keks/NNNN.key):',
    )
    .check((a) => {
      kekChoiceFromArgs(a as KekArgs);
      return true;
    });
}

const versionLine = (d: KekDescriptor) =>
  `KEK version ${d.version} (${d.kind}, kekId ${d.kekId}, ${describeSpec(d)})`;

function progressReporter(batch: number): RewrapProgress & { stop(): void } {
  if (process.stderr.isTTY === true) {
    const bar = new SingleBar({
      format: ' re-wrapping {bar} {value}/{total} objects | {eta_formatted} left',
      stream: process.stderr,
      hideCursor: true,
    });
    let started = false;
    return {
      total(n) {
        if (started) bar.setTotal(n);
        else bar.start(n, 0);
        started = true;
      },
      tick: () => bar.increment(),
      stop: () => bar.stop(),
    };
  }
  let total = 0;
  let done = 0;
  return {
    total(n) {
      total = n;
    },
    tick() {
      done++;
      if (done % batch === 0 || done === total) {
        process.stderr.write(`re-wrapped ${done}/${total} objects\n`);
      }
    },
    stop() {},
  };
}

interface RotateArgs extends StoreArgs, KekArgs {
  resume: boolean;
  batch: number;
  'grace-ms': number;
}

const rotate: CommandModule<object, RotateArgs> = {
  command: 'rotate',
  describe:
    'Add a KEK version, make it current and re-wrap every object under it, while servers run. ' +
    'An interrupted rotation is resumed by running this again.',
  builder: (y: Argv) =>
    withKekOptions(withStoreOptions(y, DATA_DIR))
      .option('resume', {
        type: 'boolean',
        default: false,
        describe: 'Only finish re-wrapping under the current KEK version; never add one',
      })
      .option('batch', {
        type: 'number',
        default: DEFAULT_BATCH,
        describe: 'Objects listed per store query',
      })
      .option('grace-ms', {
        type: 'number',
        default: DEFAULT_GRACE_MS,
        describe:
          'Wait before the final sweep, so running servers have switched to the new KEK (they look each second)',
      })
      .check((a) => {
        if (!Number.isSafeInteger(a.batch) || a.batch < 1) throw new Error('--batch must be >= 1');
        if (!Number.isSafeInteger(a['grace-ms']) || a['grace-ms'] < 0) {
          throw new Error('--grace-ms must be >= 0');
        }
        return true;
      }) as unknown as Argv<RotateArgs>,
  async handler(a) {
    const dataDir = resolve(a['data-dir']);
    const choice = kekChoiceFromArgs(a);
    const store = await openServerStore(a, dataDir);
    const progress = progressReporter(a.batch);
    try {
      const r = await rotateKek({
        dataDir,
        store,
        choice,
        resume: a.resume,
        batch: a.batch,
        graceMs: a['grace-ms'],
        progress,
        onTarget(target, how) {
          if (how === 'resumed' && choice !== undefined && !a.resume) {
            process.stderr.write(
              `kmipd: an unfinished rotation to KEK version ${target.version} is resumed; the KEK options given are not used\n`,
            );
          }
          const verb = how === 'added' ? 'added and made current' : 'resuming with';
          process.stderr.write(`${verb} ${versionLine(target)}\n`);
        },
      });
      progress.stop();
      const s = r.summary;
      process.stdout.write(
        `re-wrapped ${s.rewrapped} objects under KEK version ${r.target.version} (kekId ${r.target.kekId}); ` +
          `${s.skipped} skipped (destroyed or already moved), ${s.conflicts} concurrent changes retried, ` +
          `${s.failed.length} failed\n`,
      );
      for (const f of s.failed) process.stdout.write(`failed: object ${f.uid}: ${f.reason}\n`);
      if (s.unsettled) {
        process.stdout.write(
          `objects keep arriving under older KEK versions after ${s.sweeps} sweeps: ` +
            `check that every server can open KEK version ${r.target.version} (see its log)\n`,
        );
      }
      if (!r.complete) {
        process.stdout.write('rotation unfinished: run kmipd kek rotate again to resume\n');
        process.exitCode = 1;
      }
    } finally {
      progress.stop();
      await store.close();
    }
  },
};

interface StatusArgs extends StoreArgs {
  json: boolean;
}

const status: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'List the KEK versions, which is current, and how many objects each wraps',
  builder: (y: Argv) =>
    withStoreOptions(y, DATA_DIR).option('json', {
      type: 'boolean',
      default: false,
      describe: 'Print JSON instead of a table',
    }) as unknown as Argv<StatusArgs>,
  async handler(a) {
    const dataDir = resolve(a['data-dir']);
    const store = await openServerStore(a, dataDir);
    try {
      const st = await kekStatus(dataDir, store);
      if (a.json) {
        process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
        return;
      }
      const lines = ['  version  kind        kek id            objects  where'];
      for (const v of st.versions) {
        const d = v.descriptor;
        lines.push(
          `${v.current ? '*' : ' '} ${String(d.version).padEnd(8)} ${d.kind.padEnd(11)} ${d.kekId}  ${String(v.objects).padStart(7)}  ${describeSpec(d)}`,
        );
      }
      for (const u of st.unknown) {
        lines.push(`  ?        unknown     ${u.kekId}  ${String(u.objects).padStart(7)}`);
      }
      lines.push(`${st.objects} objects hold key material; * marks the current version`);
      if (st.rotating !== undefined) {
        lines.push(
          `a rotation to version ${st.rotating} is unfinished: run kmipd kek rotate to resume`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      await store.close();
    }
  },
};

export const kekCommand: CommandModule = {
  command: 'kek',
  describe: 'Key-encryption keys: rotate, status',
  builder: (y: Argv) =>
    y
      .command(rotate as unknown as CommandModule)
      .command(status as unknown as CommandModule)
      .demandCommand(1, 'name a kek command'),
  handler: () => {},
};
