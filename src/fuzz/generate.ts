// Structure-aware request generator for the fuzzer, driven by the spec table: tags, item types,
// enumerations and the versions they exist in all come from TAG_DEFS/ENUM_DEFS, so the frames
// reach past the decoder into the message layer and the operations. A share of the frames is
// then mutated where parsers go wrong: wrong types, lengths off by one, truncated children,
// huge counts, deep nesting, random enumerations and fields of the wrong protocol version.

import { ItemType } from '../ttlv/item.js';
import {
  enumDefForTag,
  KMIP_VERSIONS,
  TAG_DEFS,
  Tag,
  type TagDef,
  tagDefByName,
} from '../ttlv/spec/index.js';
import { encodeRaw, type RawItem } from './raw-ttlv.js';
import { INTERESTING_U32, type Rng } from './rng.js';

const ALL_TAGS = TAG_DEFS as readonly TagDef[];
const STRUCTURE_TAGS = ALL_TAGS.filter((d) => d.type === ItemType.Structure);
const ITEM_TYPES = Object.values(ItemType);

/** Payload fields most operations read first; drawing them often gets frames past "missing field". */
const LIKELY = [
  'UniqueIdentifier',
  'ObjectType',
  'Attributes',
  'TemplateAttribute',
  'Attribute',
  'AttributeName',
  'AttributeReference',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'CryptographicUsageMask',
  'CryptographicParameters',
  'Name',
  'NameValue',
  'NameType',
  'KeyFormatType',
  'KeyBlock',
  'KeyValue',
  'KeyMaterial',
  'SymmetricKey',
  'SecretData',
  'Data',
  'IVCounterNonce',
  'MaximumItems',
  'OffsetItems',
  'QueryFunction',
  'RevocationReason',
  'RevocationReasonCode',
  'ProtocolVersion',
  'PrivateKeyAttributes',
  'PublicKeyAttributes',
  'CommonAttributes',
  'RecommendedCurve',
  'State',
  'MACData',
  'SignatureData',
  'DigestedData',
  'DataLength',
]
  .map((n) => tagDefByName(n))
  .filter((d): d is TagDef => d !== undefined);

const OPERATIONS = enumDefForTag(Tag.Operation)!.values.map((v) => v.value);

export interface GeneratedFrame {
  frame: Buffer;
  /** What the frame exercises, for reports. */
  kind: string;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function u64(rng: Rng): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(rng.chance(0.5) ? rng.pick(INTERESTING_U32) : rng.u32(), 0);
  b.writeUInt32BE(rng.u32(), 4);
  return b;
}

function text(rng: Rng): Buffer {
  switch (rng.int(6)) {
    case 0: // an attribute name as 1.x clients spell it
      return Buffer.from(rng.pick(ALL_TAGS).specName);
    case 1: // invalid UTF-8
      return Buffer.from([0x61, 0xc3, 0x28, 0xff]);
    case 2:
      return Buffer.alloc(0);
    case 3:
      return Buffer.from('x'.repeat(rng.int(600)));
    default:
      return Buffer.from(rng.bytes(rng.int(24)).toString('base64'));
  }
}

function enumeration(rng: Rng, def: TagDef): Buffer {
  const e = enumDefForTag(def.tag);
  if (e !== undefined && e.values.length > 0 && rng.chance(0.8))
    return u32(rng.pick(e.values).value);
  return u32(rng.chance(0.5) ? rng.pick(INTERESTING_U32) : rng.u32());
}

function primitive(rng: Rng, def: TagDef, type: number): Buffer {
  switch (type) {
    case ItemType.Integer:
    case ItemType.Interval:
      return u32(rng.chance(0.6) ? rng.pick(INTERESTING_U32) : rng.int(5000));
    case ItemType.Enumeration:
      return enumeration(rng, def);
    case ItemType.Boolean:
      return Buffer.from([0, 0, 0, 0, 0, 0, 0, rng.chance(0.9) ? rng.int(2) : rng.int(256)]);
    case ItemType.TextString:
      return text(rng);
    case ItemType.ByteString:
      return rng.bytes(rng.chance(0.3) ? 32 : rng.int(80));
    case ItemType.BigInteger:
      return rng.bytes(8 * (1 + rng.int(4)));
    default:
      return u64(rng);
  }
}

