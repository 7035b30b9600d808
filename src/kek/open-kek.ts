// Turns a KEK's public description (layout.ts KekSpec) into a KeyWrapper. `create` is for
// adding a version: a missing key file or salt is made, a missing token key is generated.
// Reopening an existing version never creates anything: a new random file where the old
// one went missing would be a different key.

import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KeyWrapper } from '../crypto/key-wrapper.js';
import { openPkcs11KeyWrapper } from '../crypto/pkcs11-key-wrapper.js';
import {
  KEK_BYTES,
  kekFromEnv,
  kekFromPassphrase,
  loadOrCreateKekFile,
  SoftwareKeyWrapper,
} from '../crypto/software-key-wrapper.js';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { dataPath, type KekSpec } from './layout.js';

export interface OpenedKek {
  wrapper: KeyWrapper;
  /** True when this call made the key (file, salt or token key). */
  created: boolean;
  /** Releases HSM sessions; nothing to do for software keys. */
  close(): void;
}

export interface OpenKekOptions {
  dataDir: string;
  create: boolean;
  env?: NodeJS.ProcessEnv;
  /** Names the KEK in errors, e.g. "KEK version 2". */
  label?: string;
}

function kekError(label: string, message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, `${label}: ${message}`);
}

async function missing(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

function software(key: Buffer, created: boolean): OpenedKek {
  try {
    return { wrapper: new SoftwareKeyWrapper(key), created, close() {} };
  } finally {
    key.fill(0);
  }
}

export async function openKek(spec: KekSpec, opts: OpenKekOptions): Promise<OpenedKek> {
  const label = opts.label ?? 'KEK';
  const env = opts.env ?? process.env;
  switch (spec.kind) {
    case 'file': {
      const path = dataPath(opts.dataDir, spec.keyFile);
      if (opts.create) {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        const kek = await loadOrCreateKekFile(path);
        return software(kek.key, kek.created);
      }
      let key: Buffer;
      try {
        key = await readFile(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw kekError(label, `cannot read key file ${path} (${code})`);
      }
      if (key.length !== KEK_BYTES) {
        key.fill(0);
        throw kekError(label, `key file ${path} must hold exactly ${KEK_BYTES} bytes`);
      }
      return software(key, false);
    }
    case 'env': {
      const key = kekFromEnv(spec.envName, env);
      if (key === undefined) throw kekError(label, `environment variable ${spec.envName} is unset`);
      return software(key, false);
    }
    case 'passphrase': {
      const passphrase = env[spec.passphraseEnv];
      if (!passphrase) {
        throw kekError(label, `environment variable ${spec.passphraseEnv} is unset or empty`);
      }
      const saltPath = dataPath(opts.dataDir, spec.saltFile);
      if (opts.create) await mkdir(dirname(saltPath), { recursive: true, mode: 0o700 });
      else if (await missing(saltPath)) throw kekError(label, `salt file ${saltPath} is missing`);
      const { key, createdSalt } = await kekFromPassphrase(passphrase, saltPath, spec.scrypt);
      return software(key, createdSalt);
    }
    case 'pkcs11': {
      const w = await openPkcs11KeyWrapper({
        modulePath: spec.modulePath,
        tokenLabel: spec.tokenLabel,
        slot: spec.slot,
        pinFile: spec.pinFile,
        pinEnv: spec.pinEnv,
        kekLabel: spec.kekLabel,
        createIfMissing: opts.create,
        env,
      });
      return { wrapper: w, created: false, close: () => w.close() };
    }
  }
}
