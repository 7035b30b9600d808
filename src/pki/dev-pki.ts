// A development PKI for mutual TLS (the TLS 1.2 Authentication Suite of the KMIP Profiles,
// which requires client certificates): one CA, a server certificate for localhost and one client certificate per
// name. PyKMIP and OpenSSL-based clients check the extended key usages, so each leaf carries
// serverAuth or clientAuth. Not for production: keys are written unencrypted.

import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';

export interface PkiOptions {
  dir: string;
  /** Client certificate names; each becomes the CN of NAME.crt. */
  clients?: string[];
  /** Replace existing files instead of refusing. */
  force?: boolean;
  /** Key type for every certificate; selfsigned signs leaves with the CA's key type. */
  keyType?: 'rsa' | 'ec';
  /** Validity in days from now. */
  validityDays?: number;
}

export interface PkiPair {
  cert: string;
  key: string;
}

export interface PkiFiles {
  dir: string;
  ca: PkiPair;
  server: PkiPair;
  clients: Record<string, PkiPair>;
}

/** About ten years; a development CA should outlive the checkout it was made for. */
const DEFAULT_VALIDITY_DAYS = 3650;
const RSA_BITS = 2048;
/** Client names become file names; anything else could escape the directory. */
const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RESERVED_NAMES = new Set(['ca', 'server']);

export async function initPki(options: PkiOptions): Promise<PkiFiles> {
  const { dir, clients = ['admin'], force = false, keyType = 'rsa' } = options;
  const validityDays = options.validityDays ?? DEFAULT_VALIDITY_DAYS;
  for (const name of clients) {
    if (!CLIENT_NAME.test(name) || RESERVED_NAMES.has(name)) {
      throw new KmipError(ResultReason.InvalidField, `client name "${name}" is not allowed`);
    }
  }
  if (new Set(clients).size !== clients.length) {
    throw new KmipError(ResultReason.InvalidField, 'client names repeat');
  }

  const files: PkiFiles = {
    dir,
    ca: pairPaths(dir, 'ca'),
    server: pairPaths(dir, 'server'),
    clients: Object.fromEntries(clients.map((name) => [name, pairPaths(dir, name)])),
  };
  const all = [files.ca, files.server, ...Object.values(files.clients)].flatMap((p) => [
    p.cert,
    p.key,
  ]);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!force) {
    const existing = (await Promise.all(all.map(async (p) => ((await exists(p)) ? p : '')))).filter(
      Boolean,
    );
    if (existing.length > 0) {
      throw new KmipError(
        ResultReason.GeneralFailure,
        `PKI files already exist (${existing.join(', ')}); use force to replace them`,
      );
    }
  }

  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + validityDays * 86_400_000);
  const common = { keyType, keySize: RSA_BITS, algorithm: 'sha256', notBeforeDate, notAfterDate };

  const ca = await generate([{ name: 'commonName', value: 'kmipd development CA' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const signer = { key: ca.private, cert: ca.cert };
  const leafKeyUsage = {
    name: 'keyUsage' as const,
    digitalSignature: true,
    keyEncipherment: keyType === 'rsa',
    keyAgreement: keyType === 'ec',
    critical: true,
  };

  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...common,
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      leafKeyUsage,
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });

  await writePem(files.ca.cert, ca.cert, 0o644, force);
  await writePem(files.ca.key, ca.private, 0o600, force);
  await writePem(files.server.cert, server.cert, 0o644, force);
  await writePem(files.server.key, server.private, 0o600, force);

  for (const name of clients) {
    const client = await generate([{ name: 'commonName', value: name }], {
      ...common,
      ca: signer,
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        leafKeyUsage,
        { name: 'extKeyUsage', clientAuth: true },
      ],
    });
    const paths = files.clients[name]!;
    await writePem(paths.cert, client.cert, 0o644, force);
    await writePem(paths.key, client.private, 0o600, force);
  }
  return files;
}

function pairPaths(dir: string, name: string): PkiPair {
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Creates the file with its final mode so a key is never readable by others, even briefly;
 * O_EXCL refuses to follow or reuse an existing path unless replacing was asked for.
 */
async function writePem(path: string, pem: string, mode: number, force: boolean): Promise<void> {
  const flags =
    constants.O_WRONLY | constants.O_CREAT | (force ? constants.O_TRUNC : constants.O_EXCL);
  const handle = await open(path, flags, mode);
  try {
    await handle.chmod(mode);
    // A final newline, so that `cat client.crt client.key > client.pem` stays valid PEM.
    await handle.writeFile(pem.endsWith('\n') ? pem : `${pem}\n`);
  } finally {
    await handle.close();
  }
}
