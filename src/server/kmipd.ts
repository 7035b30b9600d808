// Assembles a kmipd server from its configuration: store, KEK keyring, message layer and the
// TLS listener. The embedded default keeps everything under one data directory:
// DATA/objects.sqlite, DATA/keks (KEK versions; new software KEKs as NNNN.key, mode 0600)
// and DATA/pki (the development PKI). A data directory from before keyrings keeps its
// DATA/kek.key as KEK version 1.
//
// Fixture mode (`ephemeral`) writes nothing but the development PKI: the memory store and a
// random software KEK held in memory, for other projects' test suites.

import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { type AuditConfig, type AuditFileLog, openAuditLog } from '../audit/index.js';
import { certificateFields, loadIdentityMap, mapIdentity } from '../auth/identity-map.js';
import { usersVerifier } from '../auth/users.js';
import { readCertificateAuthority } from '../crypto/ca.js';
import type { KeyWrapper } from '../crypto/key-wrapper.js';
import { ensureKeyring, Keyring } from '../crypto/keyring.js';
import { KEK_BYTES, SoftwareKeyWrapper } from '../crypto/software-key-wrapper.js';
import type { KekChoice } from '../kek/choice.js';
import type { KmipdMetrics } from '../metrics/metrics.js';
import { initPki } from '../pki/dev-pki.js';
import type { PushTarget } from '../push/config.js';
import { PushService } from '../push/service.js';
import type { PushLimits } from '../push/subscriber.js';
import { openMemoryStore } from '../store/memory-store.js';
import type { ObjectStore } from '../store/object-store.js';
import { openPostgresStore } from '../store/postgres-store.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { loadRegisteredClients } from '../tls/registered-clients.js';
import { type AdminServer, startAdminServer } from './admin-server.js';
import type { ConnectionLimits } from './connection.js';
import { combineHooks, type FaultRule, faultHooks } from './faults.js';
import { startHttpsServer } from './https-server.js';
import { MessageLayer } from './message-layer.js';
import {
  type IdentityMapper,
  type RunningServer,
  startTlsServer,
  type TlsMaterial,
} from './tls-server.js';

export interface KmipdConfig {
  host: string;
  port: number;
  dataDir: string;
  store: 'sqlite' | 'memory' | 'postgres';
  /** Connection URL when `store` is 'postgres'. */
  postgresUrl?: string;
  /** PEM files; when all are absent the development PKI in DATA/pki is used (made if missing). */
  tls?: { cert: string; key: string; ca: string };
  /**
   * PEM files of client certificates accepted as themselves, pinned by fingerprint, beside
   * those the CA signed (Client Registration Method Client Registered; src/tls).
   */
  clientCerts?: string[];
  admins?: string[];
  /** JSON or YAML rules from certificate fields to principal and groups (src/auth). */
  identityMap?: string;
  /** Users file (`kmipd users add`): a valid KMIP Credential becomes required. */
  usersFile?: string;
  limits?: Partial<ConnectionLimits>;
  /**
   * The HTTPS port (POST /kmip; TTLV, XML or JSON), with the TLS files and limits of the KMIP
   * port. Default off; port 0 picks a free one; host defaults to `host`.
   */
  https?: { host?: string; port: number };
  /** KEK of version 1 when the data directory has no keyring yet; default a new key file. */
  kek?: KekChoice;
  /** Environment holding KEK, passphrase and PIN variables; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Fixture mode: memory store, a random KEK in memory; only the PKI is written. */
  ephemeral?: boolean;
  /** Directory of the development PKI when `tls` is absent; default DATA/pki. */
  pkiDir?: string;
  /** Unique Identifiers for new objects (deterministic fixtures); default random UUIDs. */
  newUid?: () => string;
  /** Injected faults (src/server/faults.ts); default none. */
  faults?: readonly FaultRule[];
  /** The admin HTTP server with /metrics and /healthz; default off. */
  admin?: { host: string; port: number };
  /** The tamper-evident audit file and its checkpoint key; default off. */
  audit?: AuditConfig;
  /**
   * The CA Certify and Re-certify sign with (PEM files); default the development PKI's CA when
   * the development PKI is in use, otherwise none (Certify answers Feature Not Supported).
   */
  certificateAuthority?: { cert: string; key: string };
  /** Lowest TLS version of the KMIP port; default TLSv1.2. */
  tlsMinVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list of the KMIP port; default Node's. */
  tlsCiphers?: string;
  /** Most identifiers one Locate answers; default DEFAULT_MAX_LOCATE_ITEMS (1,000). */
  maxLocateItems?: number;
  /** SQLite writes on a thread of their own (src/store/sqlite-writer-thread.ts); default on. */
  sqliteWriterThread?: boolean;
  /**
   * Subscribers that get a KMIP Put for each new object and a Notify for each attribute
   * change (src/push); default none. The client certificate and key (PEM files) default to
   * the server's own.
   */
  push?: {
    targets: readonly PushTarget[];
    cert?: string;
    key?: string;
    limits?: Partial<PushLimits>;
  };
}

