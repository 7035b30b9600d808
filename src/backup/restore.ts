// `kmipd import FILE`: restores a backup made by `kmipd export`. The whole file is read and
// every chunk authenticated before anything is written, so a tampered or truncated backup
// imports nothing. The second pass re-reads it (authenticating again), wraps each object's
// material under the target's current KEK and inserts it with its uid, owner, state,
// attributes, index and creation time; the revision is brought to the recorded one with
// compare-and-swap updates, since a store writes revision 1 on insert. Should the second
// pass fail, the objects it inserted are removed again. The backup's server-wide settings
// (the Set Constraints list) are written once every object is in; with --merge a setting
// the target already has is kept.

import type { KeyWrapper } from '../crypto/key-wrapper.js';
import { KmipError } from '../errors.js';
import type { ObjectStore, StoredObject } from '../store/object-store.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { type BackupSecret, backupError, readChunks } from './container.js';
import type { BackupProgress } from './export.js';
import { type BackupRecord, decodeRecord, type Manifest, type ObjectRecord } from './records.js';

export interface RestoreSummary {
  manifest: Manifest;
  /** Objects inserted. */
  restored: number;
  /** With --merge: objects left out because their uid is taken in the target. */
  skipped: string[];
  /** Server-wide settings written to the target. */
  settings: number;
  /** With --merge: settings the target already had, kept as they were. */
  keptSettings: string[];
  owners: number;
}

/** Stores that insert many objects in one transaction (SQLite, PostgreSQL). */
interface BatchInsert {
  insertBatch(objs: readonly StoredObject[]): Promise<void>;
}

function hasBatch(s: ObjectStore): s is ObjectStore & BatchInsert {
  return typeof (s as Partial<BatchInsert>).insertBatch === 'function';
}

const BATCH = 200;

async function* records(path: string, secret: BackupSecret): AsyncGenerator<BackupRecord> {
  let seenEnd = false;
  let objects = 0;
  let settings = 0;
  for await (const { index, plain, final } of readChunks(path, secret)) {
    const r = decodeRecord(plain, index);
    plain.fill(0);
    if ((index === 0) !== (r.kind === 'manifest')) {
      throw backupError(`record ${index} of the backup is out of place`);
    }
    if (final !== (r.kind === 'end'))
      throw backupError(`record ${index} of the backup is out of place`);
    if (r.kind === 'object') objects++;
    if (r.kind === 'setting') settings++;
    if (r.kind === 'end') {
      if (r.objects !== objects) {
        throw backupError(`the backup says it holds ${r.objects} objects but has ${objects}`);
      }
      if (r.settings !== settings) {
        throw backupError(`the backup says it holds ${r.settings} settings but has ${settings}`);
      }
      seenEnd = true;
    }
    yield r;
  }
  if (!seenEnd) throw backupError('the backup has no end record: truncated');
}

/** Reads and authenticates the whole backup; answers its manifest and object count. */
export async function verifyBackup(
  path: string,
  secret: BackupSecret,
): Promise<{ manifest: Manifest; objects: number }> {
  let manifest: Manifest | undefined;
  let objects = 0;
  for await (const r of records(path, secret)) {
    if (r.kind === 'manifest') manifest = r.manifest;
    if (r.kind === 'object') {
      objects++;
      r.object.material?.fill(0);
    }
  }
  return { manifest: manifest!, objects };
}

async function toStored(o: ObjectRecord, wrapper: KeyWrapper): Promise<StoredObject> {
  const material = o.material === null ? null : await wrapper.wrap(o.material, o.uid);
  o.material?.fill(0);
  return {
    uid: o.uid,
    owner: o.owner,
    objectType: o.objectType,
    state: o.state,
    attributes: o.attributes,
    index: o.index,
    material,
    revision: 1,
    createdAt: o.createdAt,
  };
}

/** Brings a freshly inserted object (revision 1) to its recorded revision. */
async function setRevision(store: ObjectStore, obj: StoredObject, revision: number) {
  for (let r = 1; r < revision; r++) {
    if (!(await store.update({ ...obj, revision: r + 1 }, r))) {
      throw backupError(`object ${obj.uid} changed while it was being restored`);
    }
  }
}

function isAlreadyExists(err: unknown): boolean {
  const reasons: Readonly<Record<string, number | undefined>> = ResultReason;
  return err instanceof KmipError && err.reason === (reasons.ObjectAlreadyExists ?? 0x18);
}

export async function restoreBackup(opts: {
  path: string;
  store: ObjectStore;
  wrapper: KeyWrapper;
  secret: BackupSecret;
  merge?: boolean;
  progress?: BackupProgress;
}): Promise<RestoreSummary> {
  const { path, store, wrapper, secret, progress } = opts;
  const merge = opts.merge ?? false;
  const verified = await verifyBackup(path, secret);
  if (!merge && (await store.count()) > 0) {
    throw backupError('the target store is not empty: restore into an empty one, or give --merge');
  }
  progress?.total(verified.objects);
  const inserted: string[] = [];
  const skipped: string[] = [];
  const owners = new Set<string>();
  let pending: { obj: StoredObject; revision: number }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    if (hasBatch(store)) await store.insertBatch(batch.map((b) => b.obj));
    else for (const b of batch) await store.insert(b.obj);
    inserted.push(...batch.map((b) => b.obj.uid));
    for (const b of batch) {
      await setRevision(store, b.obj, b.revision);
      progress?.tick();
    }
  };
  const settings: { name: string; value: Buffer }[] = [];
  try {
    for await (const r of records(path, secret)) {
      if (r.kind === 'setting') settings.push(r);
      if (r.kind !== 'object') continue;
      const obj = await toStored(r.object, wrapper);
      owners.add(obj.owner);
      if (merge) {
        // One at a time, so that a taken uid skips one object and not a whole batch.
        try {
          await store.insert(obj);
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          skipped.push(obj.uid);
          progress?.tick();
          continue;
        }
        inserted.push(obj.uid);
        await setRevision(store, obj, r.object.revision);
        progress?.tick();
        continue;
      }
      pending.push({ obj, revision: r.object.revision });
      if (pending.length >= BATCH) await flush();
    }
    await flush();
  } catch (err) {
    for (const uid of inserted) await store.remove(uid).catch(() => false);
    throw err;
  }
  // Settings last: the objects are in, so a failure here leaves no half-restored list.
  const keptSettings: string[] = [];
  for (const { name, value } of settings) {
    if (merge && (await store.getSetting(name)) !== undefined) keptSettings.push(name);
    else await store.putSetting(name, value);
  }
  return {
    manifest: verified.manifest,
    restored: inserted.length,
    skipped,
    settings: settings.length - keptSettings.length,
    keptSettings,
    owners: owners.size,
  };
}
