// Identity mapping rules (src/auth/identity-map.ts): certificate fields to principal and groups.

import { describe, expect, it } from 'vitest';
import {
  type CertificateFields,
  certificateFields,
  mapIdentity,
  parseIdentityMap,
} from '../../src/auth/identity-map.js';

const FP = 'AB:CD:EF:01';

function fields(over: Partial<CertificateFields> = {}): CertificateFields {
  return { cn: 'svc-1', ou: [], dns: [], uri: [], email: [], ...over };
}

const YAML = `
rules:
  - match: { fingerprint256: "ab:cd:ef:01" }
    principal: breakglass
    groups: [admins]
  - match: { ou: payments, issuerCn: "Corp CA" }
    principal: "payments-{cn}"
    groups: [payments, all]
  - match: { uri: "spiffe://corp/ns/*" }
    groups: [mesh]
  - match: { email: ops@example.com }
    principal: ops
defaultPolicy:
  PublicKey: [get, locate]
`;

describe('identity map', () => {
  const map = parseIdentityMap(YAML, 'map.yaml');

  it('defaults to principal = CN and no groups when no rule matches', () => {
    expect(mapIdentity(map, fields())).toEqual({ principal: 'svc-1', groups: [] });
    expect(mapIdentity({ rules: [], defaultPolicy: new Map() }, fields())).toEqual({
      principal: 'svc-1',
      groups: [],
    });
  });

  it('has no principal for a certificate without a CN when no rule names one', () => {
    expect(mapIdentity(map, fields({ cn: undefined }))).toBeUndefined();
  });

  it('matches the SHA-256 fingerprint case-insensitively, before later rules', () => {
    const f = fields({ fingerprint256: FP, ou: ['payments'], issuerCn: 'Corp CA' });
    expect(mapIdentity(map, f)).toEqual({ principal: 'breakglass', groups: ['admins'] });
  });

  it('needs every condition of a rule (OU and issuer)', () => {
    expect(mapIdentity(map, fields({ ou: ['payments'], issuerCn: 'Corp CA' }))).toEqual({
      principal: 'payments-svc-1',
      groups: ['payments', 'all'],
    });
    expect(mapIdentity(map, fields({ ou: ['payments'], issuerCn: 'Other CA' }))).toEqual({
      principal: 'svc-1',
      groups: [],
    });
  });

  it('matches SAN URI by prefix and SAN e-mail exactly', () => {
    expect(mapIdentity(map, fields({ uri: ['spiffe://corp/ns/a/sa/b'] }))).toEqual({
      principal: 'svc-1',
      groups: ['mesh'],
    });
    expect(mapIdentity(map, fields({ email: ['ops@example.com'] }))?.principal).toBe('ops');
    expect(mapIdentity(map, fields({ email: ['ops@example.com.evil'] }))?.principal).toBe('svc-1');
  });

  it('reads the default policy per object type with normalised operation names', () => {
    expect([...(map.defaultPolicy.get('PublicKey') ?? [])]).toEqual(['Get', 'Locate']);
  });

  it('reads JSON', () => {
    const m = parseIdentityMap(
      JSON.stringify({ rules: [{ match: { dns: 'a.example' }, principal: 'a' }] }),
      'map.json',
    );
    expect(mapIdentity(m, fields({ dns: ['a.example'] }))?.principal).toBe('a');
  });

  it('refuses unknown fields, bad groups and unknown operations with one line', () => {
    expect(() => parseIdentityMap('rules: [{ match: { serial: "1" } }]', 'm.yaml')).toThrow(
      'identity map m.yaml: rule 1: unknown field serial',
    );
    expect(() => parseIdentityMap('rules: [{ match: { cn: a }, groups: a }]', 'm.yaml')).toThrow(
      /groups must be a list/,
    );
    expect(() => parseIdentityMap('defaultPolicy: { PublicKey: [fly] }', 'm.yaml')).toThrow(
      /unknown operation fly/,
    );
    expect(() => parseIdentityMap('{', 'm.json')).toThrow(/not valid JSON or YAML/);
  });

  it('reads the fields of a Node peer certificate', () => {
    const f = certificateFields({
      subject: { CN: 'svc-1', OU: ['a', 'b'] },
      issuer: { CN: 'Corp CA', O: 'Corp' },
      subjectaltname: 'DNS:svc.example, URI:spiffe://corp/x, email:svc@example.com',
      fingerprint256: FP,
    } as never);
    expect(f).toEqual({
      cn: 'svc-1',
      ou: ['a', 'b'],
      dns: ['svc.example'],
      uri: ['spiffe://corp/x'],
      email: ['svc@example.com'],
      issuerCn: 'Corp CA',
      issuerO: 'Corp',
      fingerprint256: FP,
    });
  });
});