export interface Kmipd {
  server: RunningServer;
  /** The HTTPS listener, when configured. */
  httpsServer?: RunningServer;
  store: ObjectStore;
  /** Absent in fixture mode, whose KEK lives in memory only. */
  keyring?: Keyring;
  /** The admin HTTP server (/metrics, /healthz), when configured. */
  admin?: AdminServer;
  /** Where the development client certificates are, when the development PKI is in use. */
  pkiDir?: string;
  /**
   * Reads the TLS files (server certificate, key, CA bundle, registered client certificates)
   * again and serves new connections with them: `kmipd serve` does this on SIGHUP. Files that
   * do not load, or a key that does not fit the certificate, change nothing and reject.
   */
  reloadTls(): Promise<{ subject: string; validTo: string; fingerprint: string }>;
  stop(): Promise<void>;
}

export async function startKmipd(config: KmipdConfig): Promise<Kmipd> {
  const { log } = config;
  const pkiDir = config.pkiDir ?? join(config.dataDir, 'pki');
  if (!config.ephemeral) await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const tlsFiles = config.tls ?? (await devPki(pkiDir, log));
  const material = await readTlsMaterial(tlsFiles, config.clientCerts, log);
  const caFiles =
    config.certificateAuthority ??
    (config.tls === undefined
      ? { cert: join(pkiDir, 'ca.crt'), key: join(pkiDir, 'ca.key') }
      : undefined);
  const certificateAuthority =
    caFiles === undefined
      ? undefined
      : await readCertificateAuthority(
          caFiles.cert,
          caFiles.key,
          config.certificateAuthority === undefined,
        );
  const identityMap =
    config.identityMap === undefined ? undefined : await loadIdentityMap(config.identityMap);
  // The KMIP and HTTPS ports name clients the same way.
  const mapIdentityOf: IdentityMapper | undefined =
    identityMap && ((c) => mapIdentity(identityMap, certificateFields(c)));
  const verifyCredential =
    config.usersFile === undefined ? undefined : usersVerifier(config.usersFile);
  const keyring = config.ephemeral ? undefined : await openKeyring(config);
  const wrapper: KeyWrapper = keyring ?? new SoftwareKeyWrapper(randomBytes(KEK_BYTES));
  let store: ObjectStore;
  try {
    store = config.ephemeral ? await openMemoryStore() : await openStore(config);
  } catch (err) {
    await keyring?.close();
    throw err;
  }
  // prom-client is loaded only when the admin port is on.
  const metrics: KmipdMetrics | undefined =
    config.admin === undefined
      ? undefined
      : new (await import('../metrics/metrics.js')).KmipdMetrics();
  if (metrics !== undefined) store = metrics.instrumentStore(store);
  const hooks = combineHooks([
    config.faults?.length ? faultHooks(config.faults) : undefined,
    metrics?.hooks(),
  ]);
  let auditLog: AuditFileLog | undefined;
  try {
    auditLog = config.audit === undefined ? undefined : await openAuditLog(config.audit, log);
  } catch (err) {
    await store.close();
    await keyring?.close();
    throw err;
  }
  let push: PushService | undefined;
  try {
    push = await startPush(config, material);
  } catch (err) {
    auditLog?.close();
    await store.close();
    await keyring?.close();
    throw err;
  }
  const layer = new MessageLayer({
    store,
    wrapper,
    log,
    admins: config.admins,
    verifyCredential,
    typePolicies: identityMap?.defaultPolicy,
    hooks,
    newUid: config.newUid,
    audit: auditLog,
    ca: certificateAuthority,
    maxLocateItems: config.maxLocateItems,
    push,
  });
  let server: RunningServer;
  try {
    server = await startTlsServer({
      host: config.host,
      port: config.port,
      ...material,
      layer,
      mapIdentity: mapIdentityOf,
      log,
      limits: config.limits,
      minVersion: config.tlsMinVersion,
      ciphers: config.tlsCiphers,
    });
  } catch (err) {
    await push?.close();
    auditLog?.close();
    await store.close();
    await keyring?.close();
    throw err;
  }
  let httpsServer: RunningServer | undefined;
  if (config.https !== undefined) {
    try {
      httpsServer = await startHttpsServer({
        host: config.https.host ?? config.host,
        port: config.https.port,
        ...material,
        layer,
        log,
        limits: config.limits,
        mapIdentity: mapIdentityOf,
      });
    } catch (err) {
      await server.close();
      await push?.close();
      await store.close();
      await keyring?.close();
      throw err;
    }
  }
  let admin: AdminServer | undefined;
  if (metrics !== undefined && config.admin !== undefined) {
    metrics.watchConnections(() => server.stats().connections);
    try {
      admin = await startAdminServer({ ...config.admin, metrics, store, log });
    } catch (err) {
      await Promise.all([server.close(), httpsServer?.close()]);
      await push?.close();
      await store.close();
      await keyring?.close();
      throw err;
    }
  }
  return {
    server,
    httpsServer,
    store,
    keyring,
    admin,
    pkiDir: config.tls === undefined ? pkiDir : undefined,
    async reloadTls() {
      const next = await readTlsMaterial(tlsFiles, config.clientCerts, log);
      server.setTls(next);
      httpsServer?.setTls(next);
      const c = new X509Certificate(next.cert);
      return { subject: c.subject, validTo: c.validTo, fingerprint: c.fingerprint256 };
    },
    async stop() {
      await admin?.close();
      await Promise.all([server.close(), httpsServer?.close()]);
      // After the last request: its changes are queued and get the drain time.
      await push?.close();
      // After the last request is answered: the final checkpoint covers every record.
      auditLog?.close();
      await store.close();
      await keyring?.close();
    },
  };
}

