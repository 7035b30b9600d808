// `kmip query` and `kmip discover`: what the server implements (KMIP 2.1 §6.1.37 Query) and
// which protocol versions it speaks (§6.1.19 Discover Versions).

import type { Argv, CommandModule } from 'yargs';
import {
  type CommonArgs,
  connectionOptions,
  printFields,
  printJson,
  withClient,
} from './common.js';

const query: CommandModule<object, CommonArgs> = {
  command: 'query',
  describe: 'Show the operations and object types the server supports (KMIP Query)',
  builder: (y: Argv) => connectionOptions(y).example('$0 query --profile prod', ''),
  handler: withClient<CommonArgs>(async (client, args) => {
    const q = await client.query();
    if (args.json) printJson({ version: client.version, ...q });
    else {
      printFields({
        vendor: q.vendorIdentification,
        'protocol version': client.version,
        operations: q.operations.join(', '),
        'object types': q.objectTypes.join(', '),
      });
    }
  }),
};

const discover: CommandModule<object, CommonArgs> = {
  command: 'discover',
  describe: 'List the KMIP versions the server speaks (KMIP Discover Versions)',
  builder: (y: Argv) => connectionOptions(y),
  handler: withClient<CommonArgs>(async (client, args) => {
    const versions = await client.discoverVersions();
    if (args.json) printJson({ versions, negotiated: client.version });
    else printFields({ versions: versions.join(', '), negotiated: client.version });
  }),
};

export const serverInfoCommands = [query, discover];
