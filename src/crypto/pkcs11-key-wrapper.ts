// PKCS#11 key wrapper: the key-encryption key is a token object inside an HSM and never
// leaves it; wrap and unwrap are C_Encrypt and C_Decrypt under that key.
//
// Mechanism: CKM_AES_GCM (PKCS#11 2.40 §2.12.5, NIST SP 800-38D) under an AES-256 token key,
// 12-byte IV from the token's C_GenerateRandom, 128-bit tag, the object's unique identifier
// as associated data. Blob = iv (12) | ciphertext | tag (16), the software wrapper's layout,
// under its own algorithm name so a blob always says where its key lives. Random 96-bit IVs
// keep one KEK within NIST's 2^32 invocations per key.
//
// The KEK is found by label (CKO_SECRET_KEY, CKA_TOKEN) and must be AES-256, sensitive and
// non-extractable, with CKA_ENCRYPT and CKA_DECRYPT; `createIfMissing` generates it with
// those attributes and a random CKA_ID. Creation is not atomic across processes: two
// starters racing on an empty token can make two keys, and the next start then refuses the
// ambiguous label rather than guess.
//
// pkcs11js calls are synchronous: each blocks the event loop for one HSM round trip
// (microseconds for SoftHSM). PKCS#11 sessions must not be used from two threads at once;
// with synchronous calls on Node's single thread no two operations interleave, so one
// operation session per wrapper suffices. A local or network HSM with slow round trips would
// want the binding's *Async calls over a pool of sessions instead.
//
// Over 400 lines in one file because the module registry, login bookkeeping and key lookup
// are private to this wrapper and share its invariants; nothing else uses PKCS#11.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Handle, PKCS11 } from 'pkcs11js';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { cryptographicFailure, type KeyWrapper, type WrappedBlob } from './key-wrapper.js';

export const PKCS11_WRAP_ALGORITHM = 'PKCS11-AES-256-GCM';

const GCM_IV = 12;
const GCM_TAG = 16;
const KEK_BYTES = 32;
const KEK_ID_LABEL = 'kmipd pkcs11 key-encryption key identifier v1';

type Pkcs11Js = typeof import('pkcs11js');

export interface Pkcs11KeyWrapperOptions {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  modulePath: string;
  /** Token to use, by label; give this or `slot`. */
  tokenLabel?: string;
  /** Token to use, by slot ID (as pkcs11-tool --slot prints it); give this or `tokenLabel`. */
  slot?: number;
  /** User PIN: exactly one of `pin`, `pinFile` (trailing newline ignored), `pinEnv`. */
  pin?: string;
  pinFile?: string;
  /** Name of the environment variable holding the PIN. */
  pinEnv?: string;
  /** CKA_LABEL of the key-encryption key. */
  kekLabel: string;
  /** Generate the KEK on the token when no key carries `kekLabel`. */
  createIfMissing?: boolean;
  /** Environment for `pinEnv`; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

function configError(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

/** The CKR_* name of a binding error, never its native stack or arguments. */
function ckr(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && /^CKR_[A-Z0-9_]+$/.test(message)) return message;
  return 'unexpected error from the PKCS#11 binding';
}

function p11Failure(what: string, err: unknown): KmipError {
  return cryptographicFailure(`PKCS#11 ${what} failed: ${ckr(err)}`);
}

/** CK_ULONG attribute value: native width and byte order (little-endian on our targets). */
function ulong(value: Buffer | undefined): number {
  if (value === undefined || value.length === 0) return Number.NaN;
  if (value.length >= 8) return Number(value.readBigUInt64LE(0));
  return value.readUIntLE(0, Math.min(value.length, 6));
}

const bool = (value: Buffer | undefined) =>
  value !== undefined && value.length > 0 && value[0] !== 0;

/**
 * One loaded module per path and process: C_Initialize and C_Finalize are process-wide, and
 * login state is per token for the whole application, shared by every session.
 */
interface LoadedModule {
  lib: PKCS11;
  refs: number;
  /** False when someone else in the process had initialised the module before us. */
  ownsInit: boolean;
  /** Per slot: how many wrappers hold sessions, and a keyed digest of the PIN that logged in. */
  logins: Map<string, { refs: number; pinDigest: Buffer }>;
}
const modules = new Map<string, LoadedModule>();
/** Per-process key for PIN digests, so a second login can be checked without keeping the PIN. */
const PIN_DIGEST_KEY = randomBytes(32);
const pinDigest = (pin: string) => createHmac('sha256', PIN_DIGEST_KEY).update(pin).digest();