function randomItem(rng: Rng, depth: number, def = chooseTag(rng)): RawItem {
  const type = def.type ?? rng.pick(ITEM_TYPES);
  if (type === ItemType.Structure) {
    const n = depth >= 4 ? 0 : rng.int(depth === 0 ? 5 : 3);
    return {
      tag: def.tag,
      type,
      value: Array.from({ length: n }, () => randomItem(rng, depth + 1)),
    };
  }
  return { tag: def.tag, type, value: primitive(rng, def, type) };
}

function chooseTag(rng: Rng): TagDef {
  const r = rng.int(10);
  if (r < 6) return rng.pick(LIKELY);
  if (r < 8) return rng.pick(STRUCTURE_TAGS);
  return rng.pick(ALL_TAGS);
}

function attribute1x(rng: Rng): RawItem {
  const def = rng.pick(rng.chance(0.7) ? LIKELY : ALL_TAGS);
  const value = randomItem(rng, 2, def);
  const children: RawItem[] = [
    { tag: Tag.AttributeName, type: ItemType.TextString, value: Buffer.from(def.specName) },
  ];
  if (rng.chance(0.2)) children.push(randomItem(rng, 2, tagDefByName('AttributeIndex')!));
  children.push({ ...value, tag: Tag.AttributeValue });
  return { tag: Tag.Attribute, type: ItemType.Structure, value: children };
}

function payload(rng: Rng): RawItem {
  const children: RawItem[] = [];
  const n = rng.int(5);
  for (let i = 0; i < n; i++) {
    const r = rng.int(10);
    if (r < 2) children.push(attribute1x(rng));
    else if (r < 3)
      children.push({
        tag: rng.chance(0.5) ? Tag.TemplateAttribute : Tag.Attributes,
        type: ItemType.Structure,
        value: Array.from({ length: rng.int(4) }, () =>
          rng.chance(0.5) ? attribute1x(rng) : randomItem(rng, 2),
        ),
      });
    else children.push(randomItem(rng, 1));
  }
  return { tag: Tag.RequestPayload, type: ItemType.Structure, value: children };
}

function int(tag: number, n: number): RawItem {
  return { tag, type: ItemType.Integer, value: u32(n) };
}

function request(rng: Rng): RawItem {
  let major: number;
  let minor: number;
  if (rng.chance(0.92)) {
    [major, minor] = rng.pick(KMIP_VERSIONS).split('.').map(Number) as [number, number];
  } else {
    major = rng.pick([0, 1, 2, 3, 0xffffffff]);
    minor = rng.pick([0, 5, 9, 0x7fffffff, 0xffffffff]);
  }
  const itemCount = rng.chance(0.9) ? 1 + rng.int(3) : rng.int(64);
  const items: RawItem[] = Array.from({ length: itemCount }, () => {
    const children: RawItem[] = [
      {
        tag: Tag.Operation,
        type: ItemType.Enumeration,
        value: u32(rng.chance(0.95) ? rng.pick(OPERATIONS) : rng.u32()),
      },
    ];
    if (rng.chance(0.3))
      children.push({ tag: Tag.UniqueBatchItemID, type: ItemType.ByteString, value: rng.bytes(8) });
    if (rng.chance(0.95)) children.push(payload(rng));
    return { tag: Tag.BatchItem, type: ItemType.Structure, value: children };
  });
  const header: RawItem[] = [
    {
      tag: Tag.ProtocolVersion,
      type: ItemType.Structure,
      value: [int(Tag.ProtocolVersionMajor, major), int(Tag.ProtocolVersionMinor, minor)],
    },
  ];
  if (rng.chance(0.1)) header.push(int(Tag.MaximumResponseSize, rng.pick(INTERESTING_U32)));
  if (rng.chance(0.1))
    header.push({
      tag: Tag.BatchErrorContinuationOption,
      type: ItemType.Enumeration,
      value: u32(1 + rng.int(4)),
    });
  header.push(int(Tag.BatchCount, rng.chance(0.9) ? itemCount : rng.pick(INTERESTING_U32)));
  return {
    tag: Tag.RequestMessage,
    type: ItemType.Structure,
    value: [{ tag: Tag.RequestHeader, type: ItemType.Structure, value: header }, ...items],
  };
}

/** Every item below the root, with its parent, for mutation. */
function inner(root: RawItem): Array<{ item: RawItem; parent: RawItem }> {
  const out: Array<{ item: RawItem; parent: RawItem }> = [];
  const walk = (parent: RawItem) => {
    if (!Array.isArray(parent.value)) return;
    for (const item of parent.value) {
      out.push({ item, parent });
      walk(item);
    }
  };
  walk(root);
  return out;
}

