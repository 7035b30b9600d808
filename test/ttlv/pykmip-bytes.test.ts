// Frames captured from the PyKMIP 0.10 client and server (scripts/capture-pykmip.ts): every one
// decodes and re-encodes byte for byte. KMIP 1.4 §9.1 / KMIP 2.0 §9.1 (TTLV encoding).

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';
import { tagName as tagLabel } from '../../src/ttlv/spec/index.js';
import { parsePrettyHex } from '../helpers/pretty-hex.js';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/pykmip');
const VERSIONS = ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0'];

const frames = VERSIONS.flatMap((version) =>
  readdirSync(path.join(DIR, version))
    .filter((f) => f.endsWith('.phex'))
    .sort()
    .map((file) => ({
      version,
      file,
      bytes: parsePrettyHex(readFileSync(path.join(DIR, version, file), 'utf8')),
    })),
);

const REQUEST_MESSAGE = 0x420078;
const RESPONSE_MESSAGE = 0x42007b;
const NAME_VALUE = 0x420055;
const NAME_16 = 'kmipd-capture-16';

describe('PyKMIP 0.10 captured frames', () => {
  it('has a request and a response for every exchange in every version', () => {
    for (const version of VERSIONS) {
      const files = frames.filter((f) => f.version === version).map((f) => f.file);
      const requests = files.filter((f) => f.endsWith('-request.phex'));
      expect(requests.length).toBeGreaterThanOrEqual(12);
      expect(files.filter((f) => f.endsWith('-response.phex'))).toEqual(
        requests.map((f) => f.replace('-request.phex', '-response.phex')),
      );
    }
  });

  for (const { version, file, bytes } of frames) {
    it(`${version}/${file} decodes and re-encodes byte for byte`, () => {
      const item = decodeTtlv(bytes);
      expect(item.tag).toBe(file.endsWith('-request.phex') ? REQUEST_MESSAGE : RESPONSE_MESSAGE);
      expect(item.type).toBe(ItemType.Structure);
      expect(encodeTtlv(item).toString('hex')).toBe(bytes.toString('hex'));
    });
  }
});

// PyKMIP's TextString.read_value sets padding_length to 8 when the length is a multiple of 8, so
// a Text String that PyKMIP decoded and then writes again gets 8 stray zero bytes after it (its
// __init__ computes 0 correctly, so freshly built strings are fine). The requests captured here
// are built fresh by the client, and the 16-character Name in them has no stray bytes: checked
// below on the wire. The last test pins down what our decoder does with the faulty form.
describe('a Text String whose length is a multiple of 8', () => {
  const create = frames.find((f) => f.version === '1.2' && f.file === '03-create-request.phex');

  it('is sent by PyKMIP as exactly 8 + 16 bytes, with the next item right after it', () => {
    expect(create).toBeDefined();
    const wire = create!.bytes;
    const text = Buffer.from(NAME_16, 'utf8');
    expect(text).toHaveLength(16);
    // Name Value (42 00 55), Text String (07), length 16.
    const header = Buffer.from('4200550700000010', 'hex');
    const at = wire.indexOf(Buffer.concat([header, text]));
    expect(at).toBeGreaterThan(0);
    // Name Type (42 00 54, Enumeration) follows immediately: no padding, no stray bytes.
    expect(wire.subarray(at + 24, at + 28).toString('hex')).toBe('42005405');
  });

  it('decodes from the capture as the 16-character name', () => {
    const names = collect(decodeTtlv(create!.bytes), NAME_VALUE);
    expect(names).toEqual([NAME_16]);
  });

  it('is encoded by kmipd as exactly 8 + 16 bytes', () => {
    const wire = encodeTtlv({ tag: NAME_VALUE, type: ItemType.TextString, value: NAME_16 });
    expect(wire).toHaveLength(24);
    expect(wire.toString('hex')).toBe(`4200550700000010${Buffer.from(NAME_16).toString('hex')}`);
  });

  it('with 8 stray zero bytes after it (PyKMIP re-encoding) is rejected as Invalid Message', () => {
    // Attribute Value { Name Value "kmipd-capture-16", <8 stray zero bytes>, Name Type 1 }, the
    // parent length counting the stray bytes as PyKMIP's writer would.
    const faulty = parsePrettyHex(`
      42000b | 01 | 00000030
        420055 | 07 | 00000010 | 6b6d6970 642d6361 70747572 652d3136
        00000000 00000000
        420054 | 05 | 00000004 | 00000001 00000000
    `);
    let error: unknown;
    try {
      decodeTtlv(faulty);
    } catch (e) {
      error = e;
    }
    // The stray bytes read as an item header with tag 000000 and item type 00, which is no type.
    expect(error).toBeInstanceOf(KmipError);
    expect((error as KmipError).reason).toBe(ResultReason.InvalidMessage);
    expect((error as KmipError).path).toEqual([tagLabel(0x42000b), tagLabel(0x000000)]);
  });
});

function collect(item: TtlvItem, tag: number, out: unknown[] = []): unknown[] {
  if (item.tag === tag) out.push(item.value);
  if (item.type === ItemType.Structure) for (const child of item.value) collect(child, tag, out);
  return out;
}
