// A throwaway PostgreSQL cluster for tests: initdb into a temp dir, listen on 127.0.0.1 on
// a free port with trust authentication, one database. Missing binaries fail the test with
// the Debian package to install; it never skips. initdb refuses to run as root, so under
// root every server binary runs as the `postgres` system user the package creates.

import { execFile, execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

const MISSING =
  'PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package ' +
  'postgresql (apt-get install postgresql)';
const SUPERUSER = 'postgres';
const START_ATTEMPTS = 3;

export interface PgCluster {
  /** Connection URL of the database created at start. */
  url: string;
  /** Creates another empty database and answers its URL. */
  createDatabase(): Promise<string>;
  /** `pg_ctl stop -m fast`, then removes the cluster directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Directory holding initdb and pg_ctl: Debian's versioned path first, then PATH. */
export function findPgBinDir(): string {
  for (const v of ['17', '16', '15', '14', '13']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const initdb = join(dir, 'initdb');
    if (!existsSync(initdb)) continue;
    // /usr/local/bin/initdb is often a symlink into the versioned directory.
    const real = dirname(realpathSync(initdb));
    if (existsSync(join(real, 'pg_ctl'))) return real;
  }
  throw new Error(MISSING);
}

interface RunAs {
  uid: number;
  gid: number;
}

/** The postgres system user when we are root, undefined otherwise. */
function runAsUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${SUPERUSER}:`));
  if (!line) {
    throw new Error(
      `running as root and there is no '${SUPERUSER}' user to run PostgreSQL as: install the ` +
        'Debian package postgresql, which creates it',
    );
  }
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function command(as: RunAs | undefined, file: string, args: string[]): [string, string[]] {
  return as ? ['runuser', ['-u', SUPERUSER, '--', file, ...args]] : [file, args];
}

async function exec(as: RunAs | undefined, file: string, args: string[]): Promise<void> {
  const [cmd, argv] = command(as, file, args);
  try {
    await run(cmd, argv, { timeout: 60_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** A temp dir the postgres user owns; under a TMPDIR it cannot reach, /tmp instead. */
function makeDir(as: RunAs | undefined): string {
  for (const base of [tmpdir(), '/tmp']) {
    const dir = mkdtempSync(join(base, 'kmipd-pg-'));
    if (!as) return dir;
    chownSync(dir, as.uid, as.gid);
    try {
      execFileSync('runuser', ['-u', SUPERUSER, '--', 'test', '-w', dir], { stdio: 'ignore' });
      return dir;
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error(`the ${SUPERUSER} user cannot write to a temp directory`);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const addr = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
  return addr.port;
}

/** Starts a cluster; call once per test file (beforeAll), startup takes a second or two. */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = findPgBinDir();
  const as = runAsUser();
  const dir = makeDir(as);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  let stopped = false;
  const pgCtlStop = () =>
    command(as, join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30']);
  // A worker that dies before afterAll still takes its server down with it.
  const onExit = () => {
    if (stopped) return;
    const [cmd, argv] = pgCtlStop();
    try {
      execFileSync(cmd, argv, { stdio: 'ignore', timeout: 10_000 });
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    try {
      if (existsSync(join(data, 'postmaster.pid'))) {
        const [cmd, argv] = pgCtlStop();
        await run(cmd, argv, { timeout: 60_000 });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    await exec(as, join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      SUPERUSER,
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    // Durability is pointless for a cluster deleted after the run.
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 200',
        '',
      ].join('\n'),
    );
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await exec(as, join(bin, 'pg_ctl'), [
          'start',
          '-D',
          data,
          '-l',
          log,
          '-w',
          '-t',
          '60',
          '-o',
          `-p ${port}`,
        ]);
        break;
      } catch (err) {
        // Another process may have taken the port between probing and binding.
        if (attempt >= START_ATTEMPTS) {
          const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
          throw new Error(`${(err as Error).message}\n${tail}`);
        }
      }
    }
    const base = `postgres://${SUPERUSER}@127.0.0.1:${port}`;
    let n = 0;
    const createDatabase = async (): Promise<string> => {
      const name = `kmipd_test_${++n}`;
      const admin = new pg.Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return `${base}/${name}`;
    };
    const url = await createDatabase();
    return { url, createDatabase, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
