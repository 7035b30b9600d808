// `kmip ttlv decode|encode`, run as a child process with stdin, as a user would.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/kmip.js');

function kmip(args: string[], input: string | Buffer = '') {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, timeout: 30_000 });
  return {
    code: r.status,
    stdout: r.stdout,
    out: r.stdout.toString('utf8'),
    err: r.stderr.toString('utf8'),
  };
}

// A Query request of KMIP 1.4, written out by hand from KMIP 1.4 §9.1 (tag | type | length).
const QUERY_HEX = `
  420078 01 00000070                                   # RequestMessage
    420077 01 00000038                                 #   RequestHeader
      420069 01 00000020                               #     ProtocolVersion
        42006a 02 00000004 00000001 00000000           #       Major 1
        42006b 02 00000004 00000004 00000000           #       Minor 4
      42000d 02 00000004 00000001 00000000             #     BatchCount 1
    42000f 01 00000028                                 #   BatchItem
      42005c 05 00000004 00000018 00000000             #     Operation Query
      420079 01 00000010                               #     RequestPayload
        420074 05 00000004 00000001 00000000           #       QueryFunction QueryOperations
`;
const QUERY = Buffer.from(QUERY_HEX.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');

// Unknown tags, a vendor enumeration, a sign-extended Big Integer, a date past year 9999.
const AWKWARD = Buffer.from(
  [
    '420078 01 00000048',
    '540001 07 00000003 616263 0000000000',
    '420057 05 00000004 80000001 00000000',
    '420066 04 00000010 ffffffffffffffff 8000000000000000',
    '420001 09 00000008 0000003afff44180',
  ]
    .join('')
    .replace(/\s+/g, ''),
  'hex',
);

describe('kmip ttlv decode', () => {
  it('prints a readable tree by default', () => {
    const r = kmip(['ttlv', 'decode'], QUERY_HEX);
    expect(r.code).toBe(0);
    expect(r.out).toContain('RequestMessage (Structure)');
    expect(r.out).toContain('      QueryFunction (Enumeration) QueryOperations');
  });

  it('prints KMIP XML and JSON', () => {
    const xml = kmip(['ttlv', 'decode', '--out', 'xml'], QUERY.toString('hex'));
    expect(xml.code).toBe(0);
    expect(xml.out).toContain('<Operation type="Enumeration" value="Query"/>');
    const json = kmip(['ttlv', 'decode', '--in', 'bin', '--out', 'json'], QUERY);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out).tag).toBe('RequestMessage');
  });

  it.each([
    ['xml', QUERY],
    ['json', QUERY],
    ['xml', AWKWARD],
    ['json', AWKWARD],
  ] as const)('binary -> %s -> binary gives identical bytes', (format, bytes) => {
    const text = kmip(['ttlv', 'decode', '--in', 'bin', '--out', format], bytes);
    expect(text.code).toBe(0);
    const back = kmip(['ttlv', 'encode', '--from', format, '--out', 'bin'], text.stdout);
    expect(back.code).toBe(0);
    expect(Buffer.compare(back.stdout, bytes)).toBe(0);
    const hex = kmip(['ttlv', 'encode', '--from', format], text.stdout);
    expect(hex.out).toBe(`${bytes.toString('hex')}\n`);
  });

  it('rejects bad bytes with one line and exit code 2', () => {
    const bad = Buffer.from(QUERY);
    bad[83] = 0x0c; // the type byte of BatchItem › Operation: no such item type
    const r = kmip(['ttlv', 'decode', '--in', 'bin'], bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kmip: InvalidMessage: unknown item type 0x0c at .+\n$/);
    const odd = kmip(['ttlv', 'decode'], '4200');
    expect(odd.code).toBe(2);
    expect(odd.err.split('\n')).toHaveLength(2);
  });
});

describe('kmip ttlv encode', () => {
  it('reports the tag path of a bad value and exits 2', () => {
    const xml =
      '<RequestMessage><BatchItem/><BatchItem><Operation type="Enumeration" value="Nope"/></BatchItem></RequestMessage>';
    const r = kmip(['ttlv', 'encode', '--from', 'xml'], xml);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "kmip: InvalidField: 'Nope' is not one of the values of Operation (line 1) at RequestMessage › BatchItem[1] › Operation\n",
    );
    expect(r.out).toBe('');
  });

  it('rejects malformed JSON and unresolved placeholders', () => {
    expect(kmip(['ttlv', 'encode', '--from', 'json'], '{"tag":').code).toBe(2);
    const ph = kmip(
      ['ttlv', 'encode', '--from', 'xml'],
      '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>',
    );
    expect(ph.code).toBe(2);
    expect(ph.err).toContain('placeholder $UNIQUE_IDENTIFIER_0');
  });

  it('treats usage errors as exit code 1', () => {
    const r = kmip(['ttlv', 'encode']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kmip: .*from/);
    expect(kmip(['ttlv', 'frobnicate']).code).toBe(1);
  });
});

describe('help', () => {
  it.each([[[]], [['ttlv']], [['ttlv', 'decode']], [['ttlv', 'encode']]])('%j --help', (args) => {
    const r = kmip([...args, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Options:/);
  });
});
