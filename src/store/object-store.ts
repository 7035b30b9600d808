// The storage interface the server depends on. A store knows nothing about TTLV: it keeps
// opaque attribute bytes, wrapped key material and an index of (name, value) pairs that
// Locate filters on. Every implementation passes test/store/object-store.test.ts.

import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';

/** Enumerations, integers and dates as number | bigint; text and hex-encoded bytes as string. */
export type IndexValue = number | bigint | string;

/** `name` is the normalised KMIP attribute name, e.g. 'Name', 'ObjectType', 'x-Custom'. */
export interface IndexEntry {
  name: string;
  value: IndexValue;
}

/** Output of a KeyWrapper: which key-encryption key, which algorithm, and the wrapped bytes. */
export interface WrappedBlob {
  kekId: string;
  algorithm: string;
  blob: Buffer;
}

export interface StoredObject {
  uid: string;
  /** Client identity that created or registered the object. */
  owner: string;
  /** ObjectType enumeration value. */
  objectType: number;
  /** State enumeration value. */
  state: number;
  /** Opaque to the store: the server's TTLV encoding of the attribute set. */
  attributes: Buffer;
  /** What Locate can filter on; kept in order. */
  index: IndexEntry[];
  /** Wrapped key value, secret or opaque data; null once destroyed. */
  material: WrappedBlob | null;
  /** Optimistic concurrency: the store writes 1 on insert and expectedRevision + 1 on update. */
  revision: number;
  /** Milliseconds since the epoch, server clock. */
  createdAt: number;
}

/**
 * `eq` compares numbers numerically (5 matches 5n) and strings exactly; a string never
 * equals a number. `range` bounds are inclusive, either may be omitted, and only numeric
 * entries can match.
 */
export type LocateFilter =
  | { name: string; op: 'eq'; value: IndexValue }
  | { name: string; op: 'range'; min?: number | bigint; max?: number | bigint };

export interface LocateQuery {
  /** Only objects of this owner; undefined means all owners (administrator). */
  owner?: string;
  /** All must match. A filter on a name with several entries matches if any entry does. */
  filters: LocateFilter[];
  offset?: number;
  limit?: number;
  /** Newest (last inserted) first; default oldest first. Offset and limit count in this order. */
  newestFirst?: boolean;
}

/** Where an object's material sits in the (kekId, uid) order that KEK rotation walks. */
export interface WrappedRef {
  uid: string;
  kekId: string;
}

export interface ListWrappedQuery {
  /** Leave out objects wrapped by this key-encryption key (the rotation target). */
  exceptKekId?: string;
  /** Start after this position: the last entry of the previous page. */
  after?: WrappedRef;
  limit: number;
}

