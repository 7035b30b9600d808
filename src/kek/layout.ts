// The keyring on disk: DATA/keks/NNNN.json describes KEK version NNNN (its kind and the
// non-secret parameters that find it again), DATA/keks/current names the version that wraps
// new material, DATA/keks/rotating marks a rotation that has not finished re-wrapping.
//
// No secret is ever written here: a descriptor names a key file, an environment variable, a
// salt file or a PKCS#11 token and key label, never the key, passphrase or PIN. A descriptor
// is created exclusively (temporary file hard-linked into place), so two processes adding a
// version cannot both claim one number; `current` and `rotating` are replaced by rename, so
// a reader sees the old or the new content, never a partial one.

import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { ScryptCost } from '../crypto/software-key-wrapper.js';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';

export const KEKS_DIR = 'keks';
export const CURRENT_FILE = 'current';
export const ROTATING_FILE = 'rotating';
/** The software KEK a data directory had before keyrings; it becomes version 1. */
export const LEGACY_KEK_FILE = 'kek.key';

/** How to find a KEK again; every field is public. Relative paths are under the data dir. */
export type KekSpec =
  | { kind: 'file'; keyFile: string }
  | { kind: 'env'; envName: string }
  | { kind: 'passphrase'; passphraseEnv: string; saltFile: string; scrypt: ScryptCost }
  | {
      kind: 'pkcs11';
      modulePath: string;
      tokenLabel?: string;
      slot?: number;
      pinFile?: string;
      pinEnv?: string;
      kekLabel: string;
    };

export type KekKind = KekSpec['kind'];

export type KekDescriptor = KekSpec & {
  version: number;
  /** The KeyWrapper's kekId, recorded so a changed secret is caught instead of used. */
  kekId: string;
  /** ISO 8601 time the version was added. */
  createdAt: string;
};

function layoutError(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

export const keksDir = (dataDir: string) => join(dataDir, KEKS_DIR);

/** NNNN.json, at least four digits. */
export function descriptorName(version: number): string {
  return `${String(version).padStart(4, '0')}.json`;
}

/** Where a new software KEK file or passphrase salt of `version` goes, relative to DATA. */
export function versionFile(version: number, ext: 'key' | 'salt'): string {
  return join(KEKS_DIR, `${String(version).padStart(4, '0')}.${ext}`);
}

/** A path from a descriptor: absolute as given, relative under the data directory. */
export function dataPath(dataDir: string, path: string): string {
  return isAbsolute(path) ? path : join(dataDir, path);
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const optStr = (v: unknown) => v === undefined || str(v);

/** Checks a parsed descriptor's shape; the keyring trusts nothing it did not check. */
function checkDescriptor(d: Record<string, unknown>, file: string): KekDescriptor {
  const bad = (why: string) => layoutError(`KEK descriptor ${file} is invalid: ${why}`);
  if (!Number.isSafeInteger(d.version) || (d.version as number) < 1) throw bad('version');
  if (!str(d.kekId) || !/^[0-9a-f]{16}$/.test(d.kekId)) throw bad('kekId');
  if (!str(d.createdAt)) throw bad('createdAt');
  switch (d.kind) {
    case 'file':
      if (!str(d.keyFile)) throw bad('keyFile');
      break;
    case 'env':
      if (!str(d.envName)) throw bad('envName');
      break;
    case 'passphrase': {
      const c = d.scrypt as Partial<ScryptCost> | undefined;
      if (!str(d.passphraseEnv) || !str(d.saltFile)) throw bad('passphraseEnv or saltFile');
      if (!c || ![c.N, c.r, c.p].every((x) => Number.isSafeInteger(x))) throw bad('scrypt');
      break;
    }
    case 'pkcs11':
      if (!str(d.modulePath) || !str(d.kekLabel)) throw bad('modulePath or kekLabel');
      if (!optStr(d.tokenLabel) || !optStr(d.pinFile) || !optStr(d.pinEnv)) throw bad('token');
      if (d.slot !== undefined && !Number.isSafeInteger(d.slot)) throw bad('slot');
      break;
    default:
      throw bad('kind');
  }
  return d as unknown as KekDescriptor;
}

/** Every KEK version, in version order; [] when the data directory has no keyring. */
export async function readDescriptors(dataDir: string): Promise<KekDescriptor[]> {
  let names: string[];
  try {
    names = await readdir(keksDir(dataDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: KekDescriptor[] = [];
  for (const name of names) {
    const m = /^(\d+)\.json$/.exec(name);
    if (!m) continue;
    const file = join(KEKS_DIR, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(join(dataDir, file), 'utf8'));
    } catch {
      throw layoutError(`KEK descriptor ${file} is not valid JSON`);
    }
    const d = checkDescriptor((parsed ?? {}) as Record<string, unknown>, file);
    if (d.version !== Number(m[1]))
      throw layoutError(`KEK descriptor ${file} names another version`);
    out.push(d);
  }
  return out.sort((a, b) => a.version - b.version);
}

async function readNumberFile(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < 1) throw layoutError(`${path} does not hold a version`);
  return n;
}

export const readCurrent = (dataDir: string) =>
  readNumberFile(join(keksDir(dataDir), CURRENT_FILE));
export const readRotating = (dataDir: string) =>
  readNumberFile(join(keksDir(dataDir), ROTATING_FILE));

/** Identity of `current` as it is now: a rename gives a new inode, an edit a new mtime. */
export async function currentStamp(dataDir: string): Promise<string> {
  try {
    const s = await stat(join(keksDir(dataDir), CURRENT_FILE));
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
}

async function writeTemp(dir: string, name: string, text: string): Promise<string> {
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/** Creates `name` in DATA/keks with `text` unless it exists; true when this call made it. */
async function createExclusive(dataDir: string, name: string, text: string): Promise<boolean> {
  const dir = keksDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = await writeTemp(dir, name, text);
  try {
    await link(tmp, join(dir, name));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp);
  }
}

async function replaceFile(dataDir: string, name: string, text: string): Promise<void> {
  const dir = keksDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = await writeTemp(dir, name, text);
  await rename(tmp, join(dir, name));
}

/** Writes NNNN.json; false when that version exists already. */
export function createDescriptor(dataDir: string, d: KekDescriptor): Promise<boolean> {
  return createExclusive(dataDir, descriptorName(d.version), `${JSON.stringify(d, null, 2)}\n`);
}

/** Sets `current` only when no keyring has one yet (first start); false when one exists. */
export function initCurrent(dataDir: string, version: number): Promise<boolean> {
  return createExclusive(dataDir, CURRENT_FILE, `${version}\n`);
}

export function writeCurrent(dataDir: string, version: number): Promise<void> {
  return replaceFile(dataDir, CURRENT_FILE, `${version}\n`);
}

export function writeRotating(dataDir: string, version: number): Promise<void> {
  return replaceFile(dataDir, ROTATING_FILE, `${version}\n`);
}

export async function clearRotating(dataDir: string): Promise<void> {
  try {
    await unlink(join(keksDir(dataDir), ROTATING_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** A short public description of where a KEK lives, for logs and `kek status`. */
export function describeSpec(s: KekSpec): string {
  switch (s.kind) {
    case 'file':
      return `file ${s.keyFile}`;
    case 'env':
      return `environment variable ${s.envName}`;
    case 'passphrase':
      return `passphrase from ${s.passphraseEnv}, salt ${s.saltFile}`;
    case 'pkcs11': {
      const token = s.tokenLabel !== undefined ? `token "${s.tokenLabel}"` : `slot ${s.slot}`;
      return `PKCS#11 ${token}, key "${s.kekLabel}"`;
    }
  }
}
