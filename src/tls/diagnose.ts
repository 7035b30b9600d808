// TLS failures in words. The server side turns the OpenSSL code of a failed handshake
// ('tlsClientError') or the verification result of a client certificate
// (socket.authorizationError) into the cause an operator can act on. The client side
// (`kmipd doctor`) connects as a KMIP client would and says what is wrong with its files, the
// server certificate, the protocol, or the server's answer.
//
// Node's server with requestCert and rejectUnauthorized reports a client certificate it
// rejects as 'tlsClientError' ECONNRESET with socket.authorizationError set, and a missing
// certificate as ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE. Under TLS 1.3 the client finishes
// its handshake before the server checks the certificate, so a client sees a rejected
// certificate as a connection closed before the first response.
//
// Both sides live in one file because they read the same OpenSSL code tables and messages;
// most of the length is the wording of the findings.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { RequestMessage, ResponseMessage } from '../kmip/messages.js';
import { discoverVersions } from '../operations/discover-versions.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { FrameSplitter } from '../ttlv/frame-splitter.js';
import { Operation, ResultStatus, Tag } from '../ttlv/spec/generated.js';

export type TlsFailureCause =
  | 'no-client-certificate'
  | 'client-certificate-without-client-auth'
  | 'client-certificate-unknown-issuer'
  | 'client-certificate-expired'
  | 'client-certificate-not-yet-valid'
  | 'client-certificate-rejected'
  | 'client-certificate-without-cn'
  | 'no-shared-protocol'
  | 'no-shared-cipher'
  | 'not-tls'
  | 'client-rejected-server-certificate'
  | 'handshake-aborted';

export interface TlsFailure {
  cause: TlsFailureCause;
  message: string;
}

const UNKNOWN_ISSUER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
]);
const PROTOCOL = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_VERSION_TOO_LOW',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
]);
const CLIENT_DISTRUSTS_US = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
]);

export const NO_CN_MESSAGE =
  'the client certificate has no CN, which kmipd uses as the client identity; issue it with CN=<client name>';

/** The cause of a failed server-side handshake, from the two codes Node gives. */
export function explainServerTlsFailure(
  code: string | undefined,
  authorizationError: string | undefined | null,
): TlsFailure {
  const a = authorizationError ?? undefined;
  if (a === 'CERT_HAS_EXPIRED')
    return { cause: 'client-certificate-expired', message: 'the client certificate has expired' };
  if (a === 'CERT_NOT_YET_VALID')
    return {
      cause: 'client-certificate-not-yet-valid',
      message: 'the client certificate is not valid yet (check its notBefore and both clocks)',
    };
  if (a === 'INVALID_PURPOSE')
    return {
      cause: 'client-certificate-without-client-auth',
      message:
        'the client certificate may not be used for client authentication: its extended key usage lacks clientAuth',
    };
  if (a !== undefined && UNKNOWN_ISSUER.has(a))
    return {
      cause: 'client-certificate-unknown-issuer',
      message: `the client certificate is not signed by a CA in the server's --ca, or the client did not send its intermediate certificates (${a})`,
    };
  if (a !== undefined)
    return {
      cause: 'client-certificate-rejected',
      message: `the client certificate was rejected (${a})`,
    };
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE')
    return {
      cause: 'no-client-certificate',
      message: 'the client sent no certificate; kmipd requires one (mutual TLS)',
    };
  if (code !== undefined && PROTOCOL.has(code))
    return {
      cause: 'no-shared-protocol',
      message: 'the client and the server share no TLS version (see --tls-min-version)',
    };
  if (code === 'ERR_SSL_NO_SHARED_CIPHER')
    return {
      cause: 'no-shared-cipher',
      message: 'the client and the server share no cipher suite (see --tls-ciphers)',
    };
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_HTTP_REQUEST')
    return {
      cause: 'not-tls',
      message: 'the client did not speak TLS (plain TTLV or HTTP sent to the TLS port?)',
    };
  if (code !== undefined && CLIENT_DISTRUSTS_US.has(code))
    return {
      cause: 'client-rejected-server-certificate',
      message: `the client rejected the server certificate (${code}): its CA file must hold the CA that signed the server certificate, and the name it connects to must be in the certificate`,
    };
  return {
    cause: 'handshake-aborted',
    message: `the client closed the connection during the handshake (${code ?? 'no code'}); if it was a KMIP client, it may distrust the server certificate`,
  };
}

