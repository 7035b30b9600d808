// Online KEK rotation: add a KEK version, make it current, then re-wrap every object still
// under an older version, one compare-and-swap per object, while servers keep serving.
//
// Order on disk: the new descriptor, then DATA/keks/rotating (the version being rotated
// to), then DATA/keks/current. A rotation killed at any point is finished by running it
// again: `rotating` present means "continue with the current version", never "add one
// more". `rotating` is removed only after a sweep that finds nothing left to re-wrap.
//
// A server sees the new `current` within its check interval (one second), so for a moment
// it may still wrap new objects with the old KEK. After re-wrapping, the rotation waits a
// grace period longer than that interval and sweeps again, until a sweep finds nothing.
//
// Each object: read, unwrap with the version its blob names, wrap with the target (uid as
// associated data, as the repository does), and update with the revision read. A lost
// compare-and-swap (the server changed the object meanwhile) re-reads and tries again; the
// server's own concurrent change may likewise fail once with "changed concurrently; retry".

import { setTimeout as sleep } from 'node:timers/promises';
import { ensureKeyring, Keyring } from '../crypto/keyring.js';
import { KmipError } from '../errors.js';
import type { ObjectStore, WrappedRef } from '../store/object-store.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { DEFAULT_KEK_CHOICE, type KekChoice, specFor } from './choice.js';
import {
  clearRotating,
  createDescriptor,
  type KekDescriptor,
  readCurrent,
  readDescriptors,
  readRotating,
  writeCurrent,
  writeRotating,
} from './layout.js';
import { openKek } from './open-kek.js';

export const DEFAULT_BATCH = 500;
/** Longer than the servers' check interval of DATA/keks/current (1 s), with margin. */
export const DEFAULT_GRACE_MS = 2500;
/** Lost compare-and-swaps on one object before it is reported as failed. */
const MAX_ATTEMPTS = 20;
/**
 * Sweeps before giving up on objects that keep arriving under older versions: a server
 * that cannot open the new KEK keeps wrapping with the old one and would never let a
 * rotation settle.
 */
const MAX_SWEEPS = 6;

function rotateError(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

/** Adds the next KEK version (creating its key) without making it current. */
export async function addKekVersion(opts: {
  dataDir: string;
  choice: KekChoice;
  env?: NodeJS.ProcessEnv;
}): Promise<KekDescriptor> {
  const versions = await readDescriptors(opts.dataDir);
  const n = await readCurrent(opts.dataDir);
  const current = versions.find((d) => d.version === n);
  if (current === undefined) throw rotateError('the data directory has no current KEK version');
  const version = (versions.at(-1)?.version ?? 0) + 1;
  const spec = specFor(opts.choice, version);
  const k = await openKek(spec, {
    dataDir: opts.dataDir,
    create: true,
    env: opts.env,
    label: `new KEK version ${version}`,
  });
  const kekId = k.wrapper.kekId;
  k.close();
  if (kekId === current.kekId) {
    throw rotateError(
      `the new KEK is the key of the current version ${current.version} (${kekId}); nothing to rotate to`,
    );
  }
  const d: KekDescriptor = { ...spec, version, kekId, createdAt: new Date().toISOString() };
  if (!(await createDescriptor(opts.dataDir, d))) {
    throw rotateError(`KEK version ${version} was added by another process at the same time`);
  }
  return d;
}

export interface RewrapProgress {
  /** Objects known to need re-wrapping; grows if servers add some during the rotation. */
  total(n: number): void;
  /** One object handled (re-wrapped, gone, or failed). */
  tick(): void;
}

export interface RewrapOptions {
  store: ObjectStore;
  keyring: Keyring;
  target: KekDescriptor;
  batch?: number;
  graceMs?: number;
  /** Stop after re-wrapping this many objects, as if killed (tests of resumption). */
  stopAfter?: number;
  progress?: RewrapProgress;
}

export interface RewrapSummary {
  rewrapped: number;
  /** Lost compare-and-swaps that were retried. */
  conflicts: number;
  /** Destroyed or deleted, or moved to the target by someone else, before their turn. */
  skipped: number;
  failed: { uid: string; reason: string }[];
  sweeps: number;
  /** stopAfter was reached. */
  interrupted: boolean;
  /** The last sweep still found new objects under older versions (see MAX_SWEEPS). */
  unsettled: boolean;
}

/** Objects not wrapped by `kekId`, counted a page at a time. */
export async function countNotWrappedBy(store: ObjectStore, kekId: string): Promise<number> {
  let n = 0;
  let after: WrappedRef | undefined;
  for (;;) {
    const page = await store.listWrapped({ exceptKekId: kekId, after, limit: 10_000 });
    if (page.length === 0) return n;
    n += page.length;
    after = page.at(-1);
  }
}

type Outcome = 'rewrapped' | 'skipped';

async function rewrapOne(
  o: RewrapOptions,
  target: Awaited<ReturnType<Keyring['wrapperFor']>>,
  uid: string,
  s: RewrapSummary,
): Promise<Outcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const obj = await o.store.get(uid);
    if (obj?.material == null || obj.material.kekId === o.target.kekId) return 'skipped';
    const plain = await o.keyring.unwrap(obj.material, uid);
    let material: Awaited<ReturnType<typeof target.wrap>>;
    try {
      material = await target.wrap(plain, uid);
    } finally {
      plain.fill(0);
    }
    if (await o.store.update({ ...obj, material }, obj.revision)) return 'rewrapped';
    s.conflicts++;
  }
  throw rotateError(`object ${uid} changed concurrently ${MAX_ATTEMPTS} times`);
}

