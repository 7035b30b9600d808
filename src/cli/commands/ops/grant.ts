// `kmip grant UID --to P --ops get,locate` and `kmip revoke-grant UID --to P [--ops ...]`:
// the kmipd extension operations Grant and Revoke Grant (src/operations/grant.ts). P is a
// principal (`alice`, `user:alice`) or a group (`group:ops`). Only the owner or an admin may.

import type { Argv, CommandModule } from 'yargs';
import { operationName } from '../../../auth/access.js';
import type { OpSpec } from '../../../client/operations.js';
import {
  GRANT_OPERATION,
  grant,
  REVOKE_GRANT_OPERATION,
  revokeGrant,
} from '../../../operations/grant.js';
import { Operation } from '../../../ttlv/spec/generated.js';
import { type CommonArgs, printFields, printJson, uidPositional, withClient } from './common.js';

interface GrantArgs extends CommonArgs {
  uid: string;
  to: string;
  ops: string | undefined;
}

interface GrantInput {
  uid: string;
  grantee: string;
  operations: number[];
}

type GrantPayload = { uniqueIdentifier?: string; grantee: string; operations?: number[] };
type GrantResult = { uniqueIdentifier: string; grants?: string[] };

function spec(
  operation: number,
  schemas: typeof grant,
): OpSpec<GrantInput, GrantPayload, GrantResult, GrantResult> {
  return {
    operation,
    schemas,
    payload: (a) => ({ uniqueIdentifier: a.uid, grantee: a.grantee, operations: a.operations }),
    result: (r) => r,
  };
}

const operations: Readonly<Record<string, number | undefined>> = Operation;

function parseOps(text: string | undefined): number[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((t) => operations[operationName(t.trim())]!);
}

function command(
  name: 'grant' | 'revoke-grant',
  describe: string,
  operation: number,
  schemas: typeof grant,
): CommandModule<object, GrantArgs> {
  return {
    command: `${name} <uid>`,
    describe,
    builder: (y: Argv) =>
      uidPositional(y)
        .option('to', {
          type: 'string',
          demandOption: true,
          describe: 'principal (alice, user:alice) or group (group:ops)',
        })
        .option('ops', {
          type: 'string',
          demandOption: name === 'grant',
          describe:
            name === 'grant'
              ? 'operations, comma-separated: get,locate,get-attributes,encrypt,...'
              : 'operations to take back (default: every grant of --to)',
        })
        .example(`$0 ${name} 6f1c… --to bob --ops get,locate`, '') as unknown as Argv<GrantArgs>,
    handler: withClient<GrantArgs>(async (client, args) => {
      const result = await client.call(spec(operation, schemas), {
        uid: args.uid,
        grantee: args.to,
        operations: parseOps(args.ops),
      });
      const grants = result.grants ?? [];
      if (args.json) printJson({ uid: result.uniqueIdentifier, grants });
      else printFields({ uid: result.uniqueIdentifier, grants: grants.join(', ') || '(none)' });
    }),
  };
}

export const grantCommands = [
  command('grant', 'Let a principal or group run operations on an object', GRANT_OPERATION, grant),
  command(
    'revoke-grant',
    'Take back operations granted on an object',
    REVOKE_GRANT_OPERATION,
    revokeGrant,
  ),
];
