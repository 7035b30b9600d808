// What the offline `kmipd` commands (kek, export, import) share to reach the server's store:
// the --data-dir / --store / --postgres-url options and opening that store, where an absent
// SQLite file is an error (a mistyped --data-dir) unless the command may create it.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { KmipError } from '../../errors.js';
import type { ObjectStore } from '../../store/object-store.js';
import { openPostgresStore } from '../../store/postgres-store.js';
import { openSqliteStore, SQLITE_FILE_NAME } from '../../store/sqlite-store.js';
import { ResultReason } from '../../ttlv/spec/generated.js';

export interface StoreArgs {
  'data-dir': string;
  store: 'sqlite' | 'postgres';
  'postgres-url'?: string;
}

/** A usage error of these commands: one line, exit code 1. */
export function usage(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

/** --data-dir (required, or with DEFAULT), --store and --postgres-url. */
export function withStoreOptions<T>(y: Argv<T>, dataDir: { describe: string; default?: string }) {
  return y
    .option('data-dir', {
      type: 'string',
      ...(dataDir.default === undefined ? { demandOption: true } : { default: dataDir.default }),
      describe: dataDir.describe,
    })
    .option('store', {
      choices: ['sqlite', 'postgres'] as const,
      default: 'sqlite' as const,
      describe: 'Object store the server uses: DATA/objects.sqlite or PostgreSQL',
    })
    .option('postgres-url', {
      type: 'string',
      describe: 'PostgreSQL connection URL for --store postgres (or env KMIPD_POSTGRES_URL)',
    })
    .check((a) => {
      if (a.store === 'postgres' && !a['postgres-url'] && !process.env.KMIPD_POSTGRES_URL) {
        throw new Error('--store postgres needs --postgres-url');
      }
      return true;
    });
}

/** Opens the server's store; without `create` an absent SQLite file is an error. */
export async function openServerStore(
  a: StoreArgs,
  dataDir: string,
  opts: { create?: boolean } = {},
): Promise<ObjectStore> {
  if (a.store === 'postgres') {
    return openPostgresStore({ url: (a['postgres-url'] ?? process.env.KMIPD_POSTGRES_URL)! });
  }
  if (!opts.create && !existsSync(join(dataDir, SQLITE_FILE_NAME))) {
    throw usage(`${dataDir} has no ${SQLITE_FILE_NAME}; is --data-dir the server's?`);
  }
  return openSqliteStore({ path: dataDir });
}
