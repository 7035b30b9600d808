// Starts PyKMIP's server (Debian python3-pykmip, /usr/bin/pykmip-server) for tests: a
// throwaway PKI whose client certificate has clientAuth (PyKMIP checks it), auth_suite=TLS1.2,
// a temporary SQLite database. A missing pykmip-server fails the test, never skips it.

import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

export async function startPyKmipServer(): Promise<PyKmipServer> {
  await access(PYKMIP_SERVER).catch(() => {
    throw new Error(
      `${PYKMIP_SERVER} is missing: install the Debian package python3-pykmip (apt-get install python3-pykmip)`,
    );
  });
  const dir = await mkdtemp(join(tmpdir(), 'pykmip-client-'));
  const pki = await initPki({ dir: join(dir, 'pki'), clients: ['client'] });
  await mkdir(join(dir, 'policies'));
  const port = await freePort();
  const config = join(dir, 'server.conf');
  await writeFile(
    config,
    [
      '[server]',
      'hostname=127.0.0.1',
      `port=${port}`,
      `certificate_path=${pki.server.cert}`,
      `key_path=${pki.server.key}`,
      `ca_path=${pki.ca.cert}`,
      'auth_suite=TLS1.2',
      `policy_path=${join(dir, 'policies')}`,
      'enable_tls_client_auth=True',
      'logging_level=INFO',
      `database_path=${join(dir, 'pykmip.sqlite')}`,
      '',
    ].join('\n'),
  );
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
