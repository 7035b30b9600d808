// Registered client certificates: the Client Registration Method "Client Registered" (an
// enumeration since KMIP 1.3; the KMIP 2.0 table describes it: the client generates the private
// key and the certificates and registers the certificate with the server). kmipd serve --client-cert FILE registers certificates that no
// CA in --ca signed, self-signed ones included.
//
// Each is pinned by its SHA-256 fingerprint and accepted as itself only. It is never a trust
// anchor: Node's `ca` would let a registered certificate sign others (OpenSSL does not always
// insist that an anchor be a CA), so registered certificates stay out of the TLS trust store.
// The listener then verifies with rejectUnauthorized false and admits a connection only when
// OpenSSL verified the chain to --ca or the peer's own certificate is registered; the TLS
// handshake has already proved that the peer holds the private key (CertificateVerify).

import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type tls from 'node:tls';
import { allowsClientAuth, explainServerTlsFailure, type TlsFailure } from './diagnose.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface RegisteredClient {
  readonly file: string;
  readonly subject: string;
  /** SHA-256 of the DER, lower-case hex without separators. */
  readonly fingerprint: string;
  readonly validFrom: Date;
  readonly validTo: Date;
}

export interface RegisteredClients {
  readonly list: readonly RegisteredClient[];
  byFingerprint(fingerprint: string): RegisteredClient | undefined;
}

export function fingerprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Reads PEM files of client certificates (one or several per file). Refuses a CA certificate
 * (trust a CA with --ca instead) and one whose extended key usage excludes clientAuth, which
 * OpenSSL-based servers refuse for client authentication too.
 */
export async function loadRegisteredClients(files: readonly string[]): Promise<RegisteredClients> {
  const list: RegisteredClient[] = [];
  const index = new Map<string, RegisteredClient>();
  for (const file of files) {
    const blocks = (await readFile(file, 'utf8')).match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) throw new Error(`--client-cert ${file}: no PEM certificate in it`);
    for (const pem of blocks) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(pem);
      } catch {
        throw new Error(`--client-cert ${file}: not a readable X.509 certificate`);
      }
      if (cert.ca) {
        throw new Error(
          `--client-cert ${file}: ${cert.subject.replaceAll('\n', ', ')} is a CA certificate; ` +
            'give CAs with --ca, register client certificates here',
        );
      }
      if (!allowsClientAuth(cert)) {
        throw new Error(
          `--client-cert ${file}: its extended key usage lacks clientAuth, so it cannot authenticate a client`,
        );
      }
      const entry: RegisteredClient = {
        file,
        subject: cert.subject.replaceAll('\n', ', '),
        fingerprint: fingerprintOf(cert.raw),
        validFrom: new Date(cert.validFrom),
        validTo: new Date(cert.validTo),
      };
      if (index.has(entry.fingerprint)) continue;
      index.set(entry.fingerprint, entry);
      list.push(entry);
    }
  }
  return { list, byFingerprint: (f) => index.get(f) };
}

/**
 * Whether a mutual-TLS socket may go on: undefined when OpenSSL verified its chain to --ca or
 * its own certificate is registered and within its validity period; otherwise why not.
 */
export function refusal(
  socket: tls.TLSSocket,
  registered: RegisteredClients | undefined,
  now = new Date(),
): TlsFailure | undefined {
  if (socket.authorized) return undefined;
  const authorizationError = codeOf(socket.authorizationError);
  const raw = socket.getPeerCertificate()?.raw;
  if (raw === undefined || raw.length === 0) {
    return explainServerTlsFailure('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', undefined);
  }
  const entry = registered?.byFingerprint(fingerprintOf(raw));
  if (entry === undefined) {
    const failure = explainServerTlsFailure(undefined, authorizationError);
    if (registered === undefined || failure.cause !== 'client-certificate-unknown-issuer') {
      return failure;
    }
    return {
      cause: failure.cause,
      message: `the client certificate is neither signed by a CA in --ca nor registered with --client-cert (${authorizationError})`,
    };
  }
  if (now < entry.validFrom) return explainServerTlsFailure(undefined, 'CERT_NOT_YET_VALID');
  if (now > entry.validTo) return explainServerTlsFailure(undefined, 'CERT_HAS_EXPIRED');
  return undefined;
}

/** Closes a socket `refusal` refuses, with a warning naming why; true when it did. */
export function closeIfRefused(
  socket: tls.TLSSocket,
  registered: RegisteredClients | undefined,
  log: { warn(fields: object, message: string): void },
): boolean {
  const refused = refusal(socket, registered);
  if (refused === undefined) return false;
  log.warn({ remote: socket.remoteAddress, cause: refused.cause }, `closing: ${refused.message}`);
  socket.destroy();
  return true;
}

/** Node types authorizationError as an Error, but sets the OpenSSL verify code as a string. */
function codeOf(a: unknown): string | undefined {
  if (typeof a === 'string') return a || undefined;
  if (a instanceof Error) return (a as NodeJS.ErrnoException).code ?? a.message;
  return undefined;
}