/** Re-wraps every object not under `target` with it; see the file comment for sweeps. */
export async function rewrapAll(o: RewrapOptions): Promise<RewrapSummary> {
  const s: RewrapSummary = {
    rewrapped: 0,
    conflicts: 0,
    skipped: 0,
    failed: [],
    sweeps: 0,
    interrupted: false,
    unsettled: false,
  };
  const batch = o.batch ?? DEFAULT_BATCH;
  const grace = o.graceMs ?? DEFAULT_GRACE_MS;
  const wrapper = await o.keyring.wrapperFor(o.target);
  const failed = new Set<string>();
  let total = await countNotWrappedBy(o.store, o.target.kekId);
  let handled = 0;
  o.progress?.total(total);
  for (;;) {
    s.sweeps++;
    let moved = 0;
    let after: WrappedRef | undefined;
    for (;;) {
      const page = await o.store.listWrapped({ exceptKekId: o.target.kekId, after, limit: batch });
      if (page.length === 0) break;
      after = page.at(-1);
      for (const ref of page) {
        if (failed.has(ref.uid)) continue;
        if (o.stopAfter !== undefined && s.rewrapped >= o.stopAfter) {
          s.interrupted = true;
          return s;
        }
        try {
          if ((await rewrapOne(o, wrapper, ref.uid, s)) === 'rewrapped') {
            s.rewrapped++;
            moved++;
          } else s.skipped++;
        } catch (err) {
          failed.add(ref.uid);
          const reason = err instanceof KmipError ? err.message : 'unexpected error';
          s.failed.push({ uid: ref.uid, reason });
        }
        handled++;
        if (handled > total) {
          total = handled;
          o.progress?.total(total);
        }
        o.progress?.tick();
      }
    }
    if (moved === 0 && (s.sweeps > 1 || grace === 0)) return s;
    if (s.sweeps >= MAX_SWEEPS) {
      s.unsettled = true;
      return s;
    }
    if (grace > 0) await sleep(grace);
  }
}

