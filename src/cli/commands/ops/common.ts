// What the `kmip` operation commands share: connection options, opening a client, output as a
// table or JSON, and the exit codes. A KMIP failure is one line naming the Result Reason
// (`kmip: ItemNotFound: no object with identifier X`) and exit code 3; other failures go to
// the top-level reporter in src/cli/kmip.ts (exit 1).

import type { Argv } from 'yargs';
import { KmipClient, KmipOperationError, readCertificateFiles } from '../../../client/index.js';
import { type ConnectionFlags, connectionSettings } from '../../profile.js';

export const EXIT_KMIP_FAILURE = 3;
/** Signature or MAC verification answered Invalid. */
export const EXIT_INVALID = 4;

export interface CommonArgs extends ConnectionFlags {
  json: boolean;
  timeout: number;
  username?: string;
  'password-env'?: string;
}

export function connectionOptions<T>(y: Argv<T>) {
  return y
    .option('server', {
      type: 'string',
      describe: 'KMIP server HOST:PORT (env KMIP_SERVER)',
      group: 'Connection:',
    })
    .option('cert', {
      type: 'string',
      describe: 'client certificate, PEM (env KMIP_CERT)',
      group: 'Connection:',
    })
    .option('key', {
      type: 'string',
      describe: 'client private key, PEM (env KMIP_KEY)',
      group: 'Connection:',
    })
    .option('ca', {
      type: 'string',
      describe: 'CA certificate(s) of the server, PEM (env KMIP_CA)',
      group: 'Connection:',
    })
    .option('servername', {
      type: 'string',
      describe: 'name to check in the server certificate (default HOST unless an IP address)',
      group: 'Connection:',
    })
    .option('profile', {
      type: 'string',
      describe:
        'connection profile from ~/.config/kmip/profiles.json or KMIP_PROFILES (env KMIP_PROFILE)',
      group: 'Connection:',
    })
    .option('kmip-version', {
      type: 'string',
      describe: "protocol version, e.g. 1.4 or 2.1; 'auto' asks the server (env KMIP_VERSION)",
      group: 'Connection:',
    })
    .option('timeout', {
      type: 'number',
      default: 30,
      describe: 'seconds to wait for each response',
      group: 'Connection:',
    })
    .option('username', {
      type: 'string',
      describe:
        'send a Username and Password Credential with this username (servers that check one, ' +
        'e.g. kmipd --users-file; env KMIP_USERNAME)',
      group: 'Connection:',
    })
    .option('password-env', {
      type: 'string',
      describe:
        'name of the environment variable holding the password for --username (default ' +
        'KMIP_PASSWORD); never on the command line',
      group: 'Connection:',
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'print JSON for scripts instead of a table',
    });
}

/** The Credential of --username / KMIP_USERNAME, its password from the environment. */
export function credentialOf(
  args: Pick<CommonArgs, 'username' | 'password-env'>,
  env: NodeJS.ProcessEnv = process.env,
): { username: string; password: string } | undefined {
  const username = args.username ?? env.KMIP_USERNAME;
  if (username === undefined) return undefined;
  const variable = args['password-env'] ?? 'KMIP_PASSWORD';
  const password = env[variable];
  if (password === undefined || password === '') {
    throw new Error(
      `--username ${username}: set the password in the environment variable ${variable}`,
    );
  }
  return { username, password };
}

export async function openClient(args: CommonArgs, poolSize = 1): Promise<KmipClient> {
  const credential = credentialOf(args);
  const s = await connectionSettings(args);
  const files = await readCertificateFiles({ cert: s.cert, key: s.key, ca: s.ca });
  return KmipClient.connect({
    host: s.host,
    port: s.port,
    ...files,
    servername: s.servername,
    version: s.version,
    poolSize,
    requestTimeoutMs: args.timeout * 1000,
    credential,
  });
}

/**
 * Runs a command with a connected client; a KMIP failure is reported here with exit code 3,
 * anything else is rethrown for the top-level reporter.
 */
export function withClient<A extends CommonArgs>(
  run: (client: KmipClient, args: A) => Promise<void>,
  poolSize?: (args: A) => number,
): (args: A) => Promise<void> {
  return async (args) => {
    const client = await openClient(args, poolSize?.(args));
    try {
      await run(client, args);
    } catch (err) {
      if (!(err instanceof KmipOperationError)) throw err;
      reportKmipFailure(err);
    } finally {
      await client.close();
    }
  };
}

export function reportKmipFailure(err: KmipOperationError): void {
  const message = (err.resultMessage ?? `${err.operation} failed`).replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`kmip: ${err.resultReasonName}: ${message}\n`);
  process.exitCode = EXIT_KMIP_FAILURE;
}

/** Plain data for JSON output: bytes as hex, dates as ISO 8601, big integers as strings. */
export function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonable);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, jsonable(x)]),
    );
  }
  return v;
}

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(jsonable(v), null, 2)}\n`);
}

/** A value as one table cell. */
export function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(cell).join(', ');
  if (typeof v === 'object') {
    return Object.entries(v)
      .map(([k, x]) => `${k}=${cell(x)}`)
      .join(' ');
  }
  return String(v);
}

/** Columns padded to their widest cell; the first row is the heading. */
export function printTable(rows: unknown[][]): void {
  const text = rows.map((r) => r.map(cell));
  const widths: number[] = [];
  for (const r of text) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  const lines = text.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Key/value pairs as a two-column table. */
export function printFields(fields: Record<string, unknown>): void {
  printTable(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** Reads stdin whole (data for the cryptographic commands). */
export async function readStdin(cap = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > cap) throw new Error(`input exceeds ${cap} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export function hexArg(text: string, what: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`${what} must be hex digits`);
  return Buffer.from(clean, 'hex');
}

/** Connection options plus the required `<uid>` positional most commands take. */
export function uidPositional<T>(y: Argv<T>) {
  return connectionOptions(y).positional('uid', {
    type: 'string',
    demandOption: true,
    describe: 'Unique Identifier',
  });
}
