// The `kmipd` command: `serve` runs the server, `kek rotate|status` manage key-encryption
// keys, `pki init` writes a development PKI and `pki client` adds a client to it.

import { join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import pino from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_CHECKPOINT_EVERY } from '../audit/file-log.js';
import { usersCommand } from '../auth/users-command.js';
import { KmipError } from '../errors.js';
import { type KekArgs, kekChoiceFromArgs } from '../kek/choice.js';
import { DEFAULT_MAX_LOCATE_ITEMS } from '../operations/context.js';
import { parsePushTarget } from '../push/config.js';
import {
  announceWorkerReady,
  isClusterWorker,
  joinCluster,
  MAX_WORKERS,
  runPrimary,
  type WorkerSetup,
  workerAuditPath,
  workerShare,
} from '../server/cluster.js';
import { DEFAULT_CONNECTION_LIMITS } from '../server/connection.js';
import { type KmipdConfig, startKmipd } from '../server/kmipd.js';
import { installLastResortHandlers } from '../server/tls-server.js';
import { exportCommand, importCommand } from './commands-kmipd/backup.js';
import {
  announce,
  configCommand,
  listeningFields,
  serveExtras,
  withServeConfig,
} from './commands-kmipd/config.js';
import { doctorCommand } from './commands-kmipd/doctor.js';
import { kekCommand, withKekOptions } from './commands-kmipd/kek.js';
import { pkiCommand } from './commands-kmipd/pki.js';

/** Worker N of a cluster serves its admin port at admin-port + N - 1 (any free one for 0). */
function workerExtras(
  extras: Partial<KmipdConfig>,
  worker: WorkerSetup | undefined,
): Partial<KmipdConfig> {
  const admin = extras.admin;
  if (worker === undefined || admin === undefined || admin.port === 0) return extras;
  return { ...extras, admin: { ...admin, port: admin.port + worker.index - 1 } };
}

function fail(message: string): never {
  process.stderr.write(`kmipd: ${message}\n`);
  process.exit(1);
}

function explain(err: unknown): string {
  if (err instanceof KmipError) return err.describe();
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') return `port already in use (${e.message})`;
  if (e.code === 'EACCES') return `permission denied: ${e.message}`;
  if (e.code === 'ENOENT') return `file not found: ${e.path ?? e.message}`;
  if (e instanceof Error) return e.message.split('\n')[0] ?? 'error';
  return String(err);
}

