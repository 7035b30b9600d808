// TTLV codec throughput on one core: decode and encode messages/s for a typical Create request
// (about 40 items) and a large Locate response (1,000 identifiers). Prints a table and returns
// the figures for bench/run.ts.

import { decodeTtlv, encodeTtlv } from '../src/ttlv/binary.js';
import { ItemType, type TtlvItem } from '../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  NameType,
  ObjectType,
  Operation,
  ResultStatus,
  Tag,
} from '../src/ttlv/spec/generated.js';

const s = (tag: number, value: TtlvItem[]): TtlvItem => ({ tag, type: ItemType.Structure, value });
const i = (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Integer, value });
const e = (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Enumeration, value });
const t = (tag: number, value: string): TtlvItem => ({ tag, type: ItemType.TextString, value });
const d = (tag: number, value: bigint): TtlvItem => ({ tag, type: ItemType.DateTime, value });
const attr = (name: string, value: TtlvItem): TtlvItem =>
  s(Tag.Attribute, [t(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);

function countItems(item: TtlvItem): number {
  return item.type === ItemType.Structure
    ? 1 + item.value.reduce((n, c) => n + countItems(c), 0)
    : 1;
}

export function createRequest(): TtlvItem {
  return s(Tag.RequestMessage, [
    s(Tag.RequestHeader, [
      s(Tag.ProtocolVersion, [i(Tag.ProtocolVersionMajor, 1), i(Tag.ProtocolVersionMinor, 4)]),
      t(Tag.ClientCorrelationValue, 'bench-create'),
      d(Tag.TimeStamp, 1_700_000_000n),
      i(Tag.BatchCount, 1),
    ]),
    s(Tag.BatchItem, [
      e(Tag.Operation, Operation.Create),
      s(Tag.RequestPayload, [
        e(Tag.ObjectType, ObjectType.SymmetricKey),
        s(Tag.TemplateAttribute, [
          attr('Cryptographic Algorithm', e(0, CryptographicAlgorithm.AES)),
          attr('Cryptographic Length', i(0, 256)),
          attr(
            'Cryptographic Usage Mask',
            i(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
          ),
          attr(
            'Name',
            s(0, [
              t(Tag.NameValue, 'volume-7f3a9c'),
              e(Tag.NameType, NameType.UninterpretedTextString),
            ]),
          ),
          attr('Object Group', t(0, 'tenant-42')),
          attr('Activation Date', d(0, 1_700_000_000n)),
          attr('x-Owner', t(0, 'storage-array-3')),
        ]),
      ]),
    ]),
  ]);
}

export function locateResponse(count = 1000): TtlvItem {
  const uids: TtlvItem[] = [];
  for (let n = 0; n < count; n++) {
    uids.push(t(Tag.UniqueIdentifier, `0b3dff60-c048-49d9-940d-${n.toString().padStart(12, '0')}`));
  }
  return s(Tag.ResponseMessage, [
    s(Tag.ResponseHeader, [
      s(Tag.ProtocolVersion, [i(Tag.ProtocolVersionMajor, 2), i(Tag.ProtocolVersionMinor, 1)]),
      d(Tag.TimeStamp, 1_700_000_000n),
      i(Tag.BatchCount, 1),
    ]),
    s(Tag.BatchItem, [
      e(Tag.Operation, Operation.Locate),
      e(Tag.ResultStatus, ResultStatus.Success),
      s(Tag.ResponsePayload, [i(Tag.LocatedItems, count), ...uids]),
    ]),
  ]);
}

function rate(fn: () => void, minMs = 1500): number {
  for (let n = 0; n < 2000; n++) fn(); // warm up the JIT
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let n = 0; n < 500; n++) fn();
    ops += 500;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return Math.round((ops / elapsed) * 1000);
}

export interface CodecFigures {
  message: string;
  items: number;
  bytes: number;
  decodesPerSec: number;
  encodesPerSec: number;
}

export function benchCodec(): CodecFigures[] {
  const out: CodecFigures[] = [];
  for (const [name, tree, minMs] of [
    ['Create request', createRequest(), 2000],
    ['Locate response (1,000 ids)', locateResponse(), 2000],
  ] as const) {
    const bytes = encodeTtlv(tree);
    out.push({
      message: name,
      items: countItems(tree),
      bytes: bytes.length,
      decodesPerSec: rate(() => decodeTtlv(bytes), minMs),
      encodesPerSec: rate(() => encodeTtlv(tree), minMs),
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(benchCodec());
}
