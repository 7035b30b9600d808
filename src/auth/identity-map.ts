// Identity mapping: from the fields of a client certificate to a principal and its groups.
// Rules come from a JSON or YAML file (`--identity-map FILE`); the first rule whose every
// condition holds wins. Without a matching rule the principal is the CN and there are no
// groups, as without a map. The same file may hold a default policy per object type.
//
//   rules:
//     - match: { ou: payments, issuerCn: "Corp CA" }    # cn, ou, dns, uri, email, issuerCn,
//       principal: "payments-{cn}"                        # issuerO, fingerprint256
//       groups: [payments]
//   defaultPolicy:
//     PublicKey: [Get, Locate]      # everyone may Get and Locate public keys

import { readFile } from 'node:fs/promises';
import type { PeerCertificate } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { operationName, type TypePolicies } from './access.js';

export interface CertificateFields {
  cn?: string;
  ou: string[];
  dns: string[];
  uri: string[];
  email: string[];
  issuerCn?: string;
  issuerO?: string;
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by colons (Node's form). */
  fingerprint256?: string;
}

const FIELDS = ['cn', 'ou', 'dns', 'uri', 'email', 'issuerCn', 'issuerO', 'fingerprint256'];

export interface MappingRule {
  /** Field → wanted value; a value ending in `*` is a prefix. List fields match any entry. */
  match: Record<string, string>;
  /** `{cn}` is replaced by the certificate's CN. Default: the CN. */
  principal?: string;
  groups?: string[];
}

export interface IdentityMap {
  rules: MappingRule[];
  defaultPolicy: TypePolicies;
}

export interface MappedIdentity {
  principal: string;
  groups: string[];
}

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v || undefined;
}

/** Splits Node's `subjectaltname` ("DNS:a, URI:b, email:c"). */
function sans(text: string | undefined, kind: string): string[] {
  if (text === undefined) return [];
  return text
    .split(', ')
    .filter((p) => p.startsWith(`${kind}:`))
    .map((p) => p.slice(kind.length + 1));
}

export function certificateFields(cert: PeerCertificate): CertificateFields {
  return {
    cn: first(cert.subject?.CN),
    ou: list(cert.subject?.OU),
    dns: sans(cert.subjectaltname, 'DNS'),
    uri: sans(cert.subjectaltname, 'URI'),
    email: sans(cert.subjectaltname, 'email'),
    issuerCn: first(cert.issuer?.CN),
    issuerO: first(cert.issuer?.O),
    fingerprint256: cert.fingerprint256 || undefined,
  };
}

function matches(wanted: string, have: string | undefined): boolean {
  if (have === undefined) return false;
  if (wanted.endsWith('*')) return have.startsWith(wanted.slice(0, -1));
  return have === wanted;
}

/** The principal and groups for a certificate; undefined when there is no principal (no CN). */
export function mapIdentity(map: IdentityMap, f: CertificateFields): MappedIdentity | undefined {
  for (const rule of map.rules) {
    const ok = Object.entries(rule.match).every(([field, wanted]) => {
      const have = f[field as keyof CertificateFields];
      if (field === 'fingerprint256') {
        return (have as string | undefined)?.toUpperCase() === wanted.toUpperCase();
      }
      return Array.isArray(have)
        ? have.some((h) => matches(wanted, h))
        : matches(wanted, have as string | undefined);
    });
    if (!ok) continue;
    const principal = (rule.principal ?? '{cn}').replaceAll('{cn}', f.cn ?? '');
    if (principal.length === 0) return undefined;
    return { principal, groups: [...(rule.groups ?? [])] };
  }
  return f.cn === undefined ? undefined : { principal: f.cn, groups: [] };
}

function fail(file: string, why: string): never {
  throw new Error(`identity map ${file}: ${why}`);
}

/** Reads and checks a map; a bad file fails the server start with one line. */
export async function loadIdentityMap(file: string): Promise<IdentityMap> {
  const text = await readFile(file, 'utf8');
  return parseIdentityMap(text, file);
}

export function parseIdentityMap(text: string, file = 'identity map'): IdentityMap {
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch {
    fail(file, 'not valid JSON or YAML');
  }
  const root = (doc ?? {}) as { rules?: unknown; defaultPolicy?: unknown };
  const rules: MappingRule[] = [];
  for (const [i, r] of (Array.isArray(root.rules) ? root.rules : []).entries()) {
    const rule = r as MappingRule;
    if (typeof rule?.match !== 'object' || rule.match === null)
      fail(file, `rule ${i + 1} has no match`);
    for (const [k, v] of Object.entries(rule.match)) {
      if (!FIELDS.includes(k)) fail(file, `rule ${i + 1}: unknown field ${k}`);
      if (typeof v !== 'string') fail(file, `rule ${i + 1}: ${k} must be a string`);
    }
    if (rule.principal !== undefined && typeof rule.principal !== 'string') {
      fail(file, `rule ${i + 1}: principal must be a string`);
    }
    if (
      rule.groups !== undefined &&
      !(Array.isArray(rule.groups) && rule.groups.every((g) => typeof g === 'string'))
    ) {
      fail(file, `rule ${i + 1}: groups must be a list of strings`);
    }
    rules.push({ match: rule.match, principal: rule.principal, groups: rule.groups });
  }
  const defaultPolicy = new Map<string, Set<string>>();
  const dp = root.defaultPolicy;
  if (dp !== undefined && dp !== null) {
    if (typeof dp !== 'object') fail(file, 'defaultPolicy must map object types to operations');
    for (const [type, ops] of Object.entries(dp)) {
      if (!Array.isArray(ops)) fail(file, `defaultPolicy.${type} must be a list`);
      try {
        defaultPolicy.set(type, new Set(ops.map((o) => operationName(String(o)))));
      } catch (err) {
        fail(file, (err as Error).message);
      }
    }
  }
  return { rules, defaultPolicy };
}
