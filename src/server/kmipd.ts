// Assembles a kmipd server from its configuration: store, key wrapper, message layer and the
// TLS listener. The embedded default keeps everything under one data directory:
// DATA/objects.sqlite, DATA/kek.key (mode 0600) and DATA/pki (the development PKI).

import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { KeyWrapper } from '../crypto/key-wrapper.js';
import { loadOrCreateKekFile, SoftwareKeyWrapper } from '../crypto/software-key-wrapper.js';
import { initPki } from '../pki/dev-pki.js';
import { openMemoryStore } from '../store/memory-store.js';
import type { ObjectStore } from '../store/object-store.js';
import { openPostgresStore } from '../store/postgres-store.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { ConnectionLimits } from './connection.js';
import { MessageLayer } from './message-layer.js';
import { type RunningServer, startTlsServer } from './tls-server.js';

export interface KmipdConfig {
  host: string;
  port: number;
  dataDir: string;
  store: 'sqlite' | 'memory' | 'postgres';
  /** Connection URL when `store` is 'postgres'. */
  postgresUrl?: string;
  /** PEM files; when all are absent the development PKI in DATA/pki is used (made if missing). */
  tls?: { cert: string; key: string; ca: string };
  admins?: string[];
  limits?: Partial<ConnectionLimits>;
  log: Logger;
}

export interface Kmipd {
  server: RunningServer;
  store: ObjectStore;
  /** Where the development client certificates are, when the development PKI is in use. */
  pkiDir?: string;
  stop(): Promise<void>;
}

export async function startKmipd(config: KmipdConfig): Promise<Kmipd> {
  const { log } = config;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const tlsFiles = config.tls ?? (await devPki(config.dataDir, log));
  const [cert, key, ca] = await Promise.all([
    readFile(tlsFiles.cert),
    readFile(tlsFiles.key),
    readFile(tlsFiles.ca),
  ]);
  const kekPath = join(config.dataDir, 'kek.key');
  const kek = await loadOrCreateKekFile(kekPath);
  if (kek.created) log.info({ path: kekPath }, 'created a new key-encryption key (mode 0600)');
  const wrapper: KeyWrapper = new SoftwareKeyWrapper(kek.key);
  const store = await openStore(config);
  const layer = new MessageLayer({ store, wrapper, log, admins: config.admins });
  let server: RunningServer;
  try {
    server = await startTlsServer({
      host: config.host,
      port: config.port,
      cert,
      key,
      ca,
      layer,
      log,
      limits: config.limits,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    server,
    store,
    pkiDir: config.tls === undefined ? join(config.dataDir, 'pki') : undefined,
    async stop() {
      await server.close();
      await store.close();
    },
  };
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
      return openSqliteStore({ path: config.dataDir });
  }
}

async function devPki(dataDir: string, log: Logger) {
  const dir = join(dataDir, 'pki');
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
