// The records inside a backup's chunks (container.ts), one per chunk:
//
//   kind u8 | meta length u32 | meta (JSON, UTF-8) | attribute bytes | material bytes
//
// kind 1 is the manifest (first chunk), kind 2 an object, kind 4 a server-wide setting (the
// Set Constraints list: its name in the meta, its stored bytes after), kind 3 the end (last
// chunk, with the numbers of objects and settings written). Record version 1 (before
// settings) is still read. An object's meta keeps what the store keeps: uid, owner,
// object type, state, revision, creation time and the Locate index; its attributes are the
// store's TTLV bytes as they are, and its material is the object structure in clear TTLV
// (the KEK-wrapped form would be useless to a server with another KEK).

import type { IndexEntry } from '../store/object-store.js';
import { backupError } from './container.js';

export const BACKUP_FORMAT = 'kmipd-backup';
export const RECORD_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

const KIND_MANIFEST = 1;
const KIND_OBJECT = 2;
const KIND_END = 3;
const KIND_SETTING = 4;

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  /** Store kind of the source server ('sqlite', 'postgres', ...). */
  source: string;
  /** Objects listed when the export began; the end record has the number written. */
  listed: number;
}

export interface ObjectRecord {
  uid: string;
  owner: string;
  objectType: number;
  state: number;
  revision: number;
  createdAt: number;
  index: IndexEntry[];
  attributes: Buffer;
  /** The object structure in clear TTLV; null for a destroyed object. */
  material: Buffer | null;
}

export type BackupRecord =
  | { kind: 'manifest'; manifest: Manifest }
  | { kind: 'object'; object: ObjectRecord }
  | { kind: 'setting'; name: string; value: Buffer }
  | { kind: 'end'; objects: number; settings: number };

type IndexJson = [string, 'n' | 'b' | 's', string | number];

interface ObjectMeta {
  uid: string;
  owner: string;
  objectType: number;
  state: number;
  revision: number;
  createdAt: number;
  index: IndexJson[];
  attributeBytes: number;
  materialBytes: number | null;
}

function frame(kind: number, meta: unknown, ...blobs: Buffer[]): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const head = Buffer.alloc(5);
  head.writeUInt8(kind, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json, ...blobs]);
}

export function encodeManifest(m: Manifest): Buffer {
  return frame(KIND_MANIFEST, m);
}

export function encodeEnd(objects: number, settings: number): Buffer {
  return frame(KIND_END, { objects, settings });
}

export function encodeSetting(name: string, value: Buffer): Buffer {
  return frame(KIND_SETTING, { name }, value);
}

export function encodeObject(o: ObjectRecord): Buffer {
  const meta: ObjectMeta = {
    uid: o.uid,
    owner: o.owner,
    objectType: o.objectType,
    state: o.state,
    revision: o.revision,
    createdAt: o.createdAt,
    index: o.index.map((e): IndexJson => {
      if (typeof e.value === 'string') return [e.name, 's', e.value];
      if (typeof e.value === 'bigint') return [e.name, 'b', e.value.toString()];
      return [e.name, 'n', e.value];
    }),
    attributeBytes: o.attributes.length,
    materialBytes: o.material === null ? null : o.material.length,
  };
  return frame(KIND_OBJECT, meta, o.attributes, ...(o.material === null ? [] : [o.material]));
}

function bad(index: number, what: string): Error {
  return backupError(`record ${index} of the backup is malformed: ${what}`);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function objectOf(meta: ObjectMeta, rest: Buffer, i: number): ObjectRecord {
  if (typeof meta.uid !== 'string' || meta.uid === '' || typeof meta.owner !== 'string') {
    throw bad(i, 'identifier or owner');
  }
  for (const n of [
    meta.objectType,
    meta.state,
    meta.revision,
    meta.createdAt,
    meta.attributeBytes,
  ]) {
    if (!isInt(n) || n < 0) throw bad(i, 'a number field');
  }
  const m = meta.materialBytes;
  if (m !== null && (!isInt(m) || m < 0)) throw bad(i, 'material length');
  if (meta.attributeBytes + (m ?? 0) !== rest.length) throw bad(i, 'lengths');
  if (!Array.isArray(meta.index)) throw bad(i, 'index');
  const index = meta.index.map(([name, t, v]): IndexEntry => {
    if (typeof name !== 'string') throw bad(i, 'index name');
    if (t === 's' && typeof v === 'string') return { name, value: v };
    if (t === 'b' && typeof v === 'string' && /^-?\d+$/.test(v)) return { name, value: BigInt(v) };
    if (t === 'n' && isInt(v)) return { name, value: v };
    throw bad(i, 'index value');
  });
  return {
    uid: meta.uid,
    owner: meta.owner,
    objectType: meta.objectType,
    state: meta.state,
    revision: meta.revision,
    createdAt: meta.createdAt,
    index,
    attributes: Buffer.from(rest.subarray(0, meta.attributeBytes)),
    material: m === null ? null : Buffer.from(rest.subarray(meta.attributeBytes)),
  };
}

/** Parses the plaintext of chunk `i`; its tag has already been verified. */
export function decodeRecord(plain: Buffer, i: number): BackupRecord {
  if (plain.length < 5) throw bad(i, 'too short');
  const kind = plain.readUInt8(0);
  const len = plain.readUInt32BE(1);
  if (5 + len > plain.length) throw bad(i, 'meta length');
  let meta: unknown;
  try {
    meta = JSON.parse(plain.subarray(5, 5 + len).toString('utf8'));
  } catch {
    throw bad(i, 'meta is not JSON');
  }
  if (typeof meta !== 'object' || meta === null) throw bad(i, 'meta is not an object');
  const rest = plain.subarray(5 + len);
  switch (kind) {
    case KIND_MANIFEST: {
      const m = meta as Manifest;
      if (m.format !== BACKUP_FORMAT) throw bad(i, 'not a kmipd backup manifest');
      if (!READABLE_VERSIONS.includes(m.version)) {
        throw backupError(`kmipd backup record version ${m.version} is not supported`);
      }
      return { kind: 'manifest', manifest: m };
    }
    case KIND_OBJECT:
      return { kind: 'object', object: objectOf(meta as ObjectMeta, rest, i) };
    case KIND_SETTING: {
      const name = (meta as { name?: unknown }).name;
      if (typeof name !== 'string' || name === '') throw bad(i, 'setting name');
      return { kind: 'setting', name, value: Buffer.from(rest) };
    }
    case KIND_END: {
      const { objects, settings = 0 } = meta as { objects?: unknown; settings?: unknown };
      if (!isInt(objects)) throw bad(i, 'object count');
      if (!isInt(settings)) throw bad(i, 'setting count');
      return { kind: 'end', objects, settings };
    }
    default:
      throw bad(i, `unknown kind ${kind}`);
  }
}
