// `kmipd doctor --server HOST:PORT --cert F --key F --ca F`: connects as a KMIP client would
// and prints one line per check (ok, warn, FAIL). On success the last lines name the
// negotiated protocol and cipher and the versions Discover Versions returned. Exit 0 when
// nothing failed, 1 otherwise.

import { readFile } from 'node:fs/promises';
import type { SecureVersion } from 'node:tls';
import type { Argv, CommandModule } from 'yargs';
import { runDoctor } from '../../tls/diagnose.js';

interface DoctorArgs {
  server: string;
  cert: string;
  key: string;
  ca: string;
  servername?: string;
  'tls-min-version': SecureVersion;
  'tls-ciphers'?: string;
  timeout: number;
  json: boolean;
}

/** HOST:PORT, [IPv6]:PORT, or HOST (port 5696). */
export function parseServer(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(text);
  const port = m?.[3] === undefined ? 5696 : Number(m[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new Error(`--server ${text}: expected HOST:PORT`);
  }
  return { host: m[1] ?? m[2]!, port };
}

async function read(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`--${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Connect to a KMIP server as a client would and explain what is wrong',
  builder: (y: Argv) =>
    y
      .option('server', { type: 'string', demandOption: true, describe: 'HOST:PORT of the server' })
      .option('cert', { type: 'string', demandOption: true, describe: 'Client certificate (PEM)' })
      .option('key', { type: 'string', demandOption: true, describe: 'Client private key (PEM)' })
      .option('ca', {
        type: 'string',
        demandOption: true,
        describe: 'CA certificate(s) that should have signed the server certificate (PEM)',
      })
      .option('servername', {
        type: 'string',
        describe: 'Name to check the server certificate against; default the host of --server',
      })
      .option('tls-min-version', {
        choices: ['TLSv1.2', 'TLSv1.3'] as const,
        default: 'TLSv1.2' as const,
        describe: 'Lowest TLS version to offer',
      })
      .option('tls-ciphers', {
        type: 'string',
        describe: "OpenSSL cipher list to offer; default Node's",
      })
      .option('timeout', { type: 'number', default: 10, describe: 'Seconds allowed per step' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print the report as JSON',
      }) as unknown as Argv<DoctorArgs>,
  handler: async (a) => {
    const { host, port } = parseServer(a.server);
    const [cert, key, ca] = await Promise.all([
      read('cert', a.cert),
      read('key', a.key),
      read('ca', a.ca),
    ]);
    const report = await runDoctor({
      host,
      port,
      cert,
      key,
      ca,
      servername: a.servername,
      minVersion: a['tls-min-version'],
      ciphers: a['tls-ciphers'],
      timeoutMs: a.timeout * 1000,
    });
    if (a.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const label = { ok: 'ok   ', warn: 'warn ', fail: 'FAIL ' } as const;
      const lines = report.findings.map((f) => `${label[f.level]} ${f.message}`);
      lines.push(
        report.ok
          ? `${a.server}: usable (${report.protocol}, ${report.cipher}; KMIP ${report.versions?.join(', ')})`
          : `${a.server}: not usable with these files`,
      );
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (!report.ok) process.exitCode = 1;
  },
};
