// Runs the real `kmipd serve` as a child process for end-to-end tests: a temporary data
// directory, port 0 (the port is read from the "listening" log line), every log line kept,
// SIGTERM on stop. Client certificates come from the development PKI: either the one the
// server writes on first start (admin only) or one prepared here with the names a test needs.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initPki, type PkiPair } from '../../src/pki/dev-pki.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const KMIPD_BIN = join(ROOT, 'bin', 'kmipd.js');

export interface KmipdOptions {
  /**
   * Client certificate names (CNs) to prepare before start; the server then gets the
   * prepared files through --cert/--key/--ca. Absent: the server makes its own development
   * PKI in DATA/pki with the single client "admin".
   */
  clients?: string[];
  /** Identities given to --admin. */
  admins?: string[];
  store?: 'memory' | 'sqlite';
  /** Further command-line arguments for `kmipd serve`. */
  args?: string[];
  /** Reuse this data directory (a restart); it is then left in place on stop. */
  dataDir?: string;
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface KmipdProcess {
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string;
  readonly pkiDir: string;
  /** CA certificate that signed the server and client certificates. */
  readonly ca: string;
  client(name: string): PkiPair;
  /** Every JSON log line written so far (stdout). */
  logs(): LogLine[];
  stderr(): string;
  /** Sends SIGTERM and waits for the exit; removes a data directory it made. */
  stop(): Promise<ExitStatus>;
  /** Sends SIGKILL (a crash) and waits for the exit; keeps the data directory. */
  crash(): Promise<ExitStatus>;
}

interface Collected {
  lines: LogLine[];
  stdout: string;
  stderr: string;
  exit: Promise<ExitStatus>;
}

function collect(child: ChildProcess, onLine?: (line: LogLine) => void): Collected {
  const c: Collected = {
    lines: [],
    stdout: '',
    stderr: '',
    exit: new Promise((resolveExit) => {
      // 'close' rather than 'exit': by then stdout and stderr have been read to the end.
      child.on('close', (code, signal) => resolveExit({ code, signal }));
    }),
  };
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    c.stdout += chunk;
    partial += chunk;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const text = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      nl = partial.indexOf('\n');
      if (text.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 0, msg: text };
      }
      c.lines.push(line);
      onLine?.(line);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    c.stderr += chunk;
  });
  return c;
}

export async function startKmipdProcess(options: KmipdOptions = {}): Promise<KmipdProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'kmipd-e2e-')));
  let pkiDir = join(dataDir, 'pki');
  const args = [
    KMIPD_BIN,
    'serve',
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--store',
    options.store ?? 'memory',
  ];
  if (options.clients !== undefined) {
    pkiDir = join(dataDir, 'prepared-pki');
    const files = await initPki({ dir: pkiDir, clients: options.clients });
    args.push('--cert', files.server.cert, '--key', files.server.key, '--ca', files.ca.cert);
  }
  for (const admin of options.admins ?? []) args.push('--admin', admin);
  args.push(...(options.args ?? []));

  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let onListening: (port: number) => void = () => {};
  const listening = new Promise<number>((resolvePort) => {
    onListening = resolvePort;
  });
  const out = collect(child, (line) => {
    if (line.msg === 'listening' && typeof line.port === 'number') onListening(line.port);
  });
  const early = out.exit.then((status) => {
    throw new Error(
      `kmipd exited before listening (code ${status.code}, signal ${status.signal}): ${out.stderr.trim()}`,
    );
  });
  let port: number;
  try {
    port = await Promise.race([listening, early]);
  } catch (err) {
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  early.catch(() => {});

  let stopped: Promise<ExitStatus> | undefined;
  return {
    pid: child.pid!,
    port,
    dataDir,
    pkiDir,
    ca: join(pkiDir, 'ca.crt'),
    client: (name) => ({ cert: join(pkiDir, `${name}.crt`), key: join(pkiDir, `${name}.key`) }),
    logs: () => [...out.lines],
    stderr: () => out.stderr,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const status = await out.exit;
        if (ownDir) await rm(dataDir, { recursive: true, force: true });
        return status;
      })();
      return stopped;
    },
    crash() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        return out.exit;
      })();
      return stopped;
    },
  };
}

export interface KmipdRun extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs `kmipd ARGS...` to completion (for commands and start-up failures). */
export async function runKmipd(args: string[]): Promise<KmipdRun> {
  const child = spawn(process.execPath, [KMIPD_BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = collect(child);
  const status = await out.exit;
  return { ...status, stdout: out.stdout, stderr: out.stderr };
}