/**
 * Explained handshake failures logged per minute; the rest are counted and summed up in the
 * next minute's first line. Stops a client that fails handshakes in a loop from flooding the
 * log (and the disk under it). Default 60.
 */
export const DEFAULT_TLS_FAILURE_LOGS_PER_MINUTE = 60;

/** A 'tlsClientError' listener that logs the cause of each failure, rate limited. */
export function tlsFailureLogger(
  log: Logger,
  perMinute = DEFAULT_TLS_FAILURE_LOGS_PER_MINUTE,
): (err: Error, socket: tls.TLSSocket) => void {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  return (err, socket) => {
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      if (suppressed > 0)
        log.warn({ suppressed }, 'TLS handshake failures not logged (rate limit)');
      windowStart = now;
      logged = 0;
      suppressed = 0;
    }
    if (logged >= perMinute) {
      suppressed += 1;
      return;
    }
    logged += 1;
    const code = (err as NodeJS.ErrnoException).code;
    const authorizationError = authorizationCode(socket);
    const { cause, message } = explainServerTlsFailure(code, authorizationError);
    const quiet = cause === 'handshake-aborted' || cause === 'not-tls';
    log[quiet ? 'info' : 'warn'](
      { remote: socket.remoteAddress, code, authorizationError, cause },
      `TLS handshake failed: ${message}`,
    );
  };
}

// ---------------------------------------------------------------------------------------------
// kmipd doctor: the client's view

export type DoctorCheck =
  | 'client-certificate'
  | 'client-key'
  | 'ca'
  | 'connect'
  | 'handshake'
  | 'server-certificate'
  | 'server-name'
  | 'client-authentication'
  | 'discover-versions';

export type DoctorProblem =
  | 'client-key-mismatch'
  | 'client-certificate-expired'
  | 'client-certificate-not-yet-valid'
  | 'client-certificate-without-client-auth'
  | 'client-certificate-without-cn'
  | 'client-certificate-not-from-ca'
  | 'unreadable-file'
  | 'connect-failed'
  | 'protocol-mismatch'
  | 'cipher-mismatch'
  | 'not-tls'
  | 'server-certificate-untrusted'
  | 'server-certificate-expired'
  | 'server-name-mismatch'
  | 'server-refused-client-certificate'
  | 'server-did-not-ask-for-client-certificate'
  | 'discover-versions-failed';

export interface Finding {
  level: 'ok' | 'warn' | 'fail';
  check: DoctorCheck;
  problem?: DoctorProblem;
  message: string;
}

export interface DoctorOptions {
  host: string;
  port: number;
  /** PEM contents. */
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  /** Name checked against the server certificate; default host. */
  servername?: string;
  minVersion?: tls.SecureVersion;
  ciphers?: string;
  /** Per step (connect, handshake, response), ms. Default 10 s. */
  timeoutMs?: number;
}

export interface DoctorReport {
  ok: boolean;
  findings: Finding[];
  protocol?: string;
  cipher?: string;
  versions?: string[];
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

/**
 * Whether a certificate may authenticate a TLS client (RFC 5280 §4.2.1.12): it has no extended
 * key usage, or one with clientAuth or anyExtendedKeyUsage. OpenSSL-based servers, kmipd among
 * them, refuse any other for client authentication.
 */
export function allowsClientAuth(cert: X509Certificate): boolean {
  const eku = cert.keyUsage;
  return eku === undefined || eku.includes(CLIENT_AUTH) || eku.includes(ANY_EKU);
}

/** Tries a connection as a KMIP client would and explains each thing that is wrong. */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const report = (): DoctorReport => ({ ok: !findings.some((f) => f.level === 'fail'), findings });