export interface ObjectStore {
  readonly kind: 'sqlite' | 'memory' | (string & {});
  /** Fails with KmipError(ObjectAlreadyExists) when the uid is taken. */
  insert(obj: StoredObject): Promise<void>;
  /**
   * With `index: false` the store may leave `index` empty and skip reading it (SQLite does):
   * for a caller that needs no grant entries, never for one that saves the object back.
   */
  get(uid: string, opts?: { index?: boolean }): Promise<StoredObject | undefined>;
  /**
   * Compare-and-swap on `revision`: replaces state, attributes, index and material when the
   * stored revision equals `expectedRevision`; false when it moved or the object is gone.
   * uid, owner, objectType and createdAt never change.
   */
  update(obj: StoredObject, expectedRevision: number): Promise<boolean>;
  /**
   * Swaps the object stored under `obj.uid` at revision `expectedRevision` for `obj` in one
   * atomic write, type, owner and material included (Import with Replace Existing); the new
   * object's revision is `expectedRevision + 1`. False when it moved or the object is gone.
   */
  replace(obj: StoredObject, expectedRevision: number): Promise<boolean>;
  /** Hard delete (batch Undo). */
  remove(uid: string): Promise<boolean>;
  /** Matching uids in insertion order. */
  locate(q: LocateQuery): Promise<string[]>;
  /** How many objects match the query's owner and filters (its offset and limit ignored). */
  countMatches(q: LocateQuery): Promise<number>;
  count(): Promise<number>;
  /**
   * Objects that hold material (destroyed ones do not), ordered by kekId, then uid, both
   * compared as UTF-8 bytes. KEK rotation pages through the objects not yet under the new
   * key with `exceptKekId`; `kek status` counts every page per kekId.
   */
  listWrapped(q: ListWrappedQuery): Promise<WrappedRef[]>;
  /**
   * A server-wide setting by name (the Set Constraints list), opaque bytes; undefined when
   * unset. Every process sharing the store reads the value the last write left.
   */
  getSetting(name: string): Promise<Buffer | undefined>;
  /** Writes a setting, replacing any value; `undefined` removes it. */
  putSetting(name: string, value: Buffer | undefined): Promise<void>;
  /** The names of the settings that have a value, sorted (backups carry them all). */
  settingNames(): Promise<string[]>;
  close(): Promise<void>;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const reasons: Readonly<Record<string, number | undefined>> = ResultReason;

/** Result Reason "Object Already Exists" (0x18), read from the spec table once it lists it. */
/**
 * An object's values in the column order both SQL stores insert them: uid, owner, object_type,
 * state, attributes, material, material_kek_id, material_alg, created_at.
 */
export function objectRow(obj: StoredObject) {
  return [obj.uid, obj.owner, obj.objectType, ...changedColumns(obj), obj.createdAt];
}

/** What an update may change, in column order: state, attributes and the three of material. */
export function changedColumns(obj: StoredObject) {
  const m = obj.material;
  return [obj.state, obj.attributes, m?.blob ?? null, m?.kekId ?? null, m?.algorithm ?? null];
}

export function objectAlreadyExists(uid: string): KmipError {
  return new KmipError(reasons.ObjectAlreadyExists ?? 0x18, `object ${uid} already exists`);
}

function invalid(message: string): KmipError {
  return new KmipError(ResultReason.InvalidField, message);
}

/** Numbers must be safe integers and bigints signed 64-bit, the range of KMIP Long Integer. */
function checkNumeric(v: number | bigint, what: string): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw invalid(`${what} is not a safe integer`);
  } else if (v < INT64_MIN || v > INT64_MAX) {
    throw invalid(`${what} is outside the signed 64-bit range`);
  }
}

function checkCount(v: number | undefined, what: string): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
    throw invalid(`${what} must be a non-negative integer`);
  }
}

/** Shared input validation so every implementation rejects the same objects. */
export function validateObject(obj: StoredObject): void {
  if (obj.uid.length === 0) throw invalid('uid is empty');
  for (const e of obj.index) {
    if (e.name.length === 0) throw invalid('index entry name is empty');
    if (typeof e.value !== 'string') checkNumeric(e.value, `index value of ${e.name}`);
  }
}

/** Longest setting name: names are chosen by the server, never by clients. */
const MAX_SETTING_NAME = 128;

export function validateSettingName(name: string): void {
  if (name.length === 0 || name.length > MAX_SETTING_NAME) {
    throw invalid(`a setting name has 1 to ${MAX_SETTING_NAME} characters`);
  }
}

export function validateListWrapped(q: ListWrappedQuery): void {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1)
    throw invalid('limit must be a positive integer');
}

/**
 * Most filters one query may AND together. SQLite refuses a WHERE clause nested deeper than
 * 1,000 terms ("Expression tree is too large"); the Locate operation allows fewer still.
 */
export const MAX_QUERY_FILTERS = 256;

export function validateQuery(q: LocateQuery): void {
  checkCount(q.offset, 'offset');
  checkCount(q.limit, 'limit');
  if (q.filters.length > MAX_QUERY_FILTERS) {
    throw invalid(`a query may combine at most ${MAX_QUERY_FILTERS} filters`);
  }
  for (const f of q.filters) {
    if (f.op === 'eq') {
      if (typeof f.value !== 'string') checkNumeric(f.value, `filter value of ${f.name}`);
    } else if (f.op === 'range') {
      if (f.min !== undefined) checkNumeric(f.min, `range minimum of ${f.name}`);
      if (f.max !== undefined) checkNumeric(f.max, `range maximum of ${f.name}`);
    } else {
      throw invalid('unknown filter operator');
    }
  }
}

export function copyObject(obj: StoredObject): StoredObject {
  return {
    uid: obj.uid,
    owner: obj.owner,
    objectType: obj.objectType,
    state: obj.state,
    attributes: Buffer.from(obj.attributes),
    index: obj.index.map((e) => ({ name: e.name, value: e.value })),
    material: obj.material && {
      kekId: obj.material.kekId,
      algorithm: obj.material.algorithm,
      blob: Buffer.from(obj.material.blob),
    },
    revision: obj.revision,
    createdAt: obj.createdAt,
  };
}
