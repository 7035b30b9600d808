// `kmip audit verify FILE [--public-key F] [--live] [--json]`: checks a kmipd audit log. Exit 0
// when the log is intact; otherwise one line naming the first bad line and why, exit 1.
// Without --public-key the key beside the log (audit-signing.pub, where kmipd writes it) is
// used when present; a key kept apart from the server is the stronger check.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { verifyAuditFile } from '../../audit/verify.js';

interface VerifyArgs {
  file: string;
  'public-key'?: string;
  live: boolean;
  json: boolean;
}

async function loadPublicKey(path: string): Promise<KeyObject> {
  let key: KeyObject;
  try {
    // A private key file is accepted too; only its public half is used.
    key = createPublicKey(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path}: no such file`);
    throw new Error(`${path} is not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an Ed25519 key`);
  return key;
}

const verify: CommandModule<object, VerifyArgs> = {
  command: 'verify <file>',
  describe: 'Check the hash chain and checkpoint signatures of a kmipd audit log',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'The audit log' })
      .option('public-key', {
        type: 'string',
        describe: 'Ed25519 public key (PEM) of the server; default audit-signing.pub beside FILE',
      })
      .option('live', {
        type: 'boolean',
        default: false,
        describe: 'The log is still being written: accept records after the last checkpoint',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print the result as JSON',
      }) as Argv<VerifyArgs>,
  handler: async (a) => {
    const beside = join(dirname(a.file), 'audit-signing.pub');
    const keyPath = a['public-key'] ?? (existsSync(beside) ? beside : undefined);
    const publicKey = keyPath === undefined ? undefined : await loadPublicKey(keyPath);
    if (!existsSync(a.file)) throw new Error(`${a.file}: no such file`);
    const r = await verifyAuditFile(a.file, { publicKey, live: a.live });
    if (a.json) {
      process.stdout.write(`${JSON.stringify({ file: a.file, publicKey: keyPath, ...r })}\n`);
    }
    if (!r.ok) throw new Error(`${a.file}: line ${r.bad!.line}: ${r.bad!.reason}`);
    if (a.json) return;
    const sigs = r.signaturesChecked
      ? `signatures checked with ${keyPath}`
      : 'signatures NOT checked (no public key; give --public-key)';
    const tail = r.unsigned > 0 ? `; ${r.unsigned} records after the last checkpoint` : '';
    process.stdout.write(
      `${a.file}: intact: ${r.records} records, ${r.checkpoints} checkpoint${r.checkpoints === 1 ? '' : 's'}, ${sigs}${tail}\n`,
    );
  },
};

export const auditCommand: CommandModule = {
  command: 'audit <command>',
  describe: 'kmipd audit log tools',
  builder: (y: Argv) =>
    y.command(verify as unknown as CommandModule).demandCommand(1, 'name an audit command'),
  handler: () => {},
};