const MUTATIONS = [
  'wrong-type',
  'length-off-by-one',
  'truncated',
  'huge-count',
  'deep-nesting',
  'random-enumeration',
  'wrong-version-field',
  'random-value',
] as const;

function mutate(rng: Rng, root: RawItem): string {
  const nodes = inner(root);
  const { item, parent } = rng.pick(nodes);
  const kind = rng.pick(MUTATIONS);
  switch (kind) {
    case 'wrong-type':
      item.type = rng.chance(0.9) ? rng.pick(ITEM_TYPES) : rng.int(256);
      if (item.type === ItemType.Structure && !Array.isArray(item.value)) item.value = [];
      if (item.type !== ItemType.Structure && Array.isArray(item.value))
        item.value = encodeRaw({ ...item, type: ItemType.Structure }).subarray(8);
      break;
    case 'length-off-by-one':
      item.lengthDelta = rng.pick([-1, 1, -8, 8, 0x7fffffff, -0x7fffffff]);
      break;
    case 'truncated':
      item.cut = 1 + rng.int(16);
      break;
    case 'huge-count': {
      const siblings = parent.value as RawItem[];
      // Large counts are rare: each costs the whole pipeline a megabyte.
      const copies = rng.chance(0.05) ? rng.pick([10_000, 70_000]) : rng.pick([10, 100, 1000]);
      const small: RawItem = Array.isArray(item.value) ? { ...item, value: [] } : item;
      for (let i = 0; i < copies; i++) siblings.push(small);
      break;
    }
    case 'deep-nesting': {
      const siblings = parent.value as RawItem[];
      let nest: RawItem = item;
      const depth = rng.pick([8, 31, 33, 64, 1000]);
      for (let i = 0; i < depth; i++) {
        nest = { tag: rng.pick(STRUCTURE_TAGS).tag, type: ItemType.Structure, value: [nest] };
      }
      siblings[siblings.indexOf(item)] = nest;
      break;
    }
    case 'random-enumeration':
      item.type = ItemType.Enumeration;
      item.value = u32(rng.chance(0.5) ? rng.pick(INTERESTING_U32) : rng.u32());
      break;
    case 'wrong-version-field': {
      // A tag from another protocol version (2.x tags in 1.x messages and the reverse).
      const def = rng.pick(ALL_TAGS.filter((d) => d.since >= '2.0' || d.until !== undefined));
      (parent.value as RawItem[]).push(randomItem(rng, 3, def));
      break;
    }
    default:
      if (!Array.isArray(item.value)) item.value = rng.bytes(rng.int(40));
  }
  return kind;
}

/** One whole frame: its outer length is always right, whatever lies inside. */
export function generateFrame(rng: Rng): GeneratedFrame {
  const root = request(rng);
  const kinds: string[] = [];
  if (rng.chance(0.6)) {
    const n = 1 + rng.int(3);
    for (let i = 0; i < n; i++) kinds.push(mutate(rng, root));
  }
  return { frame: encodeRaw(root), kind: kinds.length === 0 ? 'valid' : kinds.join('+') };
}

/**
 * Bytes that break the framing itself. Sent last on a connection: after them the server may
 * only close the connection (or answer and then close), never hang or crash.
 */
export function brokenFrame(rng: Rng, valid: Buffer): GeneratedFrame {
  switch (rng.int(6)) {
    case 0:
      return { frame: Buffer.from('42007801fffffff8', 'hex'), kind: 'header-4GiB' };
    case 1: {
      const b = Buffer.from('4200780100000000', 'hex');
      b.writeUInt32BE(1024 * 1024 + 8 * (1 + rng.int(4)), 4);
      return { frame: b, kind: 'header-over-cap' };
    }
    case 2:
      return {
        frame: valid.subarray(0, 1 + rng.int(Math.max(1, valid.length - 1))),
        kind: 'truncated-frame',
      };
    case 3: {
      const b = Buffer.from(valid);
      b.writeUInt32BE((b.readUInt32BE(4) + rng.pick([-9, -8, -1, 1, 7, 8])) >>> 0, 4);
      return { frame: b, kind: 'outer-length-off' };
    }
    case 4: {
      const b = Buffer.from(valid);
      b[3] = rng.pick([0, 2, 5, 7, 8, 0x0c, 0xff]);
      return { frame: b, kind: 'outer-type' };
    }
    default:
      return { frame: rng.bytes(1 + rng.int(100)), kind: 'garbage' };
  }
}