await yargs(hideBin(process.argv))
  .scriptName('kmipd')
  .usage('$0 <command> [options]\n\nkmipd: a KMIP server (KMIP 1.0-2.1 over mutual TLS).')
  .command(
    'serve',
    'Run the KMIP server on the embedded SQLite store (default) or in memory.',
    (y) =>
      withKekOptions(withServeConfig(y))
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
        .option('port', {
          type: 'number',
          default: 5696,
          describe: 'KMIP port (0 picks a free one)',
        })
        .option('https-port', {
          type: 'number',
          describe:
            'Also serve KMIP over HTTPS (POST /kmip; TTLV, XML or JSON) on this port, with the ' +
            'same certificates (0 picks a free one). Default off',
        })
        .option('https-host', {
          type: 'string',
          describe: 'Address for the HTTPS port (default --host)',
        })
        .option('data-dir', {
          type: 'string',
          default: 'kmipd-data',
          describe:
            'Directory for objects.sqlite, the KEK keyring (keks/) and the development PKI. ' +
            'The KEK options choose KEK version 1 on first start and are ignored afterwards',
        })
        .option('store', {
          choices: ['sqlite', 'memory', 'postgres'] as const,
          default: 'sqlite' as const,
          describe:
            'Object store: embedded SQLite, memory only, or PostgreSQL shared by several nodes',
        })
        .option('postgres-url', {
          type: 'string',
          describe: 'PostgreSQL connection URL for --store postgres (or env KMIPD_POSTGRES_URL)',
        })
        .option('sqlite-writer-thread', {
          type: 'boolean',
          default: true,
          describe:
            'Run SQLite writes and their fsync on a thread of their own, off the event loop ' +
            '(--no-sqlite-writer-thread: on the event loop)',
        })
        .option('cert', {
          type: 'string',
          describe: 'Server certificate (PEM); with --key and --ca',
        })
        .option('key', { type: 'string', describe: 'Server private key (PEM)' })
        .option('ca', {
          type: 'string',
          describe: 'CA certificate(s) that sign client certificates (PEM)',
        })
        .option('client-cert', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe:
            'Register a client certificate (PEM) that no --ca signed, e.g. a self-signed one: ' +
            'accepted as exactly that certificate (SHA-256 pinned, never as an issuer of ' +
            'others), identity from its CN; repeat for several',
        })
        .option('admin', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe: 'Client identity (certificate CN) that may see and manage every object',
        })
        .option('identity-map', {
          type: 'string',
          describe:
            'JSON or YAML rules from client certificate fields to principal and groups, and a ' +
            'default policy per object type. Default: principal = CN, no groups',
        })
        .option('users-file', {
          type: 'string',
          describe:
            'Users file (kmipd users add): every request must carry a valid KMIP Credential ' +
            '(username and password). Default: not required',
        })
        .option('idle-timeout', {
          type: 'number',
          default: DEFAULT_CONNECTION_LIMITS.idleTimeoutMs / 1000,
          describe: 'Seconds before an idle connection is closed',
        })
        .option('max-message-bytes', {
          type: 'number',
          default: DEFAULT_CONNECTION_LIMITS.maxMessageBytes,
          describe: 'Largest request accepted',
        })
        .option('max-connections', {
          type: 'number',
          default: DEFAULT_CONNECTION_LIMITS.maxConnections,
          describe: 'Open connections at most, handshaking ones included',
        })
        .option('max-connections-per-identity', {
          type: 'number',
          default: DEFAULT_CONNECTION_LIMITS.maxConnectionsPerIdentity,
          describe: 'Open connections at most per client identity',
        })
        .option('handshake-timeout', {
          type: 'number',
          default: DEFAULT_CONNECTION_LIMITS.handshakeTimeoutMs / 1000,
          describe: 'Seconds a TLS handshake may take, counted from the TCP accept',
        })
        .option('max-locate-items', {
          type: 'number',
          default: DEFAULT_MAX_LOCATE_ITEMS,
          describe:
            'Most identifiers one Locate answers, whatever its Maximum Items; clients page ' +
            'past it with Offset Items (KMIP 1.3+)',
        })
        .option('workers', {
          type: 'number',
          default: 1,
          describe:
            `Server processes sharing the port and the store (1-${MAX_WORKERS}; sqlite or ` +
            'postgres). Each keeps its own audit file (.wN beside the first) and its share of ' +
            'the connection caps; see docs/cluster.md',
        })
        .option('log-level', {
          choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const,
          default: 'info' as const,
          describe: 'Log level (JSON lines on stdout)',
        })
        .option('audit-log', {
          type: 'string',
          describe:
            'Tamper-evident audit file (hash-chained JSON lines, signed checkpoints; check it with ' +
            'kmip audit verify). Default DATA/audit.log for the sqlite and postgres stores, off ' +
            "for memory; 'off' turns it off",
        })
        .option('audit-key-file', {
          type: 'string',
          describe:
            'Ed25519 private key (PEM) that signs audit checkpoints; created with mode 0600 when ' +
            'missing, its public key beside it as .pub. Default DATA/audit-signing.key',
        })
        .option('audit-checkpoint-every', {
          type: 'number',
          default: DEFAULT_CHECKPOINT_EVERY,
          describe: 'Audit records between signed checkpoints (one is also written on shutdown)',
        })
        .option('tls-min-version', {
          choices: ['TLSv1.2', 'TLSv1.3'] as const,
          default: 'TLSv1.2' as const,
          describe: 'Lowest TLS version accepted on the KMIP port',
        })
        .option('push-to', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe:
            'Push a KMIP Put for each new object and a Notify for each attribute change to ' +
            "a subscriber: 'HOST:PORT,owners=NAME[+NAME]|*[,ca=FILE][,version=1.4]" +
            "[,servername=NAME]'. owners names whose objects (key material included) it gets; " +
            'ca (default --ca) signs its server certificate; repeat for several. See README ' +
            '"Push to subscribers"',
        })
        .option('push-cert', {
          type: 'string',
          describe:
            'Client certificate (PEM, clientAuth) kmipd presents to subscribers; with ' +
            '--push-key. Default the server certificate',
        })
        .option('push-key', { type: 'string', describe: 'Private key of --push-cert (PEM)' })
        .option('tls-ciphers', {
          type: 'string',
          describe:
            "OpenSSL cipher list for the KMIP port (default Node's); some vCenter builds need " +
            'the TLS 1.2 CBC suites added, see SECURITY.md',
        })
        .check((a) => {
          for (const spec of a['push-to']) parsePushTarget(spec);
          if ((a['push-cert'] === undefined) !== (a['push-key'] === undefined))
            throw new Error('--push-cert and --push-key go together');
          const given = [a.cert, a.key, a.ca].filter((x) => x !== undefined).length;
          if (given !== 0 && given !== 3) throw new Error('--cert, --key and --ca go together');
          if (a.store === 'postgres' && !a['postgres-url'] && !process.env.KMIPD_POSTGRES_URL) {
            throw new Error('--store postgres needs --postgres-url');
          }
          if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535)
            throw new Error('--port must be 0-65535');
          const hp = a['https-port'];
          if (hp !== undefined && (!Number.isInteger(hp) || hp < 0 || hp > 65535))
            throw new Error('--https-port must be 0-65535');
          if (a['https-host'] !== undefined && hp === undefined)
            throw new Error('--https-host needs --https-port');
          const workers = a.workers;
          if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS)
            throw new Error(`--workers must be an integer from 1 to ${MAX_WORKERS}`);
          if (workers > 1 && (a.store === 'memory' || a.ephemeral))
            throw new Error('--workers above 1 needs a shared store: sqlite or postgres');
          if (workers > 1 && a['deterministic-ids'] !== undefined)
            throw new Error('--deterministic-ids needs a single process (--workers 1)');
          const most = a['max-locate-items'];
          if (!Number.isInteger(most) || most < 1)
            throw new Error('--max-locate-items must be a positive integer');
          const every = a['audit-checkpoint-every'];
          if (!Number.isInteger(every) || every < 1)
            throw new Error('--audit-checkpoint-every must be a positive integer');
          if (a['tls-ciphers'] !== undefined) {
            try {
              createSecureContext({ ciphers: a['tls-ciphers'] });
            } catch {
              throw new Error(`--tls-ciphers: no cipher in "${a['tls-ciphers']}" is known here`);
            }
          }
          return true;
        }),
    async (a) => {
      // Everything the server writes (database, WAL, key-encryption key, PKI) is private.
      process.umask(0o077);
      // Fixture mode keeps stdout for the one JSON line a test harness reads.
      const processLog = pino(
        { level: a['log-level'], base: { service: 'kmipd' } },
        pino.destination({ fd: a.ephemeral ? 2 : 1, sync: true }),
      );
      if (a.workers > 1 && !isClusterWorker()) {
        process.exit(await runPrimary(a.workers, processLog));
      }
      const worker = isClusterWorker() ? await joinCluster() : undefined;
      const log = worker === undefined ? processLog : processLog.child({ worker: worker.index });
      const share = (cap: number) => (worker === undefined ? cap : workerShare(cap, worker));
      const dataDir = resolve(a['data-dir']);
      // The audit file is on by default wherever objects outlive the process.
      const auditConfig = (file?: string, keyFile?: string, every?: number) => {
        const path =
          file ?? (a.store === 'memory' || a.ephemeral ? 'off' : join(dataDir, 'audit.log'));
        if (path === 'off') return undefined;
        const key = keyFile ?? join(dataDir, 'audit-signing.key');
        const own = worker === undefined ? resolve(path) : workerAuditPath(resolve(path), worker);
        return { path: own, keyFile: resolve(key), checkpointEvery: every };
      };
      let kmipd: Awaited<ReturnType<typeof startKmipd>>;
      try {
        kmipd = await startKmipd({
          host: a.host,
          port: a.port,
          dataDir,
          store: a.store,
          postgresUrl: a['postgres-url'] ?? process.env.KMIPD_POSTGRES_URL,
          sqliteWriterThread: a['sqlite-writer-thread'],
          kek: kekChoiceFromArgs(a as KekArgs),
          tls: a.cert !== undefined ? { cert: a.cert!, key: a.key!, ca: a.ca! } : undefined,
          clientCerts: a['client-cert'].map((f) => resolve(f)),
          admins: a.admin,
          identityMap: a['identity-map'],
          usersFile: a['users-file'],
          https:
            a['https-port'] !== undefined
              ? { port: a['https-port'], host: a['https-host'] }
              : undefined,
          limits: {
            idleTimeoutMs: a['idle-timeout'] * 1000,
            maxMessageBytes: a['max-message-bytes'],
            maxConnections: share(a['max-connections']),
            maxConnectionsPerIdentity: share(a['max-connections-per-identity']),
            handshakeTimeoutMs: a['handshake-timeout'] * 1000,
          },
          log,
          audit: auditConfig(a['audit-log'], a['audit-key-file'], a['audit-checkpoint-every']),
          tlsMinVersion: a['tls-min-version'],
          tlsCiphers: a['tls-ciphers'],
          maxLocateItems: a['max-locate-items'],
          push: {
            targets: a['push-to'].map(parsePushTarget),
            cert: a['push-cert'],
            key: a['push-key'],
          },
          ...workerExtras(await serveExtras(a), worker),
        });
      } catch (err) {
        fail(explain(err));
      }
      // Handlers first: a supervisor may signal as soon as it reads the 'listening' line.
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping: finishing requests in flight');
        await kmipd.stop();
        log.info('stopped');
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGHUP', () => {
        kmipd.reloadTls().then(
          (cert) => log.info(cert, 'TLS files reloaded: new connections use them'),
          (err) => log.error({ err: explain(err) }, 'TLS reload failed: serving as before'),
        );
      });
      // A worker whose primary is gone has no one to relay tickets or replace it: it stops.
      if (worker !== undefined) process.on('disconnect', () => void stop('primary gone'));
      installLastResortHandlers(log, () => kmipd.stop());
      if (a.ephemeral) announce(kmipd);
      const { address, port } = kmipd.server.address;
      log.info(
        {
          host: address,
          port,
          store: a.store,
          dataDir,
          clientCertificates: kmipd.pkiDir,
          httpsHost: kmipd.httpsServer?.address.address,
          httpsPort: kmipd.httpsServer?.address.port,
          ...listeningFields(kmipd, a.ephemeral),
        },
        // A cluster's primary says 'listening' once every worker is.
        worker === undefined ? 'listening' : 'worker listening',
      );
      if (worker !== undefined) {
        announceWorkerReady({
          port,
          httpsPort: kmipd.httpsServer?.address.port,
          adminPort: kmipd.admin?.address.port,
        });
      }
    },
  )
  .command(kekCommand)
  .command(doctorCommand)
  .command(usersCommand)
  .command(configCommand)
  .command(exportCommand)
  .command(importCommand)
  .command(pkiCommand)
  .demandCommand(1, 'name a command')
  .strict()
  .help()
  .alias('h', 'help')
  .version(false)
  .fail((message, err) => {
    fail(err ? explain(err) : `${message} (see kmipd --help)`);
  })
  .parseAsync();
