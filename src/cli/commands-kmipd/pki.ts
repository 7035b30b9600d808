// `kmipd pki init|client`: the development PKI. `init` writes a CA, a server certificate and
// client certificates; `client` issues one more client from an existing PKI's CA (the Server
// On-Demand registration method of Query). Failures reach kmipd's one-line error handler.

import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { initPki, issuePkiClient } from '../../pki/dev-pki.js';

const init = {
  command: 'init',
  describe: 'Write a CA, a server certificate (localhost, 127.0.0.1) and client certificates',
  builder: (y: Argv) =>
    y
      .option('dir', { type: 'string', demandOption: true, describe: 'Output directory' })
      .option('client', {
        type: 'string',
        array: true,
        default: ['admin'],
        describe: 'Client certificate name (CN); repeat for several',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Overwrite existing files',
      }),
  handler: async (a: { dir: string; client: string[]; force: boolean }) => {
    const files = await initPki({ dir: resolve(a.dir), clients: a.client, force: a.force });
    process.stdout.write(
      `wrote ${files.ca.cert}, ${files.server.cert} and client certificates: ${Object.keys(files.clients).join(', ')}\n`,
    );
  },
};

const client = {
  command: 'client <name>',
  describe:
    "Issue one more client certificate and key (CN = name, clientAuth) from a PKI's " +
    'existing CA; a server using that CA accepts it at once, without a restart',
  builder: (y: Argv) =>
    y
      .positional('name', {
        type: 'string',
        demandOption: true,
        describe: 'Client name: the certificate CN and the file names NAME.crt, NAME.key',
      })
      .option('dir', {
        type: 'string',
        describe: 'PKI directory holding ca.crt and ca.key (what pki init wrote)',
      })
      .option('data-dir', {
        type: 'string',
        describe: "A server's data directory: uses the development PKI in DATA/pki",
      })
      .option('days', {
        type: 'number',
        default: 3650,
        describe: "Validity in days, never past the CA's own expiry",
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Replace an existing NAME.crt and NAME.key',
      })
      .check((a) => {
        if ((a.dir === undefined) === (a['data-dir'] === undefined))
          throw new Error('give exactly one of --dir and --data-dir');
        if (!Number.isInteger(a.days) || a.days < 1)
          throw new Error('--days must be a positive integer');
        return true;
      }),
  handler: async (a: {
    name: string;
    dir?: string;
    'data-dir'?: string;
    days: number;
    force: boolean;
  }) => {
    const dir = a.dir !== undefined ? resolve(a.dir) : join(resolve(a['data-dir']!), 'pki');
    const pair = await issuePkiClient({ dir, name: a.name, validityDays: a.days, force: a.force });
    process.stdout.write(`wrote ${pair.cert} and ${pair.key}\n`);
  },
};

export const pkiCommand: CommandModule = {
  command: 'pki',
  describe: 'Development PKI',
  builder: (y: Argv) =>
    y
      .command(init as unknown as CommandModule)
      .command(client as unknown as CommandModule)
      .demandCommand(1, 'name a pki command'),
  handler: () => {},
};
