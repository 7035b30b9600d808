// Certificates that are wrong in one way each, made in a temporary directory: the development
// PKI (initPki) for the good ones, `openssl` for the rest, signed by the same CA unless said.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initPki, type PkiFiles } from '../../src/pki/dev-pki.js';

export interface Pem {
  cert: Buffer;
  key: Buffer;
}

export interface BadCerts {
  pki: PkiFiles;
  ca: Buffer;
  server: Pem;
  good: Pem;
  /** notAfter a day before notBefore (`openssl x509 -days -1`). */
  expired: Pem;
  /** Extended key usage serverAuth only. */
  noClientAuth: Pem;
  /** Subject O=nocn, no CN. */
  noCn: Pem;
  /** Signed by a second, unrelated CA. */
  otherCa: Pem;
  otherCaCert: Buffer;
  /** A server certificate for kmip.example only. */
  wrongName: Pem;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

function leaf(
  dir: string,
  name: string,
  subject: string,
  ext: string,
  days: string,
  ca = 'ca',
): Pem {
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  openssl(
    dir,
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-subj',
    subject,
    '-out',
    `${name}.csr`,
  );
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    days,
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  );
  return {
    cert: readFileSync(join(dir, `${name}.crt`)),
    key: readFileSync(join(dir, `${name}.key`)),
  };
}

export async function makeBadCerts(dir: string): Promise<BadCerts> {
  const pki = await initPki({ dir, clients: ['alice'] });
  const read = (p: { cert: string; key: string }): Pem => ({
    cert: readFileSync(p.cert),
    key: readFileSync(p.key),
  });
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other-ca.key',
    '-subj',
    '/CN=another CA',
    '-days',
    '30',
    '-out',
    'other-ca.crt',
  );
  const clientExt = 'extendedKeyUsage=clientAuth';
  return {
    pki,
    ca: readFileSync(pki.ca.cert),
    server: read(pki.server),
    good: read(pki.clients.alice!),
    expired: leaf(dir, 'expired', '/CN=expired', clientExt, '-1'),
    noClientAuth: leaf(dir, 'noeku', '/CN=noeku', 'extendedKeyUsage=serverAuth', '30'),
    noCn: leaf(dir, 'nocn', '/O=nocn', clientExt, '30'),
    otherCa: leaf(dir, 'stranger', '/CN=stranger', clientExt, '30', 'other-ca'),
    otherCaCert: readFileSync(join(dir, 'other-ca.crt')),
    wrongName: leaf(
      dir,
      'wrongname',
      '/CN=kmip.example',
      'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:kmip.example',
      '30',
    ),
  };
}