  const local = checkLocalFiles(opts);
  for (const f of local.findings) add(f);
  if (!local.usable) return report();

  const first = await probe(opts, true);
  if (first.error !== undefined) {
    add(explainClientError(first.error, local.suspects));
    return report();
  }
  add({
    level: 'ok',
    check: 'handshake',
    message: `TLS handshake: ${first.protocol}, ${first.cipher}`,
  });
  const trust = first.authorizationError;
  if (trust === 'CERT_HAS_EXPIRED') {
    add({
      level: 'fail',
      check: 'server-certificate',
      problem: 'server-certificate-expired',
      message: 'the server certificate has expired',
    });
  } else if (trust) {
    add({
      level: 'fail',
      check: 'server-certificate',
      problem: 'server-certificate-untrusted',
      message: `the server certificate is not trusted by --ca (${trust}): --ca must hold the CA that signed the server certificate`,
    });
  } else {
    add({
      level: 'ok',
      check: 'server-certificate',
      message: 'server certificate trusted by --ca',
    });
  }
  if (first.nameError !== undefined) {
    add({
      level: 'fail',
      check: 'server-name',
      problem: 'server-name-mismatch',
      message: first.nameError,
    });
  } else {
    add({
      level: 'ok',
      check: 'server-name',
      message: `server certificate is valid for ${opts.servername ?? opts.host}`,
    });
  }
  if (first.versions === undefined) {
    const closed = first.responseError === 'closed';
    add(
      closed
        ? refused(
            local.suspects,
            'the server closed the connection after the handshake without answering',
          )
        : {
            level: 'fail',
            check: 'discover-versions',
            problem: 'discover-versions-failed',
            message: `Discover Versions failed: ${first.responseError}`,
          },
    );
    return { ...report(), protocol: first.protocol, cipher: first.cipher };
  }
  add({
    level: 'ok',
    check: 'discover-versions',
    message: `Discover Versions: ${first.versions.join(', ')}`,
  });

  const anonymous = await probe(opts, false);
  if (anonymous.versions !== undefined) {
    add({
      level: 'fail',
      check: 'client-authentication',
      problem: 'server-did-not-ask-for-client-certificate',
      message:
        'the server answered a client without a certificate: it does not ask for (or require) client certificates, so anyone who can reach it is served',
    });
  } else {
    add({
      level: 'ok',
      check: 'client-authentication',
      message: 'the server refuses clients without a certificate',
    });
  }
  return { ...report(), protocol: first.protocol, cipher: first.cipher, versions: first.versions };
}

interface LocalCheck {
  findings: Finding[];
  usable: boolean;
  /** Problems of our certificate that explain a refusal by the server. */
  suspects: string[];
}

