// Shared by the end-to-end tests: the records the Python drivers print, material to register
// (made here with node:crypto so the expected bytes never come from the code under test), and
// the input document every driver takes.

import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KmipdProcess } from '../helpers/kmipd-process.js';

/** What kmipd_e2e.attempt() records: the value, or PyKMIP's view of the failure. */
export type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; error: string; status?: string; reason?: string; message: string };

/** The value of a successful attempt; a failed one throws with everything PyKMIP reported. */
export function value<T>(a: Attempt<T> | undefined, what = 'operation'): T {
  if (a === undefined) throw new Error(`${what}: not attempted (an earlier step failed)`);
  if (!a.ok) {
    throw new Error(
      `${what} failed: ${a.error} ${a.status ?? ''} ${a.reason ?? ''}: ${a.message}`.replace(
        /\s+/g,
        ' ',
      ),
    );
  }
  return a.value;
}

/** The failure of an attempt that should have failed. */
export function failure<T>(a: Attempt<T> | undefined, what = 'operation') {
  if (a === undefined) throw new Error(`${what}: not attempted (an earlier step failed)`);
  if (a.ok) throw new Error(`${what} succeeded but should have failed: ${JSON.stringify(a.value)}`);
  return a;
}

/** A managed object as describe() in kmipd_e2e.py reports it (value in hex). */
export interface Described {
  object_type: string;
  value: string;
  cryptographic_algorithm?: string;
  cryptographic_length?: number;
  key_format_type?: string;
  certificate_type?: string;
  data_type?: string;
  opaque_type?: string;
}

export interface Material {
  symmetric: string;
  private_key: string;
  public_key: string;
  certificate: string;
  secret: string;
  passphrase: string;
  opaque: string;
}

/** Fresh objects to register, as hex: AES-256, RSA-2048 PKCS#8 and SPKI, a DER certificate. */
export function makeMaterial(certificatePem: string): Material {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    symmetric: randomBytes(32).toString('hex'),
    private_key: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
    public_key: publicKey.export({ format: 'der', type: 'spki' }).toString('hex'),
    certificate: new X509Certificate(readFileSync(certificatePem)).raw.toString('hex'),
    secret: Buffer.from('correct horse battery staple').toString('hex'),
    passphrase: Buffer.from('barbican passphrase').toString('hex'),
    opaque: randomBytes(48).toString('hex'),
  };
}

/** The connection part of every driver's input: port, CA and the named client certificates. */
export function driverInput(server: KmipdProcess, identities: string[]) {
  return {
    port: server.port,
    ca: server.ca,
    clients: Object.fromEntries(identities.map((name) => [name, server.client(name)])),
  };
}
