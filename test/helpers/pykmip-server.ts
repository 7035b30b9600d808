// Starts PyKMIP's server (Debian python3-pykmip, /usr/bin/pykmip-server) for tests: a
// throwaway PKI whose client certificate has clientAuth (PyKMIP checks it), auth_suite=TLS1.2,
// a temporary SQLite database. A missing pykmip-server fails the test, never skips it.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initPki } from '../../src/pki/dev-pki.js';

const PYKMIP_SERVER = '/usr/bin/pykmip-server';

export interface PyKmipServer {
  port: number;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  /** The same client certificate, key and CA as files, for command-line clients. */
  files: { cert: string; key: string; ca: string };
  stop(): Promise<void>;
}

/** A port free a moment ago; PyKMIP cannot report the port it bound for port 0. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => Promise<string>) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pykmip-server exited:\n${await log()}`);
    const open = await new Promise<boolean>((done) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        done(true);
      });
      s.once('error', () => done(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`pykmip-server did not listen on ${port}:\n${await log()}`);
}

/**
 * Writes DIR/server.conf for pykmip-server: mutual TLS with auth_suite=TLS1.2 (the only suite
 * PyKMIP 0.10 serves TLS 1.2 with), its SQLite DATABASE, and an empty policy directory
 * DIR/policies, without which the server's policy monitor crashes. Returns the file's path.
 */
export function writePyKmipConfig(o: {
  dir: string;
  host?: string;
  port: number;
  cert: string;
  key: string;
  ca: string;
  database: string;
}): string {
  const policies = join(o.dir, 'policies');
  mkdirSync(policies, { recursive: true });
  const config = join(o.dir, 'server.conf');
  writeFileSync(
    config,
    [
      '[server]',
      `hostname=${o.host ?? '127.0.0.1'}`,
      `port=${o.port}`,
      `certificate_path=${o.cert}`,
      `key_path=${o.key}`,
      `ca_path=${o.ca}`,
      'auth_suite=TLS1.2',
      `policy_path=${policies}`,
      'enable_tls_client_auth=True',
      'logging_level=INFO',
      `database_path=${o.database}`,
      '',
    ].join('\n'),
  );
  return config;
}

export async function startPyKmipServer(): Promise<PyKmipServer> {
  await access(PYKMIP_SERVER).catch(() => {
    throw new Error(
      `${PYKMIP_SERVER} is missing: install the Debian package python3-pykmip (apt-get install python3-pykmip)`,
    );
  });
  const dir = await mkdtemp(join(tmpdir(), 'pykmip-client-'));
  const pki = await initPki({ dir: join(dir, 'pki'), clients: ['client'] });
  const port = await freePort();
  const config = writePyKmipConfig({
    dir,
    port,
    cert: pki.server.cert,
    key: pki.server.key,
    ca: pki.ca.cert,
    database: join(dir, 'pykmip.sqlite'),
  });
  const logPath = join(dir, 'server.log');
  const child = spawn(PYKMIP_SERVER, ['-f', config, '-l', logPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const closed = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      await closed;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, async () => {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      return `${stderr}\n${log}`;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const client = pki.clients.client!;
  return {
    port,
    cert: await readFile(client.cert),
    key: await readFile(client.key),
    ca: await readFile(pki.ca.cert),
    files: { cert: client.cert, key: client.key, ca: pki.ca.cert },
    stop,
  };
}
