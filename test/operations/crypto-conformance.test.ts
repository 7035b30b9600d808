// The mandatory cryptographic-services conformance cases (KMIP Profiles 1.4 and 2.1 §4:
// CS-BC-M-*, CS-AC-M-*, CS-RNG-M-*) replayed in memory, request by request. Inputs and expected
// outputs come straight from the OASIS files: Encrypt/Decrypt (KMIP 2.1 §6.1.20, §6.1.18),
// Sign/Signature Verify (§6.1.51, §6.1.52), MAC/MAC Verify (§6.1.31, §6.1.32), Hash (§6.1.26)
// and RNG Retrieve (§6.1.43) responses are compared in full; the other operations of a case
// (Register, Create, Revoke, Destroy) only by Result Status and Reason.
// Placeholders follow FORMAT.md §5: captured from responses, request-first crypto outputs
// bound to the last value of that tag, $NOW±n the current time.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import { Operation, Tag } from '../../src/ttlv/spec/generated.js';
import { type KmipVersion, tagName } from '../../src/ttlv/spec/index.js';
import { bytesToHex } from '../../src/ttlv/text-values.js';
import { conformanceXmlText, xmlToTtlvItems } from '../../src/ttlv/xml.js';
import { testServer } from '../helpers/kmip-test-client.js';

const ROOT = join(import.meta.dirname, '../../fixtures/conformance');

const CHECKED: ReadonlySet<number> = new Set([
  Operation.Encrypt,
  Operation.Decrypt,
  Operation.Sign,
  Operation.SignatureVerify,
  Operation.MAC,
  Operation.MACVerify,
  Operation.Hash,
  Operation.RNGRetrieve,
]);

/**
 * Outputs that are variable (Profiles §4.1.1 item 8): data under a server-generated key
 * (Create in CS-BC-M-1..3), a random IV (CS-BC-M-13 shows an illustrative literal), OAEP
 * ciphertexts (random seed) and random bytes.
 */
const VARIABLE: Record<string, number[]> = {
  'CS-BC-M-1': [Tag.Data],
  'CS-BC-M-2': [Tag.Data],
  'CS-BC-M-3': [Tag.Data],
  'CS-BC-M-13': [Tag.Data, Tag.IVCounterNonce],
  'CS-AC-M-OAEP-1': [Tag.Data],
  'CS-AC-M-OAEP-3': [Tag.Data],
  'CS-AC-M-OAEP-5': [Tag.Data],
  'CS-AC-M-OAEP-7': [Tag.Data],
  'CS-AC-M-OAEP-9': [Tag.Data],
  'CS-RNG-M-1': [Tag.Data],
};

const CASES_14 = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((n) => `CS-BC-M-${n}`),
  'CS-BC-M-GCM-1',
  'CS-BC-M-GCM-2',
  'CS-BC-M-GCM-3',
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `CS-AC-M-${n}`),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `CS-AC-M-OAEP-${n}`),
  'CS-RNG-M-1',
];
const CASES_21 = [
  ...CASES_14,
  'CS-BC-M-CHACHA20-1',
  'CS-BC-M-CHACHA20-2',
  'CS-BC-M-CHACHA20-3',
  'CS-BC-M-CHACHA20POLY1305-1',
];

/** A ByteString placeholder read from the file; identity marks it. */
const bytePlaceholders = new WeakMap<Uint8Array, string>();

function readCase(set: string, id: string): TtlvItem[] {
  const text = readFileSync(join(ROOT, set, 'mandatory', `${id}.xml`), 'utf8');
  return xmlToTtlvItems(conformanceXmlText(text), {
    placeholders(raw, type) {
      const now = /^\$NOW([+-]\d+)?$/.exec(raw);
      if (now !== null) {
        const offset = BigInt(now[1] ?? 0);
        return BigInt(Math.floor(Date.now() / 1000)) + offset;
      }
      if (type === ItemType.ByteString) {
        const marker = new Uint8Array(0);
        bytePlaceholders.set(marker, raw);
        return marker;
      }
      return raw;
    },
  });
}

const child = (s: TtlvItem | undefined, tag: number) =>
  s?.type === ItemType.Structure ? s.value.find((c) => c.tag === tag) : undefined;

function placeholderOf(i: TtlvItem): string | undefined {
  if (i.type === ItemType.TextString && i.value.startsWith('$')) return i.value;
  if (i.type === ItemType.ByteString) return bytePlaceholders.get(i.value);
  return undefined;
}

class Replay {
  private readonly bound = new Map<string, TtlvItem['value']>();
  private readonly lastOfTag = new Map<number, Uint8Array>();

  constructor(private readonly variable: readonly number[]) {}

