// `kmipd users add NAME --users-file F [--password-env VAR]`: adds or replaces a user of the
// users file. The password comes from the environment variable, or else the first line of
// standard input; it is never a command-line argument (visible in the process list).

import type { Argv, CommandModule } from 'yargs';
import { addUser } from './users.js';

interface AddArgs {
  name: string;
  'users-file': string;
  'password-env'?: string;
}

async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if ((chunk as Buffer).includes(0x0a)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

const addCommand: CommandModule<object, AddArgs> = {
  command: 'add <name>',
  describe: 'Add or replace a user (scrypt hash of the password)',
  builder: (y: Argv) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'user name' })
      .option('users-file', { type: 'string', demandOption: true, describe: 'the users file' })
      .option('password-env', {
        type: 'string',
        describe: 'environment variable holding the password (default: read standard input)',
      }) as unknown as Argv<AddArgs>,
  handler: async (a) => {
    let password: string;
    if (a['password-env'] !== undefined) {
      const v = process.env[a['password-env']];
      if (v === undefined) throw new Error(`environment variable ${a['password-env']} is not set`);
      password = v;
    } else password = await readFirstLine();
    addUser(a['users-file'], a.name, password);
    process.stdout.write(`user ${a.name} written to ${a['users-file']}\n`);
  },
};

export const usersCommand: CommandModule = {
  command: 'users',
  describe: 'Users of the KMIP Credential (the --users-file of kmipd serve)',
  builder: (y: Argv) => y.command(addCommand as unknown as CommandModule).demandCommand(1),
  handler: () => {},
};
