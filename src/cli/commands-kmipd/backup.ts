// `kmipd export` and `kmipd import`: encrypted backups of a whole store, restore into an
// empty store under the target's KEK, and migration from a PyKMIP server's database.
// Progress on stderr (a bar on a terminal, a line per 1000 objects otherwise), a summary on
// stdout. The backup key comes from a passphrase in an environment variable or a 32-byte
// key file; neither ever appears in output.

import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import type { BackupSecret } from '../../backup/container.js';
import { type BackupProgress, exportBackup } from '../../backup/export.js';
import { migratePyKmip } from '../../backup/pykmip.js';
import { restoreBackup } from '../../backup/restore.js';
import { ensureKeyring, Keyring } from '../../crypto/keyring.js';
import { type KekArgs, kekChoiceFromArgs } from '../../kek/choice.js';
import type { ObjectStore } from '../../store/object-store.js';
import { withKekOptions } from './kek.js';
import { openServerStore, type StoreArgs, usage, withStoreOptions } from './store-options.js';

const DATA_DIR = {
  describe: 'Data directory of the server (objects.sqlite and the KEK keyring in keks/)',
};

interface SecretArgs {
  'passphrase-env'?: string;
  'key-file'?: string;
}

function withSecretOptions<T>(y: Argv<T>) {
  return y
    .option('passphrase-env', {
      type: 'string',
      describe: 'Backup key: name of an environment variable holding a passphrase (scrypt)',
    })
    .option('key-file', {
      type: 'string',
      describe: 'Backup key: a file of exactly 32 random bytes',
    })
    .conflicts('passphrase-env', 'key-file');
}

async function secretFrom(a: SecretArgs): Promise<BackupSecret> {
  if (a['passphrase-env'] !== undefined) {
    const passphrase = process.env[a['passphrase-env']];
    if (!passphrase) {
      throw usage(`environment variable ${a['passphrase-env']} is unset or empty`);
    }
    return { kind: 'passphrase', passphrase };
  }
  if (a['key-file'] !== undefined) {
    let key: Buffer;
    try {
      key = await readFile(resolve(a['key-file']));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw usage(`cannot read the backup key file ${a['key-file']} (${code})`);
    }
    if (key.length !== 32) {
      key.fill(0);
      throw usage(
        `the backup key file ${a['key-file']} must hold exactly 32 bytes (make one with: head -c 32 /dev/urandom > FILE)`,
      );
    }
    return { kind: 'key', key };
  }
  throw usage('give the backup key: --passphrase-env NAME or --key-file FILE');
}

