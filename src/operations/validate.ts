// KMIP 2.1 §6.1.53 Validate (KMIP 1.4 §4.24): is a certificate chain valid at Validity Date
// (default now)? The chain is the Certificates given by value and the managed certificates
// given by Unique Identifier, in any order. kmipd orders it from the one certificate that
// issued none of the others, and checks each link by name (checkIssued) and signature. The
// answer is Valid when the chain ends at a trust anchor (the configured CA, or a self-signed
// root the client named by Unique Identifier), Invalid when a certificate is outside its
// validity at the date, a signature does not verify, a managed certificate is compromised, or
// a certificate is left off the chain, and Unknown when the chain ends somewhere else.

import { X509Certificate } from 'node:crypto';
import { KmipError } from '../errors.js';
import { bytesOf, childOf } from '../kmip/items.js';
import { dateTime, enumeration, many, opt, raw, struct, text } from '../kmip/schema.js';
import { attr } from '../objects/managed-object.js';
import { loadObject } from '../objects/repository.js';
import { ObjectType, ResultReason, State, Tag, ValidityIndicator } from '../ttlv/spec/generated.js';
import { operation } from './context.js';

/** Most certificates in one chain: each costs signature checks (CPU exhaustion). */
export const MAX_CHAIN_CERTIFICATES = 16;

const ValidateRequest = struct({
  certificates: many(raw(Tag.Certificate)),
  uniqueIdentifiers: many(text(Tag.UniqueIdentifier)),
  validityDate: opt(dateTime(Tag.ValidityDate)),
});

const ValidateResponse = struct({ validityIndicator: enumeration(Tag.ValidityIndicator) });

interface ChainCertificate {
  x509: X509Certificate;
  /** Named by Unique Identifier: a root the client trusts. */
  managed: boolean;
  compromised: boolean;
}

function x509(der: Uint8Array | undefined, what: string): X509Certificate {
  if (der === undefined) throw new KmipError(ResultReason.InvalidField, `${what} has no value`);
  try {
    return new X509Certificate(der);
  } catch {
    throw new KmipError(ResultReason.InvalidField, `${what} is not an X.509 certificate`);
  }
}

function issued(issuer: X509Certificate, subject: X509Certificate): boolean {
  return subject.checkIssued(issuer);
}

function signedBy(issuer: X509Certificate, subject: X509Certificate): boolean {
  try {
    return subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** KMIP Validity Indicator of a chain at `at` (seconds since the epoch). */
export function validateChain(
  chain: readonly ChainCertificate[],
  at: number,
  anchor: X509Certificate | undefined,
): number {
  const when = at * 1000;
  for (const c of chain) {
    if (c.compromised) return ValidityIndicator.Invalid;
    if (when < Date.parse(c.x509.validFrom) || when > Date.parse(c.x509.validTo)) {
      return ValidityIndicator.Invalid;
    }
  }
  // The leaf issued none of the others; a self-signed certificate issues itself.
  const leaves = chain.filter(
    (c) => !chain.some((o) => o !== c && issued(c.x509, o.x509) && o.x509 !== c.x509),
  );
  if (leaves.length !== 1) return ValidityIndicator.Invalid;
  let current = leaves[0]!;
  const visited = new Set<ChainCertificate>([current]);
  for (;;) {
    const next = chain.find((o) => !visited.has(o) && issued(o.x509, current.x509));
    if (next === undefined) break;
    if (!signedBy(next.x509, current.x509)) return ValidityIndicator.Invalid;
    visited.add(next);
    current = next;
  }
  if (visited.size !== chain.length) return ValidityIndicator.Invalid;
  const top = current.x509;
  if (anchor !== undefined && (top.raw.equals(anchor.raw) || issued(anchor, top))) {
    return signedBy(anchor, top) ? ValidityIndicator.Valid : ValidityIndicator.Invalid;
  }
  if (issued(top, top)) {
    if (!signedBy(top, top)) return ValidityIndicator.Invalid;
    return current.managed ? ValidityIndicator.Valid : ValidityIndicator.Unknown;
  }
  return ValidityIndicator.Unknown;
}

export const validate = operation({
  request: ValidateRequest,
  response: ValidateResponse,
  async run(req, ctx) {
    const count = req.certificates.length + req.uniqueIdentifiers.length;
    if (count === 0) {
      throw new KmipError(ResultReason.InvalidField, 'Validate needs at least one certificate');
    }
    if (count > MAX_CHAIN_CERTIFICATES) {
      throw new KmipError(
        ResultReason.InvalidField,
        `a chain of more than ${MAX_CHAIN_CERTIFICATES} certificates is not validated`,
      );
    }
    const chain: ChainCertificate[] = req.certificates.map((c, i) => ({
      x509: x509(bytesOf(childOf(c, Tag.CertificateValue)), `Certificate[${i + 1}]`),
      managed: false,
      compromised: false,
    }));
    for (const uid of req.uniqueIdentifiers) {
      const mo = await loadObject(ctx, uid, { material: true });
      if (mo.objectType !== ObjectType.Certificate) {
        throw new KmipError(ResultReason.InvalidObjectType, `object ${uid} is not a Certificate`);
      }
      chain.push({
        x509: x509(bytesOf(childOf(mo.object ?? undefined, Tag.CertificateValue)), uid),
        managed: true,
        compromised:
          mo.state === State.Compromised ||
          mo.state === State.DestroyedCompromised ||
          attr(mo, 'CompromiseDate') !== undefined,
      });
    }
    const at = Number(req.validityDate ?? ctx.now);
    return { validityIndicator: validateChain(chain, at, ctx.ca?.certificate) };
  },
});
