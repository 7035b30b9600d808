// The `kmip` client commands, one KMIP operation (or a few) each; registered in src/cli/kmip.ts.

import type { CommandModule } from 'yargs';
import { attrsCommand } from './attrs.js';
import { cryptoCommands } from './crypto.js';
import { destroyCommand } from './destroy.js';
import { grantCommands } from './grant.js';
import { objectCommands } from './objects.js';
import { serverInfoCommands } from './server-info.js';

export const opsCommands = [
  ...objectCommands,
  destroyCommand,
  attrsCommand,
  ...grantCommands,
  ...cryptoCommands,
  ...serverInfoCommands,
] as unknown as CommandModule[];
