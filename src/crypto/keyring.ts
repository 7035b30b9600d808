// The KEK keyring: every key-encryption key version a data directory has had (layout in
// src/kek/layout.ts). New material is wrapped by the current version; a blob is unwrapped
// by the version its kekId names, so objects wrapped before a rotation stay readable while
// `kmipd kek rotate` moves them.
//
// A server notices a rotation made by another process through DATA/keks/current: wrap
// looks at its inode and mtime at most once per check interval and reloads when it moved;
// unwrap of a kekId the keyring does not know reloads once before failing. Versions other
// than the current one are opened on first use, so a retired KEK whose secret is gone (an
// unset variable, a removed token key) costs nothing until an object still needs it.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KmipError } from '../errors.js';
import { DEFAULT_KEK_CHOICE, type KekChoice, specFor } from '../kek/choice.js';
import {
  createDescriptor,
  currentStamp,
  describeSpec,
  initCurrent,
  type KekDescriptor,
  type KekSpec,
  LEGACY_KEK_FILE,
  readCurrent,
  readDescriptors,
} from '../kek/layout.js';
import { type OpenedKek, openKek } from '../kek/open-kek.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { cryptographicFailure, type KeyWrapper, type WrappedBlob } from './key-wrapper.js';

/** The subset of a pino logger the keyring writes to; fields are public (version, kekId). */
export interface KeyringLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface KeyringOptions {
  dataDir: string;
  /** Environment for env, passphrase and PIN variables; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Least time between two looks at DATA/keks/current from wrap; default 1000 ms. */
  checkIntervalMs?: number;
  log?: KeyringLog;
}

export const DEFAULT_CHECK_INTERVAL_MS = 1000;

