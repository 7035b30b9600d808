// Placeholder classification, capture and substitution (KMIP Profiles 2.1 §4; FORMAT.md §5),
// and the loader's pre-processing of the known-bad files (FORMAT.md §2, §9).

import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  childOf,
  childrenOf,
  findCaseFiles,
  loadCase,
  parseCase,
  profileOf,
  versionOf,
} from '../../src/conformance/loader.js';
import {
  CaseState,
  classifyPlaceholder,
  HarnessError,
} from '../../src/conformance/placeholders.js';
import { SkipList } from '../../src/conformance/skip-list.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { Tag } from '../../src/ttlv/spec/generated.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CONFORMANCE = join(ROOT, 'fixtures', 'conformance');

const HEADER = `<RequestHeader><ProtocolVersion><ProtocolVersionMajor type="Integer" value="2"/><ProtocolVersionMinor type="Integer" value="1"/></ProtocolVersion><BatchCount type="Integer" value="1"/></RequestHeader>`;
const RHEADER = `<ResponseHeader><ProtocolVersion><ProtocolVersionMajor type="Integer" value="2"/><ProtocolVersionMinor type="Integer" value="1"/></ProtocolVersion><TimeStamp type="DateTime" value="$NOW"/><BatchCount type="Integer" value="1"/></ResponseHeader>`;

function request(op: string, payload: string): string {
  return `<RequestMessage>${HEADER}<BatchItem><Operation type="Enumeration" value="${op}"/><RequestPayload>${payload}</RequestPayload></BatchItem></RequestMessage>`;
}
function response(op: string, payload: string): string {
  return `<ResponseMessage>${RHEADER}<BatchItem><Operation type="Enumeration" value="${op}"/><ResultStatus type="Enumeration" value="Success"/><ResponsePayload>${payload}</ResponsePayload></BatchItem></ResponseMessage>`;
}

function payloadOf(message: TtlvItem): TtlvItem {
  return childOf(childrenOf(message, Tag.BatchItem)[0]!, Tag.RequestPayload)!;
}

describe('classifyPlaceholder (FORMAT.md §5)', () => {
  it.each([
    ['$UNIQUE_IDENTIFIER_0', 'identifier', 0],
    ['$UNIQUE_IDENTIFIER', 'identifier', 0],
    ['$SHORT_UNIQUE_IDENTIFIER_2', 'identifier', 0],
    ['$TICKET_VALUE', 'identifier', 0],
    ['$NOW', 'now', 0],
    ['$NOW-3600', 'now', -3600],
    ['$NOW+20', 'now', 20],
    ['$UNIQUE_IDENTIFIER_RANDOM_1', 'random', 0],
    ['$SHORT_UNIQUE_IDENTIFIER_RANDOM_0', 'random', 0],
    ['$SERVER_CORRELATION_VALUE', 'any', 0],
    ['$CORRELATION_VALUE', 'output', 0],
    ['$KEY_MATERIAL_1', 'output', 0],
    ['$DATA_25', 'output', 0],
    ['$IV_COUNTER_NONCE', 'output', 0],
    ['$SIGNATURE_DATA', 'output', 0],
  ] as const)('%s is %s', (text, kind, offset) => {
    expect(classifyPlaceholder(text)).toEqual({ text, kind, offset });
  });

  it('an unknown placeholder is a harness error, not a server failure', () => {
    expect(() => classifyPlaceholder('$SOMETHING_NEW')).toThrow(HarnessError);
  });
});

describe('CaseState.materialise (FORMAT.md §5 step 3)', () => {
  const tc = parseCase(
    'X-M-1-21.xml',
    `<KMIP>${request(
      'Get',
      '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>',
    )}${response('Get', '')}${request(
      'Locate',
      '<Attributes><ActivationDate type="DateTime" value="$NOW-3600"/></Attributes>',
    )}${response('Locate', '')}${request(
      'Get',
      '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_RANDOM_0"/>',
    )}${response('Get', '')}${request(
      'Decrypt',
      '<Data type="ByteString" value="$DATA_0"/>',
    )}${response('Decrypt', '')}</KMIP>`,
  );

  it('substitutes a bound identifier', () => {
    const state = new CaseState();
    state.bindings.set('$UNIQUE_IDENTIFIER_0', { type: ItemType.TextString, value: 'uid-42' });
    const req = state.materialise(tc.steps[0]!.request, 1_000n);
    expect(childOf(payloadOf(req), Tag.UniqueIdentifier)).toEqual({
      tag: Tag.UniqueIdentifier,
      type: ItemType.TextString,
      value: 'uid-42',
    });
  });

  it('refuses an identifier no response has bound', () => {
    expect(() => new CaseState().materialise(tc.steps[0]!.request, 1_000n)).toThrow(
      /\$UNIQUE_IDENTIFIER_0 is used in a request before any response bound it/,
    );
  });

  it('sends $NOW-3600 as the step time minus an hour and records the value sent', () => {
    const state = new CaseState();
    const req = state.materialise(tc.steps[1]!.request, 1_700_000_000n);
    const attrs = childOf(payloadOf(req), Tag.Attributes)!;
    expect(childOf(attrs, Tag.ActivationDate)?.value).toBe(1_699_996_400n);
    expect([...state.sentNow.get(`${Tag.ActivationDate}:$NOW-3600`)!]).toEqual([1_699_996_400n]);
  });

  it('generates a fresh identifier for *_RANDOM_* and keeps it for the case', () => {
    const state = new CaseState();
    const a = childOf(payloadOf(state.materialise(tc.steps[2]!.request, 0n)), Tag.UniqueIdentifier);
    const b = childOf(payloadOf(state.materialise(tc.steps[2]!.request, 0n)), Tag.UniqueIdentifier);
    expect(a?.value).toMatch(/^conformance-random-[0-9a-f]{24}$/);
    expect(b?.value).toBe(a?.value);
    const other = new CaseState().materialise(tc.steps[2]!.request, 0n);
    expect(childOf(payloadOf(other), Tag.UniqueIdentifier)?.value).not.toBe(a?.value);
  });

  it('fills a request-first crypto placeholder from the latest response value of its tag', () => {
    const state = new CaseState();
    state.lastOutputByTag.set(Tag.Data, {
      type: ItemType.ByteString,
      value: Buffer.from('c0ffee', 'hex'),
    });
    const req = state.materialise(tc.steps[3]!.request, 0n);
    expect(
      Buffer.from(childOf(payloadOf(req), Tag.Data)!.value as Uint8Array).toString('hex'),
    ).toBe('c0ffee');
    expect(state.bindings.get('$DATA_0')?.type).toBe(ItemType.ByteString);
  });

  it('leaves the template untouched', () => {
    const state = new CaseState();
    state.bindings.set('$UNIQUE_IDENTIFIER_0', { type: ItemType.TextString, value: 'uid-42' });
    state.materialise(tc.steps[0]!.request, 0n);
    const uid = childOf(payloadOf(tc.steps[0]!.request.item), Tag.UniqueIdentifier)!;
    expect(tc.steps[0]!.request.marks.get(uid)?.text).toBe('$UNIQUE_IDENTIFIER_0');
  });
});

