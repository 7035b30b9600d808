// The `kmip` command. Each command group lives in its own module under ./commands/ and is
// registered here. Handlers throw; this file turns any failure into one line on stderr and an
// exit code: 2 for input a command rejects (KmipError), 1 for wrong usage or anything else.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { KmipError } from '../errors.js';
import { auditCommand } from './commands/audit.js';
import { benchCommand } from './commands/bench.js';
import { conformanceCommand } from './commands/conformance.js';
import { opsCommands } from './commands/ops/index.js';
import { ttlvCommand } from './commands/ttlv.js';

class UsageError extends Error {}

function report(err: unknown): number {
  if (err instanceof KmipError) {
    process.stderr.write(`kmip: ${err.describe()}\n`);
    return 2;
  }
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
  const hint = err instanceof UsageError ? ' (see kmip --help)' : '';
  process.stderr.write(`kmip: ${message}${hint}\n`);
  return 1;
}

try {
  await yargs(hideBin(process.argv))
    .scriptName('kmip')
    .usage('$0 <command> [options]\n\nKMIP client and TTLV tools.')
    .command(ttlvCommand)
    .command(conformanceCommand)
    .command(opsCommands)
    .command(benchCommand)
    .command(auditCommand)
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .fail((message, err) => {
      throw err ?? new UsageError(message);
    })
    .parseAsync();
} catch (err) {
  process.exitCode = report(err);
}