function keyringError(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

const versionLabel = (d: KekDescriptor) => `KEK version ${d.version} (${describeSpec(d)})`;

interface State {
  versions: KekDescriptor[];
  current: KekDescriptor;
  byKekId: Map<string, KekDescriptor>;
  stamp: string;
}

async function readState(dataDir: string): Promise<State> {
  // The stamp is taken first: a change racing with this read makes the next check reload.
  const stamp = await currentStamp(dataDir);
  const versions = await readDescriptors(dataDir);
  const n = await readCurrent(dataDir);
  if (n === undefined) throw keyringError(`${join(dataDir, 'keks')} has no current KEK version`);
  const current = versions.find((d) => d.version === n);
  if (current === undefined) throw keyringError(`current KEK version ${n} has no descriptor`);
  // Later versions win when two share a key (a token key reused under a new version).
  const byKekId = new Map(versions.map((d) => [d.kekId, d]));
  return { versions, current, byKekId, stamp };
}

export class Keyring implements KeyWrapper {
  readonly dataDir: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #interval: number;
  readonly #log: KeyringLog | undefined;
  #state: State;
  readonly #opened = new Map<number, Promise<OpenedKek>>();
  #lastCheck = Date.now();
  #reloading: Promise<void> | undefined;
  /** The version that last failed to take over, so the failure is logged once. */
  #failedVersion: number | undefined;
  #closed = false;

  private constructor(opts: KeyringOptions, state: State) {
    this.dataDir = opts.dataDir;
    this.#env = opts.env ?? process.env;
    this.#interval = opts.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
    this.#log = opts.log;
    this.#state = state;
  }

  /** Loads DATA/keks and opens the current version; see ensureKeyring for first start. */
  static async open(opts: KeyringOptions): Promise<Keyring> {
    const keyring = new Keyring(opts, await readState(opts.dataDir));
    await keyring.wrapperFor(keyring.current);
    return keyring;
  }

  get kekId(): string {
    return this.#state.current.kekId;
  }

  get current(): KekDescriptor {
    return this.#state.current;
  }

  get versions(): readonly KekDescriptor[] {
    return this.#state.versions;
  }

  /** The version whose key has `kekId`, as last loaded. */
  versionOf(kekId: string): KekDescriptor | undefined {
    return this.#state.byKekId.get(kekId);
  }

  /** Opens (once) the wrapper of a version and checks that its key is the recorded one. */
  wrapperFor(d: KekDescriptor): Promise<KeyWrapper> {
    if (this.#closed) return Promise.reject(cryptographicFailure('the KEK keyring is closed'));
    let p = this.#opened.get(d.version);
    if (p === undefined) {
      p = (async () => {
        const k = await openKek(d, {
          dataDir: this.dataDir,
          create: false,
          env: this.#env,
          label: versionLabel(d),
        });
        if (k.wrapper.kekId !== d.kekId) {
          k.close();
          throw keyringError(
            `${versionLabel(d)} opens a key with id ${k.wrapper.kekId}, but the keyring records ${d.kekId}: the secret changed`,
          );
        }
        return k;
      })();
      this.#opened.set(d.version, p);
      // A failed open is retried on the next use (a variable set, a token plugged in).
      p.catch(() => {
        if (this.#opened.get(d.version) === p) this.#opened.delete(d.version);
      });
    }
    return p.then((k) => k.wrapper);
  }

  async wrap(plain: Buffer, uid: string): Promise<WrappedBlob> {
    await this.#checkCurrent();
    const w = await this.wrapperFor(this.#state.current);
    return w.wrap(plain, uid);
  }

  async unwrap(w: WrappedBlob, uid: string): Promise<Buffer> {
    let d = this.#state.byKekId.get(w.kekId);
    if (d === undefined) {
      await this.reload();
      d = this.#state.byKekId.get(w.kekId);
    }
    if (d === undefined) {
      throw cryptographicFailure(`object ${uid} is wrapped by unknown KEK ${w.kekId}`);
    }
    return (await this.wrapperFor(d)).unwrap(w, uid);
  }

  async #checkCurrent(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastCheck < this.#interval) return;
    this.#lastCheck = now;
    if ((await currentStamp(this.dataDir)) !== this.#state.stamp) await this.reload();
  }

  /**
   * Re-reads DATA/keks. A new current version is opened before it takes over; when that
   * fails the previous one keeps wrapping, the failure is logged, and the next check retries.
   */
  reload(): Promise<void> {
    this.#reloading ??= this.#reload().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  async #reload(): Promise<void> {
    const next = await readState(this.dataDir);
    const before = this.#state.current;
    if (next.current.version !== before.version) {
      try {
        await this.wrapperFor(next.current);
      } catch (err) {
        // The stamp stays stale, so the next check retries.
        this.#state = { ...next, current: before, stamp: 'retry' };
        if (this.#failedVersion !== next.current.version) {
          this.#failedVersion = next.current.version;
          this.#log?.error(
            {
              version: next.current.version,
              kekId: next.current.kekId,
              err: (err as Error).message,
            },
            'cannot open the new current KEK version; still wrapping with the previous one',
          );
        }
        return;
      }
      this.#log?.info(
        { version: next.current.version, kekId: next.current.kekId, kind: next.current.kind },
        'current KEK version changed',
      );
    }
    this.#failedVersion = undefined;
    this.#state = next;
  }

  /** Closes HSM sessions of every opened version. */
  async close(): Promise<void> {
    this.#closed = true;
    const opened = [...this.#opened.values()];
    this.#opened.clear();
    for (const p of opened) {
      try {
        (await p).close();
      } catch {
        // Failed to open in the first place; nothing to release.
      }
    }
  }
}

export interface EnsuredKeyring {
  current: KekDescriptor;
  /** 'existing': DATA/keks was there; 'migrated': DATA/kek.key became version 1. */
  how: 'existing' | 'migrated' | 'created';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Makes sure DATA/keks exists. A data directory from before keyrings has DATA/kek.key, which
 * becomes version 1 as it is; an empty one gets version 1 from `initial` (default: a new
 * software key file). A keyring that exists is left alone and `initial` is not used.
 */
export async function ensureKeyring(opts: {
  dataDir: string;
  initial?: KekChoice;
  env?: NodeJS.ProcessEnv;
}): Promise<EnsuredKeyring> {
  const { dataDir } = opts;
  for (let attempt = 0; attempt < 3; attempt++) {
    const versions = await readDescriptors(dataDir);
    const n = await readCurrent(dataDir);
    if (n !== undefined) {
      const current = versions.find((d) => d.version === n);
      if (current === undefined) throw keyringError(`current KEK version ${n} has no descriptor`);
      return { current, how: 'existing' };
    }
    if (versions.length > 0) {
      // Another starter wrote version 1 and is about to set current; finish its work.
      if (versions.length === 1 && versions[0]!.version === 1) {
        await initCurrent(dataDir, 1);
        continue;
      }
      throw keyringError(
        `${join(dataDir, 'keks')} has versions but no "current" file naming the one in use`,
      );
    }
    const legacy = await exists(join(dataDir, LEGACY_KEK_FILE));
    const spec: KekSpec = legacy
      ? { kind: 'file', keyFile: LEGACY_KEK_FILE }
      : specFor(opts.initial ?? DEFAULT_KEK_CHOICE, 1);
    const k = await openKek(spec, {
      dataDir,
      create: !legacy,
      env: opts.env,
      label: 'KEK version 1',
    });
    const d: KekDescriptor = {
      ...spec,
      version: 1,
      kekId: k.wrapper.kekId,
      createdAt: new Date().toISOString(),
    };
    k.close();
    if (await createDescriptor(dataDir, d)) {
      await initCurrent(dataDir, 1);
      return { current: d, how: legacy ? 'migrated' : 'created' };
    }
  }
  throw keyringError(`could not set up the KEK keyring in ${join(dataDir, 'keks')}`);
}
