// `kmip destroy UID` and the bulk form `kmip destroy --all-matching --name-prefix P`: Locate
// narrows by type, names are compared by prefix here (KMIP Locate matches names exactly), the
// user confirms (or passes --yes), and a progress bar runs on a terminal. Active objects must
// be revoked before Destroy (KMIP 2.1 §6.1.16); --revoke does that in the same message.

import { createInterface } from 'node:readline/promises';
import { SingleBar } from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import type { KmipClient } from '../../../client/client.js';
import { KmipOperationError } from '../../../client/errors.js';
import {
  type CommonArgs,
  connectionOptions,
  EXIT_KMIP_FAILURE,
  printFields,
  printJson,
  withClient,
} from './common.js';
import { describeObjects, type ObjectRow, objectTypeName } from './objects.js';

interface DestroyArgs extends CommonArgs {
  uid: string | undefined;
  revoke: boolean;
  'all-matching': boolean;
  'name-prefix': string | undefined;
  type: string | undefined;
  yes: boolean;
}

const GONE = new Set(['Destroyed', 'DestroyedCompromised']);

async function destroyOne(client: KmipClient, row: ObjectRow, revoke: boolean): Promise<void> {
  if (revoke && row.state === 'Active') {
    await client.batch().revoke({ uid: row.uid }).destroy().send();
  } else await client.destroy(row.uid);
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await Promise.race([
      rl.question(question),
      new Promise<string>((done) => rl.once('close', () => done(''))),
    ]);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

async function destroyMatching(client: KmipClient, args: DestroyArgs): Promise<void> {
  const prefix = args['name-prefix']!;
  const found = await client.locate({
    objectType: args.type === undefined ? undefined : objectTypeName(args.type as never),
  });
  const rows = (await describeObjects(client, found.uids)).filter(
    (r) =>
      !GONE.has(r.state ?? '') &&
      ([] as string[]).concat(r.name ?? []).some((n) => n.startsWith(prefix)),
  );
  if (rows.length === 0) {
    if (args.json) printJson({ destroyed: [], failed: [] });
    else process.stdout.write(`no objects with a name starting '${prefix}'\n`);
    return;
  }
  if (!args.yes) {
    const ok = await confirm(
      `Destroy ${rows.length} object(s) whose name starts with '${prefix}'? [y/N] `,
    );
    if (!ok) {
      process.stderr.write('kmip: nothing destroyed\n');
      process.exitCode = 1;
      return;
    }
  }
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: ' {bar} {value}/{total} {uid}', stream: process.stderr })
    : undefined;
  bar?.start(rows.length, 0, { uid: '' });
  const destroyed: string[] = [];
  const failed: { uid: string; reason: string; message?: string }[] = [];
  for (const row of rows) {
    try {
      await destroyOne(client, row, args.revoke);
      destroyed.push(row.uid);
    } catch (err) {
      if (!(err instanceof KmipOperationError)) throw err;
      failed.push({ uid: row.uid, reason: err.resultReasonName, message: err.resultMessage });
    }
    bar?.increment(1, { uid: row.uid });
  }
  bar?.stop();
  if (args.json) printJson({ destroyed, failed });
  else {
    process.stdout.write(`destroyed ${destroyed.length} of ${rows.length}\n`);
    for (const f of failed) {
      process.stderr.write(`kmip: ${f.uid}: ${f.reason}: ${f.message ?? 'Destroy failed'}\n`);
    }
    if (failed.some((f) => f.reason === 'WrongKeyLifecycleState') && !args.revoke) {
      process.stderr.write('kmip: active objects need --revoke\n');
    }
  }
  if (failed.length > 0) process.exitCode = EXIT_KMIP_FAILURE;
}

export const destroyCommand: CommandModule<object, DestroyArgs> = {
  command: 'destroy [uid]',
  describe: 'Destroy an object, or every object whose name has a prefix (KMIP Destroy)',
  builder: (y: Argv) =>
    connectionOptions(y)
      .positional('uid', { type: 'string', describe: 'Unique Identifier' })
      .option('revoke', {
        type: 'boolean',
        default: false,
        describe: 'revoke an Active object first (reason cessation-of-operation)',
      })
      .option('all-matching', {
        type: 'boolean',
        default: false,
        describe: 'destroy every object matching --name-prefix (and --type)',
      })
      .option('name-prefix', { type: 'string', describe: 'with --all-matching: Name prefix' })
      .option('type', {
        choices: [
          'symmetric-key',
          'private-key',
          'public-key',
          'certificate',
          'secret-data',
          'opaque',
        ],
        describe: 'with --all-matching: only this object type',
      })
      .option('yes', {
        alias: 'y',
        type: 'boolean',
        default: false,
        describe: 'do not ask for confirmation',
      })
      .check((a) => {
        if (a['all-matching']) {
          if (a['name-prefix'] === undefined || a['name-prefix'] === '') {
            throw new Error('--all-matching needs --name-prefix');
          }
          if (a.uid !== undefined) throw new Error('give either UID or --all-matching, not both');
        } else if (a.uid === undefined) throw new Error('name a UID or use --all-matching');
        return true;
      })
      .example('$0 destroy 6f1c…', 'destroy one object')
      .example('$0 destroy --all-matching --name-prefix test- --revoke --yes', 'clean up'),
  handler: withClient<DestroyArgs>(async (client, args) => {
    if (args['all-matching']) {
      await destroyMatching(client, args);
      return;
    }
    const uid = args.uid!;
    if (args.revoke) {
      const { values } = await client.getAttributes(uid, ['State']);
      await destroyOne(client, { uid, state: values.state as string }, true);
    } else await client.destroy(uid);
    if (args.json) printJson({ uid });
    else printFields({ destroyed: uid });
  }),
};