  /** The request with every placeholder replaced (request-first ones from the last output). */
  fill(i: TtlvItem): TtlvItem {
    if (i.type === ItemType.Structure) return { ...i, value: i.value.map((c) => this.fill(c)) };
    const name = placeholderOf(i);
    if (name === undefined) return i;
    const value = this.bound.get(name) ?? this.lastOfTag.get(i.tag);
    if (value === undefined) throw new Error(`unbound placeholder ${name}`);
    this.bound.set(name, value);
    return { ...i, value } as TtlvItem;
  }

  /** Compares a response payload, binding placeholders to what the server answered. */
  compare(expected: TtlvItem, actual: TtlvItem | undefined, path: string): void {
    const here = `${path} › ${tagName(expected.tag)}`;
    expect(actual?.tag, here).toBe(expected.tag);
    expect(actual?.type, here).toBe(expected.type);
    if (actual === undefined) return;
    if (actual.type === ItemType.ByteString) this.lastOfTag.set(actual.tag, actual.value);
    if (expected.type === ItemType.Structure && actual.type === ItemType.Structure) {
      const want = expected.value.map((c) => tagName(c.tag));
      expect(
        actual.value.map((c) => tagName(c.tag)),
        here,
      ).toEqual(want);
      expected.value.forEach((c, n) => {
        this.compare(c, actual.value[n], here);
      });
      return;
    }
    const name = placeholderOf(expected);
    if (name !== undefined) {
      const prior = this.bound.get(name);
      if (prior === undefined) this.bound.set(name, actual.value);
      else expect(show(actual.value), here).toEqual(show(prior));
      return;
    }
    if (this.variable.includes(expected.tag)) return;
    expect(show(actual.value), here).toEqual(show(expected.value));
  }

  /** Binds the Unique Identifiers and other captures of a response not compared in full. */
  capture(expected: TtlvItem, actual: TtlvItem | undefined): void {
    if (actual === undefined) return;
    if (expected.type === ItemType.Structure && actual.type === ItemType.Structure) {
      for (const c of expected.value) this.capture(c, child(actual, c.tag));
      return;
    }
    const name = placeholderOf(expected);
    if (name !== undefined && !this.bound.has(name)) this.bound.set(name, actual.value);
  }
}

const show = (v: unknown) =>
  v instanceof Uint8Array ? bytesToHex(v).toLowerCase() : typeof v === 'bigint' ? `${v}n` : v;

function versionOf(message: TtlvItem): KmipVersion {
  const pv = child(child(message, Tag.RequestHeader), Tag.ProtocolVersion);
  const major = child(pv, Tag.ProtocolVersionMajor)?.value;
  const minor = child(pv, Tag.ProtocolVersionMinor)?.value;
  return `${major}.${minor}` as KmipVersion;
}

async function replay(set: string, id: string): Promise<void> {
  const messages = readCase(set, id);
  const family = id.replace(/-\d+$/, '');
  const r = new Replay(VARIABLE[family] ?? []);
  const s = testServer();
  for (let m = 0; m < messages.length; m += 2) {
    const request = messages[m]!;
    const expected = messages[m + 1]!;
    const version = versionOf(request);
    const items = request.type === ItemType.Structure ? request.value : [];
    const batch = items
      .filter((i) => i.tag === Tag.BatchItem)
      .map((bi) => {
        const op = child(bi, Tag.Operation)!.value as number;
        const payload = child(bi, Tag.RequestPayload);
        const filled = payload === undefined ? undefined : r.fill(payload);
        return {
          operation: op,
          payload: filled?.type === ItemType.Structure ? filled.value : [],
        };
      });
    const res = await s.send(version, batch);
    const wanted =
      expected.type === ItemType.Structure
        ? expected.value.filter((i) => i.tag === Tag.BatchItem)
        : [];
    wanted.forEach((want, n) => {
      const got = res.batchItems[n];
      const step = `${id} step ${m / 2} ${tagName(Tag.Operation)}=${batch[n]?.operation}`;
      expect([got?.resultStatus, got?.resultReason, got?.resultMessage], step).toEqual([
        child(want, Tag.ResultStatus)?.value,
        child(want, Tag.ResultReason)?.value,
        got?.resultMessage,
      ]);
      const payload = child(want, Tag.ResponsePayload);
      if (payload === undefined) return;
      if (CHECKED.has(batch[n]!.operation)) r.compare(payload, got?.responsePayload, step);
      else r.capture(payload, got?.responsePayload);
    });
  }
}

describe('KMIP 1.4 mandatory cryptographic services cases', () => {
  it.each(CASES_14.map((c) => `${c}-14`))('%s', async (id) => {
    await replay('kmip-profiles-v1.4-os', id);
  });
});

describe('KMIP 2.1 mandatory cryptographic services cases', () => {
  it.each(CASES_21.map((c) => `${c}-21`))('%s', async (id) => {
    await replay('kmip-profiles-v2.1-os', id);
  });
});