function checkLocalFiles(opts: DoctorOptions): LocalCheck {
  const findings: Finding[] = [];
  const suspects: string[] = [];
  let cert: X509Certificate;
  let cas: X509Certificate[];
  try {
    cert = new X509Certificate(opts.cert);
  } catch {
    findings.push({
      level: 'fail',
      check: 'client-certificate',
      problem: 'unreadable-file',
      message: '--cert is not a PEM certificate',
    });
    return { findings, usable: false, suspects };
  }
  try {
    cas = pemBlocks(opts.ca).map((b) => new X509Certificate(b));
    if (cas.length === 0) throw new Error('none');
  } catch {
    findings.push({
      level: 'fail',
      check: 'ca',
      problem: 'unreadable-file',
      message: '--ca is not a PEM certificate bundle',
    });
    return { findings, usable: false, suspects };
  }
  let keyMatches = false;
  try {
    keyMatches = cert.checkPrivateKey(createPrivateKey(opts.key));
  } catch {
    // An unreadable key is reported as not matching; its parser's message is not repeated.
  }
  if (!keyMatches) {
    findings.push({
      level: 'fail',
      check: 'client-key',
      problem: 'client-key-mismatch',
      message:
        '--key is not the private key of the --cert certificate (or is not a PEM private key)',
    });
    return { findings, usable: false, suspects };
  }
  findings.push({
    level: 'ok',
    check: 'client-key',
    message: 'client key matches the certificate',
  });

  const fail = (problem: DoctorProblem, message: string) => {
    findings.push({ level: 'fail', check: 'client-certificate', problem, message });
    suspects.push(message);
  };
  const now = Date.now();
  if (Date.parse(cert.validTo) < now)
    fail('client-certificate-expired', `the client certificate expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > now)
    fail(
      'client-certificate-not-yet-valid',
      `the client certificate is not valid before ${cert.validFrom}`,
    );
  if (!allowsClientAuth(cert)) {
    fail(
      'client-certificate-without-client-auth',
      'the client certificate lacks the clientAuth extended key usage; servers (kmipd, OpenSSL-based ones) refuse it for client authentication',
    );
  }
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1];
  if (cn === undefined) fail('client-certificate-without-cn', NO_CN_MESSAGE);
  if (!cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
    findings.push({
      level: 'warn',
      check: 'client-certificate',
      problem: 'client-certificate-not-from-ca',
      message:
        'the client certificate is not signed by a CA in --ca; the server must trust its issuer',
    });
    suspects.push('the client certificate is not signed by a CA in --ca');
  }
  if (suspects.length === 0) {
    findings.push({
      level: 'ok',
      check: 'client-certificate',
      message: `client certificate CN=${cn}, valid until ${cert.validTo}`,
    });
  }
  return { findings, usable: true, suspects };
}

function refused(suspects: string[], what: string): Finding {
  const why =
    suspects.length > 0
      ? `; likely because ${suspects.join('; ')}`
      : '; the server log names the cause';
  return {
    level: 'fail',
    check: 'client-authentication',
    problem: 'server-refused-client-certificate',
    message: `the server refused our client certificate (${what})${why}`,
  };
}

function explainClientError(err: NodeJS.ErrnoException, suspects: string[]): Finding {
  const code = err.code ?? '';
  if (
    [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EAI_AGAIN',
      'TIMEOUT_CONNECT',
    ].includes(code)
  ) {
    return {
      level: 'fail',
      check: 'connect',
      problem: 'connect-failed',
      message: `cannot reach the server (${code}): is kmipd running and listening on this address?`,
    };
  }
  if (PROTOCOL.has(code)) {
    return {
      level: 'fail',
      check: 'handshake',
      problem: 'protocol-mismatch',
      message: `no TLS version both sides accept (${code}); check --tls-min-version here and on the server`,
    };
  }
  if (code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' || code === 'ERR_SSL_NO_CIPHERS_AVAILABLE') {
    return {
      level: 'fail',
      check: 'handshake',
      problem: 'cipher-mismatch',
      message: `no cipher suite both sides accept (${code}); check --tls-ciphers here and on the server`,
    };
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return {
      level: 'fail',
      check: 'handshake',
      problem: 'not-tls',
      message: `the server did not answer in TLS (${code}); is this the KMIP TLS port?`,
    };
  }
  if (
    code === 'ECONNRESET' ||
    code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' ||
    code.startsWith('ERR_SSL_SSLV3_ALERT_') ||
    code.startsWith('ERR_SSL_TLSV1_ALERT_')
  ) {
    return refused(suspects, `the handshake ended with ${code || err.message}`);
  }
  return {
    level: 'fail',
    check: 'handshake',
    message: `TLS handshake failed: ${code || err.message}`,
  };
}

interface ProbeResult {
  error?: NodeJS.ErrnoException;
  protocol?: string;
  cipher?: string;
  authorizationError?: string;
  nameError?: string;
  versions?: string[];
  /** 'closed' when the server closed the connection before answering. */
  responseError?: string;
}

/** One connection: handshake, then Discover Versions. Certificates are checked here, not by Node. */
function probe(opts: DoctorOptions, withCert: boolean): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const servername = opts.servername ?? opts.host;
  return new Promise((resolve) => {
    const result: ProbeResult = {};
    let settled = false;
    const socket = tls.connect({
      host: opts.host,
      port: opts.port,
      ca: opts.ca,
      ...(withCert ? { cert: opts.cert, key: opts.key } : {}),
      servername: isIP(servername) ? undefined : servername,
      minVersion: opts.minVersion ?? 'TLSv1.2',
      ciphers: opts.ciphers,
      rejectUnauthorized: false,
      // The name is checked below, so that trust and name are reported apart.
      checkServerIdentity: () => undefined,
    });
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      if (result.protocol === undefined)
        result.error = Object.assign(new Error('timeout'), { code: 'TIMEOUT_CONNECT' });
      else result.responseError = `no response within ${timeoutMs} ms`;
      done();
    }, timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (result.protocol === undefined) result.error = err;
      else
        result.responseError ??= err.code === 'ECONNRESET' ? 'closed' : (err.code ?? err.message);
      done();
    });
    socket.on('close', () => {
      if (result.protocol !== undefined) result.responseError ??= 'closed';
      else result.error ??= Object.assign(new Error('closed'), { code: 'ECONNRESET' });
      done();
    });
    socket.once('secureConnect', () => {
      result.protocol = socket.getProtocol() ?? undefined;
      result.cipher = socket.getCipher()?.standardName;
      result.authorizationError = authorizationCode(socket);
      const nameError = tls.checkServerIdentity(servername, socket.getPeerCertificate());
      if (nameError !== undefined)
        result.nameError = `the server certificate is not valid for ${servername}: ${nameError.message}`;
      const splitter = new FrameSplitter();
      socket.on('data', (chunk: Buffer) => {
        let frames: Buffer[];
        try {
          frames = splitter.push(chunk);
        } catch {
          result.responseError = 'the response is not TTLV';
          done();
          return;
        }
        if (frames.length === 0) return;
        try {
          result.versions = readVersions(frames[0]!);
        } catch (err) {
          result.responseError = err instanceof Error ? err.message : 'bad response';
        }
        done();
      });
      socket.write(discoverVersionsRequest());
    });
  });
}

function discoverVersionsRequest(): Buffer {
  const payload = discoverVersions.request.write(Tag.RequestPayload, { versions: [] }, '1.2');
  return encodeTtlv(
    RequestMessage.write(
      Tag.RequestMessage,
      {
        header: { protocolVersion: { major: 1, minor: 2 }, batchCount: 1 },
        batchItems: [{ operation: Operation.DiscoverVersions, requestPayload: payload }],
      },
      '1.2',
    ),
  );
}

function readVersions(frame: Buffer): string[] {
  const response = ResponseMessage.read(decodeTtlv(frame), '1.2');
  const item = response.batchItems[0];
  if (
    item === undefined ||
    item.resultStatus !== ResultStatus.Success ||
    item.responsePayload === undefined
  ) {
    throw new Error(
      `the server answered with a failure: ${item?.resultMessage ?? 'no batch item'}`,
    );
  }
  const r = discoverVersions.response.read(item.responsePayload, '1.2');
  return (r.versions ?? []).map((v) => `${v.major}.${v.minor}`);
}

function pemBlocks(pem: Buffer): string[] {
  return (
    pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ??
    []
  );
}

/** Node types authorizationError as an Error, but sets the OpenSSL verify code as a string. */
function authorizationCode(socket: tls.TLSSocket): string | undefined {
  const a: unknown = socket.authorizationError;
  if (typeof a === 'string') return a || undefined;
  if (a instanceof Error) return (a as NodeJS.ErrnoException).code ?? a.message;
  return undefined;
}
