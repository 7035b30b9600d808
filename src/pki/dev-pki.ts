// A development PKI for mutual TLS (the TLS 1.2 Authentication Suite of the KMIP Profiles,
// which requires client certificates): one CA, a server certificate for localhost and one client certificate per
// name. PyKMIP and OpenSSL-based clients check the extended key usages, so each leaf carries
// serverAuth or clientAuth. The server certificate carries clientAuth too: kmipd presents it as
// its client certificate when it pushes Put and Notify to subscribers (src/push). Not for
// production: keys are written unencrypted.
//
// `initPki` pre-generates the client keys (Client Registration Method Server Pre-Generated);
// `issuePkiClient` makes one more client's key and certificate from the existing CA when asked,
// without touching the CA or the other files (Server On-Demand). A running server trusts the
// new certificate at once: its CA is the one the server already trusts.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
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

function checkClientName(name: string): void {
  if (!CLIENT_NAME.test(name) || RESERVED_NAMES.has(name)) {
    throw new KmipError(ResultReason.InvalidField, `client name "${name}" is not allowed`);
  }
}

export async function initPki(options: PkiOptions): Promise<PkiFiles> {
  const { dir, clients = ['admin'], force = false, keyType = 'rsa' } = options;
  const validityDays = options.validityDays ?? DEFAULT_VALIDITY_DAYS;
  for (const name of clients) checkClientName(name);
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
  const leafKeyUsage = keyUsageFor(keyType);

  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...common,
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      leafKeyUsage,
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
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
    await writeClient(files.clients[name]!, name, signer, common, force);
  }
  return files;
}

export interface PkiClientOptions {
  /** A directory `initPki` wrote: its ca.crt and ca.key sign the new certificate. */
  dir: string;
  /** The client's name: the CN of NAME.crt. */
  name: string;
  /** Replace an existing NAME.crt and NAME.key instead of refusing. */
  force?: boolean;
  /** Validity in days from now; never past the CA's own notAfter. */
  validityDays?: number;
}

/**
 * Issues one client certificate and key (clientAuth, CN = name) from the CA in `dir`, which
 * stays as it is; the key type follows the CA's.
 */
export async function issuePkiClient(options: PkiClientOptions): Promise<PkiPair> {
  const { dir, name, force = false } = options;
  checkClientName(name);
  const validityDays = options.validityDays ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(validityDays) || validityDays < 1) {
    throw new KmipError(ResultReason.InvalidField, 'validity must be a positive number of days');
  }
  const ca = pairPaths(dir, 'ca');
  const [caCert, caKey] = await Promise.all([readFile(ca.cert, 'utf8'), readFile(ca.key, 'utf8')]);
  const caX509 = new X509Certificate(caCert);
  const caKeyObject = createPrivateKey(caKey);
  if (!caX509.ca || !caX509.checkPrivateKey(caKeyObject)) {
    throw new KmipError(
      ResultReason.GeneralFailure,
      `${ca.cert} and ${ca.key} are not a CA certificate and its key`,
    );
  }
  const keyType: LeafCommon['keyType'] = caKeyObject.asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
  const notBeforeDate = new Date(Date.now() - 60_000);
  const caNotAfter = new Date(caX509.validTo);
  const wanted = new Date(notBeforeDate.getTime() + validityDays * 86_400_000);
  const notAfterDate = wanted < caNotAfter ? wanted : caNotAfter;
  if (notAfterDate <= new Date()) {
    throw new KmipError(ResultReason.GeneralFailure, `the CA ${ca.cert} has expired`);
  }
  const paths = pairPaths(dir, name);
  if (!force && ((await exists(paths.cert)) || (await exists(paths.key)))) {
    throw new KmipError(
      ResultReason.GeneralFailure,
      `${paths.cert} or ${paths.key} already exists; use force to replace them`,
    );
  }
  const common = { keyType, keySize: RSA_BITS, algorithm: 'sha256', notBeforeDate, notAfterDate };
  await writeClient(paths, name, { key: caKey, cert: caCert }, common, force);
  return paths;
}

function keyUsageFor(keyType: 'rsa' | 'ec') {
  return {
    name: 'keyUsage' as const,
    digitalSignature: true,
    keyEncipherment: keyType === 'rsa',
    keyAgreement: keyType === 'ec',
    critical: true,
  };
}

interface LeafCommon {
  keyType: 'rsa' | 'ec';
  keySize: number;
  algorithm: string;
  notBeforeDate: Date;
  notAfterDate: Date;
}

/** A clientAuth leaf with CN = name, signed by `signer`; the key file is written 0600. */
async function writeClient(
  paths: PkiPair,
  name: string,
  signer: { key: string; cert: string },
  common: LeafCommon,
  force: boolean,
): Promise<void> {
  const client = await generate([{ name: 'commonName', value: name }], {
    ...common,
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      keyUsageFor(common.keyType),
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  await writePem(paths.cert, client.cert, 0o644, force);
  await writePem(paths.key, client.private, 0o600, force);
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