/**
 * The TLS files and registered client certificates, checked as one secure context so that a
 * key that does not fit its certificate fails here, before any listener uses it.
 */
async function readTlsMaterial(
  files: { cert: string; key: string; ca: string },
  clientCerts: readonly string[] | undefined,
  log: Logger,
): Promise<TlsMaterial> {
  const [cert, key, ca] = await Promise.all([
    readFile(files.cert),
    readFile(files.key),
    readFile(files.ca),
  ]);
  createSecureContext({ cert, key, ca });
  const registered =
    clientCerts === undefined || clientCerts.length === 0
      ? undefined
      : await loadRegisteredClients(clientCerts);
  for (const r of registered?.list ?? []) {
    const fields = { subject: r.subject, fingerprint: r.fingerprint, validTo: r.validTo };
    if (r.validTo < new Date()) log.warn(fields, 'registered client certificate has expired');
    else log.info(fields, 'registered client certificate');
  }
  return { cert, key, ca, registered };
}

/**
 * The push service of `config.push`, or none. A subscriber's certificate is checked against
 * its own CA when it names one, otherwise against the CA that signs kmipd's clients.
 */
async function startPush(
  config: KmipdConfig,
  own: { cert: Buffer; key: Buffer; ca: Buffer },
): Promise<PushService | undefined> {
  const p = config.push;
  if (p === undefined || p.targets.length === 0) return undefined;
  const [cert, key] = await Promise.all([
    p.cert === undefined ? own.cert : readFile(p.cert),
    p.key === undefined ? own.key : readFile(p.key),
  ]);
  const subscribers = await Promise.all(
    p.targets.map(async (t) => ({
      host: t.host,
      port: t.port,
      version: t.version,
      owners: t.owners,
      servername: t.servername,
      ca: t.ca === undefined ? own.ca : await readFile(t.ca),
    })),
  );
  for (const s of subscribers) {
    config.log.info(
      { subscriber: `${s.host}:${s.port}`, version: s.version, owners: s.owners },
      'push subscriber',
    );
  }
  return new PushService({ subscribers, cert, key, limits: p.limits, log: config.log });
}

/** Sets up DATA/keks on first start (or from DATA/kek.key) and opens the keyring. */
async function openKeyring(config: KmipdConfig): Promise<Keyring> {
  const { log, dataDir, env } = config;
  const ensured = await ensureKeyring({ dataDir, initial: config.kek, env });
  const v = ensured.current;
  const fields = { kekVersion: v.version, kekId: v.kekId, kekKind: v.kind };
  if (ensured.how === 'created') log.info(fields, 'created KEK version 1');
  if (ensured.how === 'migrated')
    log.info(fields, 'the key-encryption key kek.key is now KEK version 1');
  if (config.kek !== undefined && ensured.how !== 'created') {
    log.warn(
      fields,
      'KEK options ignored: the data directory has a KEK keyring already; change the KEK with kmipd kek rotate',
    );
  }
  const keyring = await Keyring.open({ dataDir, env, log });
  const c = keyring.current;
  log.info({ kekVersion: c.version, kekId: c.kekId, kekKind: c.kind }, 'key-encryption key');
  return keyring;
}

async function openStore(config: KmipdConfig): Promise<ObjectStore> {
  switch (config.store) {
    case 'memory':
      return openMemoryStore();
    case 'postgres':
      if (config.postgresUrl === undefined)
        throw new Error('--store postgres needs --postgres-url');
      return openPostgresStore({ url: config.postgresUrl });
    default:
      return openSqliteStore({
        path: config.dataDir,
        writerThread: config.sqliteWriterThread ?? true,
      });
  }
}

async function devPki(dir: string, log: Logger) {
  const files = {
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
    ca: join(dir, 'ca.crt'),
  };
  if (!existsSync(files.cert)) {
    await initPki({ dir, clients: ['admin'] });
    log.info({ dir }, 'created a development PKI');
  }
  return files;
}