async function acquireModule(p11: Pkcs11Js, modulePath: string): Promise<LoadedModule> {
  const loaded = modules.get(modulePath);
  if (loaded) {
    loaded.refs++;
    return loaded;
  }
  const lib = new p11.PKCS11();
  try {
    lib.load(modulePath);
  } catch {
    throw configError(`cannot load PKCS#11 module ${modulePath}`);
  }
  let ownsInit = true;
  try {
    lib.C_Initialize();
  } catch (err) {
    if (ckr(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      lib.close();
      throw configError(`PKCS#11 module ${modulePath} failed to initialise: ${ckr(err)}`);
    }
    ownsInit = false;
  }
  const mod: LoadedModule = { lib, refs: 1, ownsInit, logins: new Map() };
  modules.set(modulePath, mod);
  return mod;
}

function releaseModule(modulePath: string, mod: LoadedModule): void {
  if (--mod.refs > 0) return;
  modules.delete(modulePath);
  try {
    if (mod.ownsInit) mod.lib.C_Finalize();
  } finally {
    mod.lib.close();
  }
}

async function readPin(opts: Pkcs11KeyWrapperOptions): Promise<string> {
  const given = [opts.pin, opts.pinFile, opts.pinEnv].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw configError('PKCS#11 key wrapper needs exactly one of pin, pinFile, pinEnv');
  let pin: string | undefined;
  if (opts.pin !== undefined) pin = opts.pin;
  else if (opts.pinFile !== undefined) {
    try {
      pin = (await readFile(opts.pinFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw configError(`cannot read PKCS#11 PIN file ${opts.pinFile} (${code})`);
    }
  } else if (opts.pinEnv !== undefined) {
    pin = (opts.env ?? process.env)[opts.pinEnv];
    if (pin === undefined) throw configError(`environment variable ${opts.pinEnv} is unset`);
  }
  if (!pin) throw configError('PKCS#11 PIN is empty');
  return pin;
}

function findSlot(lib: PKCS11, opts: Pkcs11KeyWrapperOptions): { slot: Handle; label: string } {
  if ((opts.tokenLabel === undefined) === (opts.slot === undefined)) {
    throw configError('PKCS#11 key wrapper needs exactly one of tokenLabel, slot');
  }
  let slots: Handle[];
  try {
    slots = lib.C_GetSlotList(true);
  } catch (err) {
    throw configError(`PKCS#11 C_GetSlotList failed: ${ckr(err)}`);
  }
  const tokens = slots.map((slot) => {
    try {
      return { slot, label: lib.C_GetTokenInfo(slot).label.trimEnd() };
    } catch {
      return { slot, label: '' };
    }
  });
  const match =
    opts.slot !== undefined
      ? tokens.filter((t) => ulong(t.slot) === opts.slot)
      : tokens.filter((t) => t.label !== '' && t.label === opts.tokenLabel);
  const wanted = opts.slot !== undefined ? `slot ${opts.slot}` : `token "${opts.tokenLabel}"`;
  if (match.length === 0) {
    const present = tokens
      .filter((t) => t.label !== '')
      .map((t) => `"${t.label}" (slot ${ulong(t.slot)})`);
    throw configError(
      `PKCS#11 ${wanted} not found; tokens present: ${present.join(', ') || 'none'}`,
    );
  }
  if (match.length > 1) throw configError(`PKCS#11 ${wanted} matches ${match.length} tokens`);
  return match[0]!;
}

function login(
  mod: LoadedModule,
  p11: Pkcs11Js,
  session: Handle,
  slotKey: string,
  pin: string,
  label: string,
) {
  const digest = pinDigest(pin);
  const state = mod.logins.get(slotKey);
  try {
    mod.lib.C_Login(session, p11.CKU_USER, pin);
  } catch (err) {
    const code = ckr(err);
    if (code === 'CKR_USER_ALREADY_LOGGED_IN') {
      // Login is per application and token: another wrapper here is logged in already and
      // the token did not check this PIN, so compare it with the one that did log in. A
      // login made by other code in this process (no state) cannot be checked.
      if (state && !state.pinDigest.equals(digest)) {
        throw configError(
          `PKCS#11 login to token "${label}" failed: the PIN differs from the one already logged in`,
        );
      }
    } else if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LEN_RANGE') {
      throw configError(`PKCS#11 login to token "${label}" failed: the PIN is incorrect (${code})`);
    } else if (code === 'CKR_PIN_LOCKED') {
      throw configError(
        `PKCS#11 login to token "${label}" failed: the user PIN is locked (${code})`,
      );
    } else {
      throw configError(`PKCS#11 login to token "${label}" failed: ${code}`);
    }
  }
  if (state) state.refs++;
  else mod.logins.set(slotKey, { refs: 1, pinDigest: digest });
}

interface KekInfo {
  handle: Handle;
  id: Buffer;
  checkValue: Buffer;
}

function generateKek(p11: Pkcs11Js, lib: PKCS11, session: Handle, label: string): Handle {
  try {
    return lib.C_GenerateKey(session, { mechanism: p11.CKM_AES_KEY_GEN }, [
      { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
      { type: p11.CKA_KEY_TYPE, value: p11.CKK_AES },
      { type: p11.CKA_VALUE_LEN, value: KEK_BYTES },
      { type: p11.CKA_TOKEN, value: true },
      { type: p11.CKA_PRIVATE, value: true },
      { type: p11.CKA_SENSITIVE, value: true },
      { type: p11.CKA_EXTRACTABLE, value: false },
      { type: p11.CKA_ENCRYPT, value: true },
      { type: p11.CKA_DECRYPT, value: true },
      { type: p11.CKA_WRAP, value: false },
      { type: p11.CKA_UNWRAP, value: false },
      { type: p11.CKA_SIGN, value: false },
      { type: p11.CKA_VERIFY, value: false },
      { type: p11.CKA_DERIVE, value: false },
      { type: p11.CKA_LABEL, value: label },
      { type: p11.CKA_ID, value: randomBytes(16) },
    ]);
  } catch (err) {
    throw configError(`PKCS#11 generation of key-encryption key "${label}" failed: ${ckr(err)}`);
  }
}

function findKek(
  p11: Pkcs11Js,
  lib: PKCS11,
  session: Handle,
  label: string,
  createIfMissing: boolean,
): KekInfo {
  let found: Handle[];
  try {
    lib.C_FindObjectsInit(session, [
      { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
      { type: p11.CKA_TOKEN, value: true },
      { type: p11.CKA_LABEL, value: label },
    ]);
    try {
      found = lib.C_FindObjects(session, 2);
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  } catch (err) {
    throw configError(`PKCS#11 search for key-encryption key "${label}" failed: ${ckr(err)}`);
  }
  if (found.length > 1) {
    throw configError(`more than one secret key on the token is labelled "${label}"`);
  }
  let handle = found[0];
  if (handle === undefined) {
    if (!createIfMissing) {
      throw configError(`no key-encryption key labelled "${label}" on the token`);
    }
    handle = generateKek(p11, lib, session, label);
  }
  const attr = (type: number): Buffer | undefined => {
    try {
      return lib.C_GetAttributeValue(session, handle, [{ type }])[0]?.value as Buffer | undefined;
    } catch {
      return undefined;
    }
  };
  const refuse = (why: string) => configError(`key-encryption key "${label}" is unusable: ${why}`);
  if (ulong(attr(p11.CKA_KEY_TYPE)) !== p11.CKK_AES) throw refuse('not an AES key');
  if (ulong(attr(p11.CKA_VALUE_LEN)) !== KEK_BYTES) throw refuse('not 256 bits long');
  if (!bool(attr(p11.CKA_SENSITIVE))) throw refuse('CKA_SENSITIVE is false');
  if (bool(attr(p11.CKA_EXTRACTABLE))) throw refuse('CKA_EXTRACTABLE is true');
  if (!bool(attr(p11.CKA_ENCRYPT)) || !bool(attr(p11.CKA_DECRYPT))) {
    throw refuse('CKA_ENCRYPT and CKA_DECRYPT must both be true');
  }
  // CKA_CHECK_VALUE (PKCS#11 2.40 §4.10) is public by design; some tokens lack it.
  return {
    handle,
    id: attr(p11.CKA_ID) ?? Buffer.alloc(0),
    checkValue: attr(p11.CKA_CHECK_VALUE) ?? Buffer.alloc(0),
  };
}

/** First 8 bytes of SHA-256 over the KEK's public attributes, hex. */
function deriveKekId(label: string, kek: KekInfo): string {
  const h = createHash('sha256').update(KEK_ID_LABEL);
  for (const part of [Buffer.from(label, 'utf8'), kek.id, kek.checkValue]) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(part.length);
    h.update(len).update(part);
  }
  return h.digest().subarray(0, 8).toString('hex');
}

/**
 * C_Decrypt errors that mean "does not authenticate". SoftHSM2 2.6 answers a GCM tag
 * mismatch with CKR_GENERAL_ERROR (its OpenSSL final step fails); PKCS#11 3.0 tokens use
 * CKR_AEAD_DECRYPT_FAILED, others CKR_ENCRYPTED_DATA_INVALID.
 */
const AUTH_FAILURES = new Set([
  'CKR_GENERAL_ERROR',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
  'CKR_AEAD_DECRYPT_FAILED',
]);

export class Pkcs11KeyWrapper implements KeyWrapper {
  readonly kekId: string;
  readonly algorithm = PKCS11_WRAP_ALGORITHM;
  readonly kekLabel: string;
  readonly #p11: Pkcs11Js;
  readonly #modulePath: string;
  readonly #mod: LoadedModule;
  readonly #slot: Handle;
  readonly #slotKey: string;
  readonly #kek: Handle;
  /** Holds the login for as long as the wrapper is open; never used for operations. */
  #anchor: Handle | null;
  /** Operation session; replaced after any failure, which may leave an operation active. */
  #session: Handle | null = null;
  #closed = false;

  private constructor(init: {
    p11: Pkcs11Js;
    modulePath: string;
    mod: LoadedModule;
    slot: Handle;
    anchor: Handle;
    kek: KekInfo;
    kekLabel: string;
  }) {
    this.#p11 = init.p11;
    this.#modulePath = init.modulePath;
    this.#mod = init.mod;
    this.#slot = init.slot;
    this.#slotKey = init.slot.toString('hex');
    this.#anchor = init.anchor;
    this.#kek = init.kek.handle;
    this.kekLabel = init.kekLabel;
    this.kekId = deriveKekId(init.kekLabel, init.kek);
  }

  /** @internal use openPkcs11KeyWrapper */
  static async open(opts: Pkcs11KeyWrapperOptions): Promise<Pkcs11KeyWrapper> {
    if (!opts.kekLabel) throw configError('PKCS#11 key wrapper needs a kekLabel');
    const pin = await readPin(opts);
    let p11: Pkcs11Js;
    try {
      p11 = (await import('pkcs11js')).default;
    } catch {
      throw configError('the PKCS#11 binding (npm package pkcs11js) is not installed or not built');
    }
    const mod = await acquireModule(p11, opts.modulePath);
    const lib = mod.lib;
    let anchor: Handle | undefined;
    let slotKey: string | undefined;
    try {
      const { slot, label } = findSlot(lib, opts);
      try {
        anchor = lib.C_OpenSession(slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
      } catch (err) {
        throw configError(`PKCS#11 C_OpenSession on token "${label}" failed: ${ckr(err)}`);
      }
      login(mod, p11, anchor, slot.toString('hex'), pin, label);
      slotKey = slot.toString('hex');
      const kek = findKek(p11, lib, anchor, opts.kekLabel, opts.createIfMissing ?? false);
      return new Pkcs11KeyWrapper({
        p11,
        modulePath: opts.modulePath,
        mod,
        slot,
        anchor,
        kek,
        kekLabel: opts.kekLabel,
      });
    } catch (err) {
      if (anchor !== undefined) closeQuietly(lib, anchor);
      if (slotKey !== undefined) releaseLogin(mod, slotKey);
      releaseModule(opts.modulePath, mod);
      throw err;
    }
  }

  #operationSession(): Handle {
    if (this.#closed) throw cryptographicFailure('PKCS#11 key wrapper is closed');
    if (this.#session === null) {
      try {
        this.#session = this.#mod.lib.C_OpenSession(this.#slot, this.#p11.CKF_SERIAL_SESSION);
      } catch (err) {
        throw p11Failure('C_OpenSession', err);
      }
    }
    return this.#session;
  }

  #dropSession(): void {
    if (this.#session !== null) closeQuietly(this.#mod.lib, this.#session);
    this.#session = null;
  }

  #gcm(iv: Buffer, uid: string) {
    return {
      mechanism: this.#p11.CKM_AES_GCM,
      parameter: {
        type: this.#p11.CK_PARAMS_AES_GCM_v240,
        iv,
        ivBits: GCM_IV * 8,
        aad: Buffer.from(uid, 'utf8'),
        tagBits: GCM_TAG * 8,
      },
    };
  }

  async wrap(plain: Buffer, uid: string): Promise<WrappedBlob> {
    // C_Encrypt rejects a zero-length input (SoftHSM: CKR_ARGUMENTS_BAD); key material is
    // never empty.
    if (plain.length === 0)
      throw cryptographicFailure(`${this.algorithm} cannot wrap empty material`);
    const session = this.#operationSession();
    const lib = this.#mod.lib;
    let step = 'C_GenerateRandom';
    try {
      const iv = lib.C_GenerateRandom(session, Buffer.alloc(GCM_IV));
      step = 'C_EncryptInit';
      lib.C_EncryptInit(session, this.#gcm(iv, uid), this.#kek);
      step = 'C_Encrypt';
      const out = lib.C_Encrypt(session, plain, Buffer.alloc(plain.length + GCM_TAG));
      if (out.length !== plain.length + GCM_TAG) {
        throw cryptographicFailure(
          `PKCS#11 C_Encrypt returned ${out.length} bytes, not ciphertext and tag`,
        );
      }
      return { kekId: this.kekId, algorithm: this.algorithm, blob: Buffer.concat([iv, out]) };
    } catch (err) {
      this.#dropSession();
      if (err instanceof KmipError) throw err;
      throw p11Failure(`${step} wrapping object ${uid}`, err);
    }
  }

  async unwrap(w: WrappedBlob, uid: string): Promise<Buffer> {
    if (w.algorithm !== this.algorithm) {
      throw cryptographicFailure(
        `material of object ${uid} is wrapped with ${w.algorithm}, not ${this.algorithm}`,
      );
    }
    if (w.kekId !== this.kekId) {
      throw cryptographicFailure(
        `material of object ${uid} is wrapped under key-encryption key ${w.kekId}, not ${this.kekId}`,
      );
    }
    const fail = () => cryptographicFailure(`material of object ${uid} failed to authenticate`);
    if (w.blob.length <= GCM_IV + GCM_TAG) throw fail();
    const session = this.#operationSession();
    const lib = this.#mod.lib;
    const iv = w.blob.subarray(0, GCM_IV);
    const out = Buffer.alloc(w.blob.length - GCM_IV);
    let step = 'C_DecryptInit';
    try {
      lib.C_DecryptInit(session, this.#gcm(Buffer.from(iv), uid), this.#kek);
      step = 'C_Decrypt';
      const plain = lib.C_Decrypt(session, w.blob.subarray(GCM_IV), out);
      return Buffer.from(plain);
    } catch (err) {
      this.#dropSession();
      const code = ckr(err);
      if (step === 'C_Decrypt' && AUTH_FAILURES.has(code)) {
        throw cryptographicFailure(`material of object ${uid} failed to authenticate (${code})`);
      }
      throw p11Failure(`${step} unwrapping object ${uid}`, err);
    } finally {
      out.fill(0);
    }
  }

  /** Closes this wrapper's sessions; the module is finalised when its last wrapper closes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dropSession();
    if (this.#anchor !== null) closeQuietly(this.#mod.lib, this.#anchor);
    this.#anchor = null;
    releaseLogin(this.#mod, this.#slotKey);
    releaseModule(this.#modulePath, this.#mod);
  }

  toJSON(): { kekId: string; algorithm: string; kekLabel: string } {
    return { kekId: this.kekId, algorithm: this.algorithm, kekLabel: this.kekLabel };
  }
}

function closeQuietly(lib: PKCS11, session: Handle): void {
  try {
    lib.C_CloseSession(session);
  } catch {
    // Already closed or the token went away; nothing is left to release.
  }
}

/** The token logs out by itself when the application's last session on it closes. */
function releaseLogin(mod: LoadedModule, slotKey: string): void {
  const state = mod.logins.get(slotKey);
  if (state && --state.refs <= 0) mod.logins.delete(slotKey);
}

/** Opens the token, logs in and finds (or creates) the key-encryption key. */
export function openPkcs11KeyWrapper(opts: Pkcs11KeyWrapperOptions): Promise<Pkcs11KeyWrapper> {
  return Pkcs11KeyWrapper.open(opts);
}