describe('loader (FORMAT.md §1, §2, §9)', () => {
  it('names profiles and versions from the file name', () => {
    expect(profileOf('SKLC-M-2-21')).toBe('SKLC');
    expect(profileOf('CS-BC-M-GCM-3-21')).toBe('CS-BC');
    expect(profileOf('CS-BC-M-4-12-3DES-13')).toBe('CS-BC');
    expect(profileOf('TC-STREAM-HASH-2-21')).toBe('TC-STREAM-HASH');
    expect(versionOf('SKLC-M-2-21')).toBe('2.1');
    expect(versionOf('AKLC-M-1-14')).toBe('1.4');
  });

  it('drops # annotation lines (TC-DERIVEKEY-1-10)', async () => {
    const path = join(CONFORMANCE, 'kmip-testcases-v1.4-cnprd01', 'TC-DERIVEKEY-1-10.xml');
    expect(await readFile(path, 'utf8')).toMatch(/^\s*#/m);
    const tc = await loadCase(path);
    expect(tc.steps.length).toBeGreaterThan(0);
  });

  it('tolerates the second </KMIP> of TC-ECDSA-SIGN-1-14', async () => {
    const tc = await loadCase(
      join(CONFORMANCE, 'kmip-testcases-v1.4-cnprd01', 'TC-ECDSA-SIGN-1-14.xml'),
    );
    expect(tc.steps.length).toBeGreaterThan(0);
  });

  it('waives the 1.3 protocol version typo of OMOS-O-1-14, and says so', async () => {
    const tc = await loadCase(
      join(CONFORMANCE, 'kmip-profiles-v1.4-os', 'optional', 'OMOS-O-1-14.xml'),
    );
    expect(tc.waivers).toHaveLength(1);
    expect(tc.waivers[0]).toMatch(/protocol version 1\.3 corrected to 1\.4/);
    for (const step of tc.steps) {
      const pv = childOf(childOf(step.response.item, Tag.ResponseHeader)!, Tag.ProtocolVersion)!;
      expect(childOf(pv, Tag.ProtocolVersionMinor)?.value).toBe(4);
    }
  });

  it('refuses a file whose messages do not pair up', () => {
    expect(() => parseCase('B-M-1-21.xml', `<KMIP>${request('Query', '')}</KMIP>`)).toThrow(
      HarnessError,
    );
  });
});

describe('SkipList', () => {
  it('reads `CASE reason` lines with comments and wildcards', () => {
    const list = SkipList.parse(
      '# header\nSKFF-M-4-14  DES is not offered\n\nCS-BC-M-*-3DES-13 3DES   # trailing\nPKCS11-M-1-21 needs PKCS#11\n',
    );
    expect(list.reasonFor('SKFF-M-4-14')).toBe('DES is not offered');
    expect(list.reasonFor('CS-BC-M-4-12-3DES-13')).toBe('3DES');
    expect(list.reasonFor('PKCS11-M-1-21')).toBe('needs PKCS#11');
    expect(list.reasonFor('SKFF-M-1-14')).toBeUndefined();
  });

  it('requires a reason', () => {
    expect(() => SkipList.parse('SKFF-M-4-14\n')).toThrow(/line 1: a case needs a reason/);
  });
});

describe('findCaseFiles', () => {
  it('runs the Test Cases notes fixture files first and their clean-up files last', async () => {
    const dir = join(CONFORMANCE, 'kmip-testcases-v1.3-cnd01');
    const ids = (await findCaseFiles([dir])).map((f) => f.replace(/^.*\//, '').replace('.xml', ''));
    expect(ids.slice(0, 3)).toEqual(['TC-OTP-SETUP-1-13', 'TC-OTP-SETUP-2-13', 'TC-CREG-1-13']);
    expect(ids.at(-1)).toBe('TC-OTP-CLEANUP-1-13');
    expect(ids).toHaveLength(39);
    const middle = ids.slice(2, -1);
    expect(middle).toEqual([...middle].sort());
  });
});