function progressReporter(verb: string): BackupProgress & { stop(): void } {
  if (process.stderr.isTTY === true) {
    const bar = new SingleBar({
      format: ` ${verb} {bar} {value}/{total} objects | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
    });
    let started = false;
    return {
      total(n) {
        bar.start(n, 0);
        started = true;
      },
      tick: () => bar.increment(),
      stop: () => {
        if (started) bar.stop();
        started = false;
      },
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
      if (done % 1000 === 0 || done === total) {
        process.stderr.write(`${verb} ${done}/${total} objects\n`);
      }
    },
    stop() {},
  };
}

interface ExportArgs extends StoreArgs, SecretArgs {
  out: string;
}

const exportBackupCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe:
    'Write an encrypted backup of every object (all owners) under a passphrase or key file of your own',
  builder: (y: Argv) =>
    withSecretOptions(withStoreOptions(y, DATA_DIR)).option('out', {
      type: 'string',
      demandOption: true,
      describe: 'Backup file to write (must not exist)',
    }) as unknown as Argv<ExportArgs>,
  async handler(a) {
    process.umask(0o077);
    const dataDir = resolve(a['data-dir']);
    const out = resolve(a.out);
    if (existsSync(out)) throw usage(`${out} exists; choose another --out`);
    const secret = await secretFrom(a);
    const keyring = await Keyring.open({ dataDir });
    const progress = progressReporter('exported');
    let store: ObjectStore | undefined;
    try {
      store = await openServerStore(a, dataDir);
      const s = await exportBackup({ store, wrapper: keyring, out, secret, progress });
      progress.stop();
      process.stdout.write(
        `exported ${s.objects} objects of ${s.owners} owners (${s.withoutMaterial} destroyed, without key material) to ${out}, ${s.bytes} bytes` +
          (s.settings > 0 ? `, with ${s.settings} server setting(s)` : '') +
          (s.vanished > 0 ? `; ${s.vanished} removed while the export ran` : '') +
          '\n',
      );
    } finally {
      progress.stop();
      if (secret.kind === 'key') secret.key.fill(0);
      await store?.close();
      await keyring.close();
    }
  },
};

interface ImportArgs extends StoreArgs, SecretArgs, KekArgs {
  file?: string;
  'from-pykmip'?: string;
  owner: string;
  merge: boolean;
}

const importBackupCommand: CommandModule<object, ImportArgs> = {
  command: 'import [file]',
  describe:
    'Restore a backup made by kmipd export into an empty store, or migrate a PyKMIP server database (--from-pykmip)',
  builder: (y: Argv) =>
    withKekOptions(withSecretOptions(withStoreOptions(y, DATA_DIR)))
      .positional('file', { type: 'string', describe: 'Backup file written by kmipd export' })
      .option('from-pykmip', {
        type: 'string',
        describe: "A PyKMIP server's SQLite database (its database_path) to migrate",
      })
      .option('owner', {
        type: 'string',
        default: 'admin',
        describe: 'With --from-pykmip: owner of objects PyKMIP kept without one',
      })
      .option('merge', {
        type: 'boolean',
        default: false,
        describe:
          'Import into a store that has objects; objects whose identifier is taken are left out',
      })
      .check((a) => {
        if ((a.file === undefined) === (a['from-pykmip'] === undefined)) {
          throw new Error('give a backup FILE or --from-pykmip DATABASE');
        }
        return true;
      }) as unknown as Argv<ImportArgs>,
  async handler(a) {
    process.umask(0o077);
    const dataDir = resolve(a['data-dir']);
    const secret = a.file !== undefined ? await secretFrom(a) : undefined;
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await ensureKeyring({ dataDir, initial: kekChoiceFromArgs(a) });
    const keyring = await Keyring.open({ dataDir });
    const progress = progressReporter(a.file !== undefined ? 'restored' : 'migrated');
    let store: ObjectStore | undefined;
    try {
      store = await openServerStore(a, dataDir, { create: true });
      const c = keyring.current;
      const under = `KEK version ${c.version} (kekId ${c.kekId})`;
      if (a.file !== undefined) {
        const s = await restoreBackup({
          path: resolve(a.file),
          store,
          wrapper: keyring,
          secret: secret!,
          merge: a.merge,
          progress,
        });
        progress.stop();
        process.stdout.write(
          `restored ${s.restored} objects of ${s.owners} owners from a backup of ${s.manifest.createdAt} under ${under}` +
            (s.settings > 0 ? `, with ${s.settings} server setting(s)` : '') +
            (a.merge ? `; ${s.skipped.length} left out (identifier taken)` : '') +
            '\n',
        );
        for (const uid of s.skipped) process.stdout.write(`left out: object ${uid}\n`);
        for (const name of s.keptSettings) {
          process.stdout.write(`kept the target's own setting ${name}\n`);
        }
      } else {
        const s = await migratePyKmip({
          database: resolve(a['from-pykmip']!),
          store,
          wrapper: keyring,
          defaultOwner: a.owner,
          merge: a.merge,
          progress,
        });
        progress.stop();
        process.stdout.write(
          `migrated ${s.migrated} PyKMIP objects of ${s.owners} owners under ${under}; ` +
            `${s.defaultOwner} had no owner and now belong to ${a.owner}; ${s.skipped.length} not migrated\n`,
        );
        for (const k of s.skipped)
          process.stdout.write(`not migrated: object ${k.uid}: ${k.reason}\n`);
        if (s.skipped.length > 0) process.exitCode = 1;
      }
    } finally {
      progress.stop();
      if (secret?.kind === 'key') secret.key.fill(0);
      await store?.close();
      await keyring.close();
    }
  },
};

export const exportCommand = exportBackupCommand as unknown as CommandModule;
export const importCommand = importBackupCommand as unknown as CommandModule;
