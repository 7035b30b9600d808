// In-memory ObjectStore for tests and ephemeral servers. Objects are deep-copied in and out
// so callers cannot reach stored state. Locate scans every object, which suits its use.

import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import {
  copyObject,
  type IndexEntry,
  type IndexValue,
  type ListWrappedQuery,
  type LocateFilter,
  type LocateQuery,
  type ObjectStore,
  objectAlreadyExists,
  type StoredObject,
  validateListWrapped,
  validateObject,
  validateQuery,
  validateSettingName,
  type WrappedRef,
} from './object-store.js';

/** (kekId, uid) order as UTF-8 bytes, the order the SQL stores use. */
function compareRefs(a: WrappedRef, b: WrappedRef): number {
  return (
    Buffer.compare(Buffer.from(a.kekId), Buffer.from(b.kekId)) ||
    Buffer.compare(Buffer.from(a.uid), Buffer.from(b.uid))
  );
}

function eqValue(a: IndexValue, b: IndexValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return BigInt(a) === BigInt(b);
}

function entryMatches(e: IndexEntry, f: LocateFilter): boolean {
  if (e.name !== f.name) return false;
  if (f.op === 'eq') return eqValue(e.value, f.value);
  if (typeof e.value === 'string') return false;
  const v = BigInt(e.value);
  if (f.min !== undefined && v < BigInt(f.min)) return false;
  if (f.max !== undefined && v > BigInt(f.max)) return false;
  return true;
}

export class MemoryStore implements ObjectStore {
  readonly kind = 'memory';
  /** Map iteration order is insertion order, which Locate returns. */
  private readonly objects = new Map<string, StoredObject>();
  private readonly settings = new Map<string, Buffer>();
  private closed = false;

  private open(): Map<string, StoredObject> {
    if (this.closed) throw new KmipError(ResultReason.GeneralFailure, 'object store is closed');
    return this.objects;
  }

  async insert(obj: StoredObject): Promise<void> {
    const objects = this.open();
    validateObject(obj);
    if (objects.has(obj.uid)) throw objectAlreadyExists(obj.uid);
    objects.set(obj.uid, { ...copyObject(obj), revision: 1 });
  }

  async get(uid: string): Promise<StoredObject | undefined> {
    const found = this.open().get(uid);
    return found && copyObject(found);
  }

  async update(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    const objects = this.open();
    validateObject(obj);
    const cur = objects.get(obj.uid);
    if (!cur || cur.revision !== expectedRevision) return false;
    const next = copyObject(obj);
    cur.state = next.state;
    cur.attributes = next.attributes;
    cur.index = next.index;
    cur.material = next.material;
    cur.revision = expectedRevision + 1;
    return true;
  }

  async replace(obj: StoredObject, expectedRevision: number): Promise<boolean> {
    const objects = this.open();
    validateObject(obj);
    if (objects.get(obj.uid)?.revision !== expectedRevision) return false;
    objects.set(obj.uid, { ...copyObject(obj), revision: expectedRevision + 1 });
    return true;
  }

  async remove(uid: string): Promise<boolean> {
    return this.open().delete(uid);
  }

  async locate(q: LocateQuery): Promise<string[]> {
    validateQuery(q);
    const offset = q.offset ?? 0;
    const end = q.limit === undefined ? Number.POSITIVE_INFINITY : offset + q.limit;
    const out: string[] = [];
    let matched = 0;
    for (const obj of this.matching(q)) {
      if (matched >= end) break;
      if (matched >= offset) out.push(obj.uid);
      matched++;
    }
    return out;
  }

  async countMatches(q: LocateQuery): Promise<number> {
    validateQuery(q);
    let n = 0;
    for (const _ of this.matching(q)) n++;
    return n;
  }

  private *matching(q: LocateQuery): Generator<StoredObject> {
    const all = this.open().values();
    for (const obj of q.newestFirst ? [...all].reverse() : all) {
      if (q.owner !== undefined && obj.owner !== q.owner) continue;
      if (q.filters.every((f) => obj.index.some((e) => entryMatches(e, f)))) yield obj;
    }
  }

  async count(): Promise<number> {
    return this.open().size;
  }

  async listWrapped(q: ListWrappedQuery): Promise<WrappedRef[]> {
    const objects = this.open();
    validateListWrapped(q);
    const refs: WrappedRef[] = [];
    for (const o of objects.values()) {
      if (o.material === null || o.material.kekId === q.exceptKekId) continue;
      const ref = { uid: o.uid, kekId: o.material.kekId };
      if (q.after === undefined || compareRefs(ref, q.after) > 0) refs.push(ref);
    }
    return refs.sort(compareRefs).slice(0, q.limit);
  }

  async getSetting(name: string): Promise<Buffer | undefined> {
    this.open();
    validateSettingName(name);
    const value = this.settings.get(name);
    return value && Buffer.from(value);
  }

  async putSetting(name: string, value: Buffer | undefined): Promise<void> {
    this.open();
    validateSettingName(name);
    if (value === undefined) this.settings.delete(name);
    else this.settings.set(name, Buffer.from(value));
  }

  async settingNames(): Promise<string[]> {
    this.open();
    return [...this.settings.keys()].sort();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function openMemoryStore(): MemoryStore {
  return new MemoryStore();
}