export interface RotateOptions {
  dataDir: string;
  store: ObjectStore;
  /** The new KEK; default a new software key file. Not used when resuming. */
  choice?: KekChoice;
  /** Only finish re-wrapping under the current version; never add one. */
  resume?: boolean;
  env?: NodeJS.ProcessEnv;
  batch?: number;
  graceMs?: number;
  stopAfter?: number;
  progress?: RewrapProgress;
  /** Told which version the rotation goes to, before re-wrapping starts. */
  onTarget?(target: KekDescriptor, how: 'added' | 'resumed'): void;
}

export interface RotateResult {
  target: KekDescriptor;
  how: 'added' | 'resumed';
  /** The rotation is finished: nothing failed and it was not stopped. */
  complete: boolean;
  summary: RewrapSummary;
}

export async function rotateKek(o: RotateOptions): Promise<RotateResult> {
  const { dataDir } = o;
  await ensureKeyring({ dataDir, env: o.env });
  const rotating = await readRotating(dataDir);
  let how: RotateResult['how'];
  if (o.resume || rotating !== undefined) {
    how = 'resumed';
    // Killed between writing `rotating` and `current`: the new version takes over now.
    const current = await readCurrent(dataDir);
    if (rotating !== undefined && rotating !== current) {
      const versions = await readDescriptors(dataDir);
      if (versions.some((d) => d.version === rotating)) await writeCurrent(dataDir, rotating);
    }
  } else {
    how = 'added';
    const d = await addKekVersion({ dataDir, choice: o.choice ?? DEFAULT_KEK_CHOICE, env: o.env });
    await writeRotating(dataDir, d.version);
    await writeCurrent(dataDir, d.version);
  }
  const keyring = await Keyring.open({ dataDir, env: o.env });
  try {
    const target = keyring.current;
    if (how === 'resumed') await writeRotating(dataDir, target.version);
    o.onTarget?.(target, how);
    const summary = await rewrapAll({
      store: o.store,
      keyring,
      target,
      batch: o.batch,
      graceMs: o.graceMs,
      stopAfter: o.stopAfter,
      progress: o.progress,
    });
    const complete = !summary.interrupted && !summary.unsettled && summary.failed.length === 0;
    if (complete) await clearRotating(dataDir);
    return { target, how, complete, summary };
  } finally {
    await keyring.close();
  }
}

export interface KekVersionStatus {
  descriptor: KekDescriptor;
  current: boolean;
  objects: number;
}

export interface KekStatus {
  versions: KekVersionStatus[];
  /** Objects whose kekId no version has (a keyring from another data directory?). */
  unknown: { kekId: string; objects: number }[];
  /** The version an unfinished rotation goes to. */
  rotating?: number;
  objects: number;
}

/** Versions, the current one, and how many objects each wraps (a walk over all objects). */
export async function kekStatus(dataDir: string, store: ObjectStore): Promise<KekStatus> {
  const versions = await readDescriptors(dataDir);
  if (versions.length === 0) throw rotateError(`${dataDir} has no KEK keyring yet`);
  const current = await readCurrent(dataDir);
  const counts = new Map<string, number>();
  let after: WrappedRef | undefined;
  let objects = 0;
  for (;;) {
    const page = await store.listWrapped({ after, limit: 10_000 });
    if (page.length === 0) break;
    for (const r of page) counts.set(r.kekId, (counts.get(r.kekId) ?? 0) + 1);
    objects += page.length;
    after = page.at(-1);
  }
  // Several versions may share a key; the objects are counted under the newest.
  const owner = new Map(versions.map((d) => [d.kekId, d.version]));
  return {
    versions: versions.map((d) => ({
      descriptor: d,
      current: d.version === current,
      objects: owner.get(d.kekId) === d.version ? (counts.get(d.kekId) ?? 0) : 0,
    })),
    unknown: [...counts]
      .filter(([kekId]) => !owner.has(kekId))
      .map(([kekId, n]) => ({ kekId, objects: n })),
    rotating: await readRotating(dataDir),
    objects,
  };
}
